/**
 * Every use case runs in exactly one store transaction (load, decide, write); a refusal rolls
 * all of it back, and a policy refusal is counted afterwards in one transaction more.
 */
import { describe, expect, it } from "vitest";
import { PubsubError } from "../../../component/src/domain/errors.js";
import type { CompletionContext } from "../../../component/src/domain/item-use-cases.js";
import type { PubsubStore } from "../../../component/src/domain/ports.js";
import {
  ALICE,
  BOB,
  CAROL,
  CountingStore,
  eventTypes,
  expectError,
  NODE,
  read,
  withPosts,
} from "./fixture.js";

/** A harness on a counting store, with Alice's posts `ids`; counting starts after them. */
async function counted(ids: readonly string[] = []) {
  const store = new CountingStore();
  const h = await withPosts(ids, { store });
  store.reset();
  return { ...h, store };
}

/** Everything the store holds, read through its port. */
function dump(store: PubsubStore) {
  return read(store, async (tx) => {
    const perNode: unknown[] = [];
    for (const node of await tx.listNodes()) {
      perNode.push({
        node,
        items: await tx.listItems(node, {}),
        subscriptions: await tx.listNodeSubscriptions(node),
        affiliations: await tx.listNodeAffiliations(node),
      });
    }
    return { nodes: perNode, counters: await tx.getCounters() };
  });
}

describe("a publish runs in one transaction", () => {
  it("on the node's first publish, which creates it", async () => {
    const { service, store } = await counted();
    const out = await service.publishItem(`${ALICE}/phone`, NODE, { id: "a", payload: "<e/>" });
    expect(out.result.created).toBe(true);
    expect(eventTypes(out.events)).toEqual(["node-created", "item-published"]);
    expect(store.transactions).toBe(1);
    expect(store.calls).toEqual(expect.arrayContaining(["createNode", "upsertItem"]));
    expect(await read(store.inner, (tx) => tx.listItemIds(NODE, 10))).toEqual(["a"]);
  });

  it("on an existing node, notifying a subscriber and trimming", async () => {
    const { service, store } = await counted(["a", "b"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.configureNode(ALICE, NODE, { maxItems: 2 });
    store.reset();
    const out = await service.publishItem(ALICE, NODE, { id: "c", payload: "<e/>" });
    expect(eventTypes(out.events)).toEqual(["item-published", "items-retracted"]);
    expect(store.transactions).toBe(1);
    expect(store.calls).toEqual(expect.arrayContaining(["upsertItem", "trimItems"]));
  });

  it("with a completion that sees the item a re-publication replaces", async () => {
    const { service, store } = await counted(["a"]);
    const seen: CompletionContext[] = [];
    const out = await service.publishItem(ALICE, NODE, {
      id: "a",
      payload: "<entry>edited</entry>",
      complete: (c) => {
        seen.push(c);
        return `<entry>${c.itemId} was ${c.previous?.payload}</entry>`;
      },
    });
    expect(store.transactions).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      itemId: "a",
      previous: { id: "a", payload: "<entry>a</entry>", publisher: ALICE },
    });
    expect(out.result.item.payload).toBe("<entry>a was <entry>a</entry></entry>");
    // The item replaced was read in the publish's transaction, before the new one was written.
    const previousRead = store.calls.indexOf("getItems");
    expect(previousRead).toBeGreaterThanOrEqual(0);
    expect(previousRead).toBeLessThan(store.calls.indexOf("upsertItem"));
  });

  it("with a completion on the node's first publish: no item replaced", async () => {
    const { service, store } = await counted();
    const seen: CompletionContext[] = [];
    const out = await service.publishItem(ALICE, NODE, {
      id: "a",
      payload: "<entry/>",
      complete: (c) => {
        seen.push(c);
        return "<entry>completed</entry>";
      },
    });
    expect(out.result).toMatchObject({
      created: true,
      item: { payload: "<entry>completed</entry>" },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.previous).toBeUndefined();
    expect(store.transactions).toBe(1);
  });
});

describe("a subscribe runs in one transaction", () => {
  it("a remote subscribe to a locked node: pending, its request recorded", async () => {
    const { service, store } = await counted(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    store.reset();
    const out = await service.subscribe(CAROL, NODE, { jid: CAROL });
    expect(out.result.state).toBe("pending");
    expect(eventTypes(out.events)).toEqual(["subscription-requested"]);
    expect(store.transactions).toBe(1);
    expect(store.calls).toEqual(expect.arrayContaining(["recordRequest", "putSubscription"]));
  });
});

describe("a refused request", () => {
  it("a forbidden publish by a non-owner stores nothing and is counted in one more transaction", async () => {
    const { service, store } = await counted(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const before = await dump(store.inner);
    store.reset();
    await expectError(() => service.publishItem(BOB, NODE, { id: "b", payload: "<e/>" }), {
      condition: "forbidden",
      reason: "insufficient-privileges",
    });
    expect(store.transactions).toBe(2);
    expect(store.calls).not.toContain("upsertItem");
    const after = await dump(store.inner);
    expect(after.nodes).toEqual(before.nodes);
    expect(after.counters).toEqual({
      ...before.counters,
      "refused:insufficient-privileges": 1,
    });
    expect((await service.getRefusalCounts())["insufficient-privileges"]).toBe(1);
  });

  it("a non-owner's first publish creates no node", async () => {
    const { service, store } = await counted();
    await expectError(() => service.publishItem(BOB, NODE, { id: "b", payload: "<e/>" }), {
      condition: "forbidden",
      reason: "insufficient-privileges",
    });
    expect(store.transactions).toBe(2);
    expect(await dump(store.inner)).toEqual({
      nodes: [],
      counters: { "refused:insufficient-privileges": 1 },
    });
  });

  it("a completion refusing the node's first publish rolls back the node's creation too", async () => {
    const { service, store } = await counted();
    await expectError(
      () =>
        service.publishItem(ALICE, NODE, {
          id: "a",
          payload: "<entry/>",
          complete: () => {
            throw new PubsubError("bad-request", { pubsubCondition: "invalid-payload" });
          },
        }),
      { condition: "bad-request", pubsubCondition: "invalid-payload" },
    );
    // The node was written before the completion ran, in the same transaction.
    expect(store.calls).toContain("createNode");
    // Not a policy refusal: nothing to count, so no second transaction.
    expect(store.transactions).toBe(1);
    expect(await dump(store.inner)).toEqual({ nodes: [], counters: {} });
  });
});
