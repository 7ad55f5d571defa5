/**
 * §6.5 retrieve items at the protocol edge: whatever page size a reader asks for (max_items or
 * RSM max, up to the node's max_items), the store is asked for one answer's worth of items at
 * most (and for PAGE_BYTE_BUDGET payload bytes, so it loads no payload the answer would drop),
 * and the answer's RSM set says where to go on.
 */
import { describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import type { Item, ItemQuery, ItemReadOptions } from "../../../component/src/domain/types.js";
import type { PubsubCall, PubsubDeps } from "../../../component/src/protocol/pubsub/context.js";
import {
  DEFAULT_PAGE_SIZE,
  itemsAnswer,
  PAGE_BYTE_BUDGET,
} from "../../../component/src/protocol/pubsub/items-result.js";
import { retrieveItems } from "../../../component/src/protocol/pubsub/subscriber-handlers.js";
import type { IqRequest } from "../../../component/src/protocol/router.js";
import { MemoryStore } from "../../../component/src/storage/memory/memory-store.js";
import type { PubsubRequest } from "../../../schemas/src/pubsub.js";
import { parseItemsResult } from "../../../schemas/src/pubsub-result.js";
import type { Element } from "../../../schemas/src/xml.js";
import { ALICE, BOB, type Harness, makeHarness, NODE, withPosts } from "../domain/fixture.js";

const POSTS = 250;
/** Item ids p000 (oldest) … p249 (newest). */
const ids = Array.from({ length: POSTS }, (_, i) => `p${String(i).padStart(3, "0")}`);
const newestFirst = [...ids].reverse();

/**
 * One call of a transaction's item reader: what it was asked, how many items it loaded, and
 * the UTF-8 bytes of their payloads.
 */
type Load =
  | { method: "listItems"; query: ItemQuery; loaded: number; bytes: number }
  | {
      method: "getItems";
      ids: readonly string[];
      options?: ItemReadOptions;
      loaded: number;
      bytes: number;
    };

const bytesOf = (items: readonly Item[] | undefined) =>
  (items ?? []).reduce((n, i) => n + Buffer.byteLength(i.payload, "utf8"), 0);

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
      loads.push({
        method: "listItems",
        query: { ...query },
        loaded: page?.items.length ?? 0,
        bytes: bytesOf(page?.items),
      });
      return page;
    };
    const getItems: PubsubTx["getItems"] = async (ref, wanted, options) => {
      const items = await tx.getItems(ref, wanted, options);
      loads.push({
        method: "getItems",
        ids: [...wanted],
        ...(options ? { options: { ...options } } : {}),
        loaded: items.length,
        bytes: bytesOf(items),
      });
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

/** An Atom entry of about `bytes` bytes (two-byte characters mostly), different for each id. */
function bigEntry(id: string, bytes: number): string {
  const head = `<entry xmlns='http://www.w3.org/2005/Atom'><title>${id}</title><content>`;
  const tail = "</content></entry>";
  return `${head}${"é".repeat(Math.max(0, Math.floor((bytes - head.length - tail.length) / 2)))}${tail}`;
}

/**
 * Alice's node with the posts `ids` (oldest first), or `posts` of `payloadBytes` each when
 * given.
 */
async function setup(payloadBytes?: number, posts: readonly string[] = ids) {
  const store = new ObservedStore();
  let h: Harness;
  if (payloadBytes === undefined) {
    h = await withPosts(ids, { store, defaultConfig: { maxItems: 10_000 } });
  } else {
    h = makeHarness({ store, defaultConfig: { maxItems: 10_000 } });
    for (const id of posts) {
      await h.service.publishItem(`${ALICE}/phone`, NODE, {
        id,
        payload: bigEntry(id, payloadBytes),
      });
    }
  }
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
  /** The most payload bytes any store call loaded. */
  const loadedBytes = () => Math.max(0, ...store.loads.map((l) => l.bytes));
  return { ask, listQueries, loaded, loadedBytes, loads: store.loads };
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

describe("retrieve items: the byte budget is passed to the store", () => {
  /** 60 KB posts: three fit in PAGE_BYTE_BUDGET (192 KiB), a fourth would not. */
  const BIG = 60_000;
  const perPage = Math.floor(PAGE_BYTE_BUDGET / BIG);
  /** Fewer posts than above (the memory store copies its state for every transaction). */
  const TOTAL = 32;
  const bigIds = ids.slice(0, TOTAL);
  const bigNewestFirst = [...bigIds].reverse();
  const big = () => setup(BIG, bigIds);

  it("asks the store with maxBytes and loads no more than the budget plus one item", async () => {
    const { ask, listQueries, loadedBytes, loaded } = await big();
    const answer = await ask({ itemIds: [] });
    expect(listQueries()).toEqual([{ max: DEFAULT_PAGE_SIZE, maxBytes: PAGE_BYTE_BUDGET }]);
    expect(loaded()).toBe(perPage);
    expect(loadedBytes()).toBeLessThanOrEqual(PAGE_BYTE_BUDGET + BIG);
    expect(answer.items.map((i) => i.id)).toEqual(bigNewestFirst.slice(0, perPage));
    expect(answer.rsm).toMatchObject({
      first: bigNewestFirst[0],
      firstIndex: 0,
      last: bigNewestFirst[perPage - 1],
      count: TOTAL,
    });
  });

  it("a page cut by the budget carries <last/> and <count/>, even for a small max_items", async () => {
    const { ask, listQueries } = await big();
    const answer = await ask({ itemIds: [], maxItems: 10 });
    expect(listQueries()[0]).toEqual({ max: 10, maxBytes: PAGE_BYTE_BUDGET });
    expect(answer.items.map((i) => i.id)).toEqual(bigNewestFirst.slice(0, perPage));
    expect(answer.rsm).toMatchObject({ last: bigNewestFirst[perPage - 1], count: TOTAL });
  });

  it("pages on with <after/> through every item, each page within the budget", async () => {
    const { ask, loadedBytes, loads } = await big();
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < TOTAL; page++) {
      const answer = await ask({
        itemIds: [],
        rsm: { max: 50, ...(after !== undefined ? { after } : {}) },
      });
      expect(answer.rsm?.count).toBe(TOTAL);
      expect(answer.rsm?.firstIndex).toBe(seen.length === 0 ? 0 : seen.length);
      seen.push(...answer.items.map((i) => i.id ?? ""));
      after = answer.rsm?.last;
      if (after === undefined || seen.length === TOTAL) break;
    }
    expect(seen).toEqual(bigNewestFirst);
    expect(
      loads.every((l) => l.method === "listItems" && l.query.maxBytes === PAGE_BYTE_BUDGET),
    ).toBe(true);
    expect(loadedBytes()).toBeLessThanOrEqual(PAGE_BYTE_BUDGET + BIG);
  });

  it("pages back with <before/> on <first/> through every item, skipping none", async () => {
    const { ask } = await big();
    const seen: string[] = [];
    let before = "";
    for (let page = 0; page < TOTAL; page++) {
      const answer = await ask({ itemIds: [], rsm: { max: 50, before } });
      const got = answer.items.map((i) => i.id ?? "");
      expect(got.length).toBe(Math.min(perPage, TOTAL - seen.length));
      expect(answer.rsm?.firstIndex).toBe(TOTAL - seen.length - got.length);
      seen.unshift(...got);
      before = answer.rsm?.first ?? "";
      if (seen.length === TOTAL) break;
    }
    expect(seen).toEqual(bigNewestFirst);
  });

  it("asks for items by id with maxBytes, newest first", async () => {
    const { ask, loads, loadedBytes } = await big();
    const answer = await ask({ itemIds: bigIds.slice(0, 20) });
    const byIds = loads.filter((l) => l.method === "getItems");
    expect(byIds).toHaveLength(1);
    expect(byIds[0]).toMatchObject({ options: { maxBytes: PAGE_BYTE_BUDGET }, loaded: perPage });
    expect(loadedBytes()).toBeLessThanOrEqual(PAGE_BYTE_BUDGET + BIG);
    expect(answer.items.map((i) => i.id)).toEqual(bigIds.slice(20 - perPage, 20).reverse());
  });

  it("small posts: the budget cuts nothing and the answer is as before", async () => {
    const { ask, listQueries } = await setup();
    const answer = await ask({ itemIds: [], maxItems: 20 });
    expect(listQueries()[0]).toEqual({ max: 20, maxBytes: PAGE_BYTE_BUDGET });
    expect(answer.items.map((i) => i.id)).toEqual(newestFirst.slice(0, 20));
    expect(answer.rsm).toBeUndefined();
  });
});

describe("itemsAnswer: the byte budget as a safety net (a store that ignored maxBytes)", () => {
  const BIG = 60_000;
  const perPage = Math.floor(PAGE_BYTE_BUDGET / BIG);
  /** Ten items p009 (newest) … p000, 60 KB each, as a page at index 100 of 250. */
  const items: Item[] = Array.from({ length: 10 }, (_, i) => {
    const id = `p${String(9 - i).padStart(3, "0")}`;
    return {
      id,
      payload: bigEntry(id, BIG),
      publisher: ALICE,
      createdAt: 0,
      updatedAt: 0,
      seq: 9 - i,
    };
  });
  const page = { items, count: 250, firstIndex: 100 };

  it("keeps the newest items of a forward page, <last/> where it cut", () => {
    const answer = itemsAnswer(page, { paged: true, wanted: 10 });
    expect(answer.items.map((i) => i.id)).toEqual(items.slice(0, perPage).map((i) => i.id));
    expect(answer.rsm).toEqual({
      first: items[0]?.id,
      firstIndex: 100,
      last: items[perPage - 1]?.id,
      count: 250,
    });
  });

  it("keeps the oldest items of a backward page (next to its anchor), <first/> where it cut", () => {
    const answer = itemsAnswer(page, { paged: true, wanted: 10, backward: true });
    const kept = items.slice(items.length - perPage);
    expect(answer.items.map((i) => i.id)).toEqual(kept.map((i) => i.id));
    expect(answer.rsm).toEqual({
      first: kept[0]?.id,
      firstIndex: 100 + items.length - perPage,
      last: items[items.length - 1]?.id,
      count: 250,
    });
  });

  it("adds the RSM set to an unpaged answer it cut, and to no answer it did not", () => {
    expect(itemsAnswer(page, { paged: false, wanted: 10 }).rsm).toMatchObject({ count: 250 });
    const small = { items: items.slice(0, 2), count: 2, firstIndex: 0 };
    expect(itemsAnswer(small, { paged: false, wanted: 10 }).rsm).toBeUndefined();
    expect(itemsAnswer(small, { paged: false }).rsm).toBeUndefined();
  });
});
