/**
 * §6.5 retrieve items at the protocol edge: whatever page size a reader asks for (max_items or
 * RSM max, up to the node's max_items), the store is asked for one answer's worth of items at
 * most, and the answer's RSM set says where to go on.
 */
import { describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import type { ItemQuery } from "../../../component/src/domain/types.js";
import type { PubsubCall, PubsubDeps } from "../../../component/src/protocol/pubsub/context.js";
import { DEFAULT_PAGE_SIZE } from "../../../component/src/protocol/pubsub/items-result.js";
import { retrieveItems } from "../../../component/src/protocol/pubsub/subscriber-handlers.js";
import type { IqRequest } from "../../../component/src/protocol/router.js";
import { MemoryStore } from "../../../component/src/storage/memory/memory-store.js";
import type { PubsubRequest } from "../../../schemas/src/pubsub.js";
import { parseItemsResult } from "../../../schemas/src/pubsub-result.js";
import type { Element } from "../../../schemas/src/xml.js";
import { ALICE, BOB, NODE, withPosts } from "../domain/fixture.js";

const POSTS = 250;
/** Item ids p000 (oldest) … p249 (newest). */
const ids = Array.from({ length: POSTS }, (_, i) => `p${String(i).padStart(3, "0")}`);
const newestFirst = [...ids].reverse();

/** One call of a transaction's item reader: what it was asked, and how many items it loaded. */
type Load =
  | { method: "listItems"; query: ItemQuery; loaded: number }
  | { method: "getItems"; ids: readonly string[]; loaded: number };

/**
 * A MemoryStore whose transactions record every `listItems` and `getItems` call (the two that
 * load items with their payloads) with the number of items it answered.
 */
class ObservedStore implements PubsubStore {
  readonly loads: Load[] = [];
  private readonly inner = new MemoryStore();

  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(this.observe(tx)));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private observe(tx: PubsubTx): PubsubTx {
    const loads = this.loads;
    const listItems: PubsubTx["listItems"] = async (ref, query) => {
      const page = await tx.listItems(ref, query);
      loads.push({ method: "listItems", query: { ...query }, loaded: page?.items.length ?? 0 });
      return page;
    };
    const getItems: PubsubTx["getItems"] = async (ref, wanted) => {
      const items = await tx.getItems(ref, wanted);
      loads.push({ method: "getItems", ids: [...wanted], loaded: items.length });
      return items;
    };
    return new Proxy(tx, {
      get: (target, prop) => {
        if (prop === "listItems") return listItems;
        if (prop === "getItems") return getItems;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}

async function setup() {
  const store = new ObservedStore();
  const h = await withPosts(ids, { store, defaultConfig: { maxItems: 10_000 } });
  store.loads.length = 0; // only what the requests below load
  const call: PubsubCall = {
    req: {} as IqRequest,
    actor: `${BOB}/phone`,
    serviceJid: NODE.service,
    owner: ALICE,
  };
  const deps = { service: h.service } as unknown as PubsubDeps;
  const ask = async (request: Omit<Extract<PubsubRequest, { kind: "items" }>, "kind" | "node">) =>
    parseItemsResult(
      (await retrieveItems(call, { kind: "items", node: NODE.node, ...request }, deps)) as Element,
    );
  /** The queries of the listItems calls so far. */
  const listQueries = () => store.loads.flatMap((l) => (l.method === "listItems" ? [l.query] : []));
  /** The most items any store call loaded with their payloads (0 when none was made). */
  const loaded = () => Math.max(0, ...store.loads.map((l) => l.loaded));
  return { ask, listQueries, loaded, loads: store.loads };
}

describe("retrieve items: the page size is clamped before the store is asked", () => {
  it("max_items='10000' loads one page, answers the newest with <last/> and <count/>", async () => {
    const { ask, listQueries, loaded } = await setup();
    const answer = await ask({ itemIds: [], maxItems: 10_000 });
    expect(listQueries().length).toBeGreaterThan(0);
    expect(listQueries().every((q) => (q.max ?? Infinity) <= DEFAULT_PAGE_SIZE)).toBe(true);
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(answer.items.map((i) => i.id)).toEqual(newestFirst.slice(0, DEFAULT_PAGE_SIZE));
    expect(answer.rsm).toMatchObject({
      first: newestFirst[0],
      last: newestFirst[DEFAULT_PAGE_SIZE - 1],
      count: POSTS,
    });
  });

  it("RSM max='10000' is paged on with <after/> until the oldest item", async () => {
    const { ask, loaded, loads } = await setup();
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = await ask({
        itemIds: [],
        rsm: { max: 10_000, ...(after !== undefined ? { after } : {}) },
      });
      expect(answer.rsm?.count).toBe(POSTS);
      seen.push(...answer.items.map((i) => i.id ?? ""));
      after = answer.rsm?.last;
      if (after === undefined) break;
    }
    expect(loads.length).toBeGreaterThan(0);
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(seen).toEqual(newestFirst);
  });

  it("a small max is kept as asked", async () => {
    const { ask, listQueries } = await setup();
    const answer = await ask({ itemIds: [], rsm: { max: 5 } });
    expect(listQueries()[0]?.max).toBe(5);
    expect(answer.items.map((i) => i.id)).toEqual(newestFirst.slice(0, 5));
    expect(answer.rsm).toMatchObject({ last: newestFirst[4], count: POSTS });
  });

  it("a request by ids loads at most one page of them", async () => {
    const { ask, loaded, loads } = await setup();
    const answer = await ask({ itemIds: ids });
    expect(loads.some((l) => l.method === "getItems")).toBe(true);
    expect(loaded()).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
    expect(answer.items.length).toBeLessThanOrEqual(DEFAULT_PAGE_SIZE);
  });
});
