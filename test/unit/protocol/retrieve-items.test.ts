/**
 * §6.5 retrieve items at the protocol edge: whatever page size a reader asks for (max_items or
 * RSM max, up to the node's max_items), the store is asked for one answer's worth of items at
 * most, and the answer's RSM set says where to go on.
 */
import { describe, expect, it, vi } from "vitest";
import type { PubsubCall, PubsubDeps } from "../../../component/src/protocol/pubsub/context.js";
import { DEFAULT_PAGE_SIZE } from "../../../component/src/protocol/pubsub/items-result.js";
import { retrieveItems } from "../../../component/src/protocol/pubsub/subscriber-handlers.js";
import type { IqRequest } from "../../../component/src/protocol/router.js";
import type { PubsubRequest } from "../../../schemas/src/pubsub.js";
import { parseItemsResult } from "../../../schemas/src/pubsub-result.js";
import type { Element } from "../../../schemas/src/xml.js";
import { ALICE, BOB, NODE, withPosts } from "../domain/fixture.js";

const POSTS = 250;
/** Item ids p000 (oldest) … p249 (newest). */
const ids = Array.from({ length: POSTS }, (_, i) => `p${String(i).padStart(3, "0")}`);
const newestFirst = [...ids].reverse();

function setup() {
  const h = withPosts(ids, { defaultConfig: { maxItems: 10_000 } });
  const listItems = vi.spyOn(h.store, "listItems");
  const getItems = vi.spyOn(h.store, "getItems");
  const call: PubsubCall = {
    req: {} as IqRequest,
    actor: `${BOB}/phone`,
    serviceJid: NODE.service,
    owner: ALICE,
  };
  const deps = { service: h.service } as unknown as PubsubDeps;
  const ask = (request: Omit<Extract<PubsubRequest, { kind: "items" }>, "kind" | "node">) =>
    parseItemsResult(
      retrieveItems(call, { kind: "items", node: NODE.node, ...request }, deps) as Element,
    );
  /** The most items any store call loaded with their payloads. */
  const loaded = () =>
    Math.max(
      0,
      ...listItems.mock.results.map((r) => (r.value as { items: unknown[] }).items.length),
      ...getItems.mock.results.map((r) => (r.value as unknown[]).length),
    );
  return { ask, listItems, loaded };
}

describe("retrieve items: the page size is clamped before the store is asked", () => {
  it("max_items='10000' loads one page, answers the newest with <last/> and <count/>", () => {
    const { ask, listItems, loaded } = setup();
    const answer = ask({ itemIds: [], maxItems: 10_000 });
    expect(listItems.mock.calls.every(([, q]) => (q.max ?? Infinity) <= DEFAULT_PAGE_SIZE)).toBe(
      true,
    );
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(answer.items.map((i) => i.id)).toEqual(newestFirst.slice(0, DEFAULT_PAGE_SIZE));
    expect(answer.rsm).toMatchObject({
      first: newestFirst[0],
      last: newestFirst[DEFAULT_PAGE_SIZE - 1],
      count: POSTS,
    });
  });

  it("RSM max='10000' is paged on with <after/> until the oldest item", () => {
    const { ask, loaded } = setup();
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = ask({
        itemIds: [],
        rsm: { max: 10_000, ...(after !== undefined ? { after } : {}) },
      });
      expect(answer.rsm?.count).toBe(POSTS);
      seen.push(...answer.items.map((i) => i.id ?? ""));
      after = answer.rsm?.last;
      if (after === undefined) break;
    }
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(seen).toEqual(newestFirst);
  });

  it("a small max is kept as asked", () => {
    const { ask, listItems } = setup();
    const answer = ask({ itemIds: [], rsm: { max: 5 } });
    expect(listItems.mock.calls[0]?.[1].max).toBe(5);
    expect(answer.items.map((i) => i.id)).toEqual(newestFirst.slice(0, 5));
    expect(answer.rsm).toMatchObject({ last: newestFirst[4], count: POSTS });
  });

  it("a request by ids loads at most one page of them", () => {
    const { ask, loaded } = setup();
    const answer = ask({ itemIds: ids });
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(answer.items.length).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
  });
});
