import { describe, expect, it } from "vitest";
import { PubsubService } from "../../../component/src/domain/pubsub-service.js";
import { FANOUT_PAGE } from "../../../component/src/domain/service-context.js";
import { MemoryStore } from "../../../component/src/storage/memory/memory-store.js";
import {
  ALICE,
  BOB,
  CAROL,
  CountingStore,
  DAVE,
  EVE,
  eventTypes,
  expectError,
  makeHarness,
  NODE,
  ofType,
  ownerOf,
  read,
  USERS,
  withPosts,
} from "./fixture.js";

describe("publishItem", () => {
  it("creates the node on the owner's first publish, with the default configuration", async () => {
    const { service } = makeHarness();
    const out = await service.publishItem(`${ALICE}/phone`, NODE, {
      id: "p1",
      payload: "<entry/>",
    });
    expect(out.result.created).toBe(true);
    expect(out.result.item).toMatchObject({ id: "p1", payload: "<entry/>", publisher: ALICE });
    expect(eventTypes(out.events)).toEqual(["node-created", "item-published"]);
    const config = (await service.getNodeConfig(ALICE, NODE)).result;
    expect(config).toMatchObject({
      accessModel: "open",
      maxItems: 1000,
      title: "alice's microblog",
    });
    expect(
      (await service.publishItem(ALICE, NODE, { id: "p2", payload: "<entry/>" })).result.created,
    ).toBe(false);
  });

  it("generates sortable ids when the publisher gives none", async () => {
    const h = makeHarness();
    const first = (await h.service.publishItem(ALICE, NODE, { payload: "<entry/>" })).result.item
      .id;
    const second = (await h.service.publishItem(ALICE, NODE, { payload: "<entry/>" })).result.item
      .id;
    h.clock.now += 1;
    const third = (await h.service.publishItem(ALICE, NODE, { id: "", payload: "<entry/>" })).result
      .item.id;
    expect(first).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([first, second, third]).toEqual([first, second, third].sort());
    expect(new Set([first, second, third]).size).toBe(3);
  });

  it("replaces an item re-published with the same id and notifies again", async () => {
    const { service } = await withPosts(["a", "b"]);
    const out = await service.publishItem(ALICE, NODE, {
      id: "a",
      payload: "<entry>edited</entry>",
    });
    expect(eventTypes(out.events)).toEqual(["item-published"]);
    const items = (await service.getItems(BOB, NODE)).result.items;
    expect(items.map((i) => [i.id, i.payload])).toEqual([
      ["a", "<entry>edited</entry>"],
      ["b", "<entry>b</entry>"],
    ]);
  });

  it("refuses a non-owner with forbidden, on an existing and on a missing node", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.publishItem(BOB, NODE, { payload: "<entry/>" }), {
      condition: "forbidden",
    });
    const bobs = { ...NODE, service: "bob@mb.example.org" };
    await expectError(() => service.publishItem(ALICE, bobs, { payload: "<entry/>" }), {
      condition: "forbidden",
    });
    await expectError(() => service.getItems(ALICE, bobs), { condition: "item-not-found" });
  });

  it("answers item-not-found at a service that belongs to nobody", async () => {
    const { service } = makeHarness();
    const nobody = { ...NODE, service: "x@elsewhere.example" };
    await expectError(
      () => service.publishItem("x@elsewhere.example", nobody, { payload: "<e/>" }),
      {
        condition: "item-not-found",
      },
    );
  });

  it("lets publishers and publish-only entities publish", async () => {
    const { service } = await withPosts(["a"]);
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: BOB, affiliation: "publisher" },
      { entity: DAVE, affiliation: "publish-only" },
    ]);
    expect(
      (await service.publishItem(BOB, NODE, { id: "b", payload: "<e/>" })).result.item.publisher,
    ).toBe(BOB);
    expect(
      (await service.publishItem(`${DAVE}/x`, NODE, { id: "c", payload: "<e/>" })).result.item
        .publisher,
    ).toBe(DAVE);
  });

  it("notifies only subscriptions in state subscribed, not pending or banned ones", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.subscribe(`${CAROL}/desk`, NODE, { jid: `${CAROL}/desk` });
    await service.subscribe(EVE, NODE, { jid: EVE });
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.subscribe("dave@remote.example", NODE, { jid: "dave@remote.example" });
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    const out = await service.publishItem(ALICE, NODE, { id: "b", payload: "<e/>" });
    const published = ofType(out.events, "item-published")[0];
    expect(published?.recipients.map((r) => r.jid)).toEqual([BOB, `${CAROL}/desk`]);
    expect(published).toMatchObject({ deliverPayloads: true, includeBody: true });
  });

  it("gives a large node's recipients a page at a time, read when the fan-out gets there", async () => {
    const h = await withPosts(["a"]);
    const total = FANOUT_PAGE * 2 + 5;
    const jid = (i: number) => `r${String(i).padStart(5, "0")}@${USERS}`;
    // Straight into the store: as many subscriptions through the use case would take seconds.
    await h.store.transaction(async (tx) => {
      for (let i = 0; i < total; i++) {
        const at = h.clock.now + i;
        await tx.putSubscription({
          ...NODE,
          jid: jid(i),
          subid: `s${i}`,
          state: "subscribed",
          createdAt: at,
        });
      }
    });
    const out = await h.service.publishItem(ALICE, NODE, { id: "b", payload: "<e/>" });
    const first = ofType(out.events, "item-published")[0];
    expect(first?.recipients).toHaveLength(FANOUT_PAGE);
    expect(first?.more).toBeDefined();
    // Meanwhile one of the later ones leaves: the page read after it does not name it.
    await h.service.unsubscribe(jid(FANOUT_PAGE + 3), NODE, { jid: jid(FANOUT_PAGE + 3) });
    const seen = [...(first?.recipients ?? [])].map((r) => r.jid);
    let cursor = first?.more;
    let pages = 1;
    while (cursor) {
      const page = await h.service.moreRecipients(NODE, cursor);
      seen.push(...page.recipients.map((r) => r.jid));
      cursor = page.next;
      pages++;
    }
    expect(pages).toBe(3);
    const expected = Array.from({ length: total }, (_, i) => jid(i)).filter(
      (j) => j !== jid(FANOUT_PAGE + 3),
    );
    expect(seen).toEqual(expected);
    // A node deleted meanwhile has nobody left to notify.
    await h.service.deleteNode(ALICE, NODE);
    expect((await h.service.moreRecipients(NODE, first?.more ?? cursor!)).recipients).toEqual([]);
  });
});

describe("notification recipients under a changed operator policy", () => {
  it("leaves out subscribers whose domain the operator denied after they subscribed", async () => {
    const { store } = await withPosts(["a"]);
    const before = new PubsubService({ store, ownerOf, policy: { usersDomains: ["example.org"] } });
    await before.subscribe(BOB, NODE, { jid: BOB });
    await before.subscribe(EVE, NODE, { jid: EVE });
    const after = new PubsubService({
      store,
      ownerOf,
      policy: { usersDomains: ["example.org"], deniedDomains: ["rogue.example"] },
    });
    const out = await after.publishItem(ALICE, NODE, { id: "b", payload: "<e/>" });
    expect(ofType(out.events, "item-published")[0]?.recipients.map((r) => r.jid)).toEqual([BOB]);
  });
});

describe("publish-options preconditions", () => {
  it("refuses with conflict + precondition-not-met when the node's value differs, storing nothing", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(
      () =>
        service.publishItem(ALICE, NODE, {
          id: "b",
          payload: "<e/>",
          preconditions: { accessModel: "whitelist" },
        }),
      {
        condition: "conflict",
        pubsubCondition: "precondition-not-met",
      },
    );
    expect((await service.getItems(ALICE, NODE)).result.count).toBe(1);
  });

  it("publishes when every precondition is met", async () => {
    const { service } = await withPosts(["a"]);
    const out = await service.publishItem(ALICE, NODE, {
      id: "b",
      payload: "<e/>",
      preconditions: { accessModel: "open", maxItems: 1000 },
    });
    expect(out.result.item.id).toBe("b");
  });

  it("applies the preconditions to a node it creates", async () => {
    const { service } = makeHarness();
    await service.publishItem(ALICE, NODE, {
      id: "a",
      payload: "<e/>",
      preconditions: { accessModel: "whitelist", maxItems: 5 },
    });
    expect((await service.getNodeConfig(ALICE, NODE)).result).toMatchObject({
      accessModel: "whitelist",
      maxItems: 5,
    });
  });

  it("refuses invalid precondition values when creating", async () => {
    const { service } = makeHarness();
    await expectError(
      () => service.publishItem(ALICE, NODE, { payload: "<e/>", preconditions: { maxItems: 0 } }),
      { condition: "not-acceptable" },
    );
    await expectError(() => service.getNodeSubscriptions(ALICE, NODE), {
      condition: "item-not-found",
    });
  });
});

describe("max_items", () => {
  it("drops the oldest items beyond max_items and notifies their retraction", async () => {
    const { service } = await withPosts(["a", "b"]);
    await service.configureNode(ALICE, NODE, { maxItems: 2 });
    const out = await service.publishItem(ALICE, NODE, { id: "c", payload: "<e/>" });
    expect(eventTypes(out.events)).toEqual(["item-published", "items-retracted"]);
    expect(ofType(out.events, "items-retracted")[0]).toMatchObject({
      itemIds: ["a"],
      cause: "trim",
    });
    expect((await service.getItems(ALICE, NODE)).result.items.map((i) => i.id)).toEqual(["c", "b"]);
  });

  it("trims silently when notify_retract is off", async () => {
    const { service } = await withPosts(["a", "b"]);
    await service.configureNode(ALICE, NODE, { maxItems: 2, notifyRetract: false });
    expect(
      eventTypes((await service.publishItem(ALICE, NODE, { id: "c", payload: "<e/>" })).events),
    ).toEqual(["item-published"]);
    expect((await service.getItems(ALICE, NODE)).result.count).toBe(2);
  });

  it("caps max_items at the configured ceiling", async () => {
    const { service } = makeHarness({ maxItemsCeiling: 50 });
    await expectError(() => service.configureNode(ALICE, NODE, { maxItems: 51 }), {
      condition: "not-acceptable",
    });
    expect((await service.configureNode(ALICE, NODE, { maxItems: 50 })).result.maxItems).toBe(50);
  });
});

describe("atomicity", () => {
  it("stores nothing when any step of the publish fails", async () => {
    const memory = new MemoryStore();
    const store = new CountingStore(memory, {
      trimItems: async () => {
        throw new Error("disk full");
      },
    });
    const service = new PubsubService({ store, ownerOf });
    await expect(service.publishItem(ALICE, NODE, { id: "a", payload: "<e/>" })).rejects.toThrow(
      "disk full",
    );
    expect(await read(memory, (tx) => tx.getNode(NODE))).toBeUndefined();
    expect(await read(memory, (tx) => tx.countItems(NODE))).toBe(0);
  });
});
