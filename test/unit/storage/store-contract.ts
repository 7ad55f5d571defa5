/**
 * The one storage contract (after Idavoll's StorageTests): every PubsubStore adapter runs it.
 * Usage: describeStoreContract("sqlite", () => new SqliteStore(openDatabase(":memory:"))).
 * Each case works through `store.transaction`; the transaction cases are in
 * store-contract-transactions.ts, those of follows, timelines, settings and the outbox in
 * store-contract-timeline.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import { defaultNodeConfig, type Subscription } from "../../../component/src/domain/types.js";
import { describeTimelineContract } from "./store-contract-timeline.js";
import { describeTransactions, type StoreContractOptions } from "./store-contract-transactions.js";
import { ids, OTHER, publish, REF, seedNode, sub } from "./store-fixtures.js";

export * from "./store-fixtures.js";
export type { StoreContractOptions };

/** Run `fn` in a transaction of the store under test. */
export type Run = <T>(fn: (tx: PubsubTx) => Promise<T>) => Promise<T>;

export function describeStoreContract(
  name: string,
  makeStore: () => PubsubStore | Promise<PubsubStore>,
  options: StoreContractOptions = { serialises: true },
): void {
  describe(`PubsubStore contract: ${name}`, () => {
    let store: PubsubStore;
    beforeEach(async () => {
      store = await makeStore();
      await store.transaction((tx) => seedNode(tx));
    });
    afterEach(() => store.close());
    const run: Run = (fn) => store.transaction(fn);
    describeNodes(run);
    describeItems(run);
    describeItemRemoval(run);
    describePaging(run);
    describeByteBudget(run);
    describeSubscriptions(run);
    describeSubscriptionQueries(run);
    describeAffiliations(run);
    describeCountersAndRequests(run);
    describeTransactions(() => store, options);
    describeTimelineContract(() => store);
  });
}

function describeNodes(run: Run): void {
  describe("nodes", () => {
    it("creates, reads and updates a node's config", async () => {
      expect(await run((tx) => tx.getNode(REF))).toEqual({
        ...REF,
        owner: "alice@example",
        config: defaultNodeConfig("alice@example"),
        createdAt: 1,
      });
      await run((tx) =>
        tx.updateNodeConfig(REF, {
          ...defaultNodeConfig("alice@example"),
          accessModel: "authorize",
          maxItems: 7,
        }),
      );
      expect((await run((tx) => tx.getNode(REF)))?.config).toMatchObject({
        accessModel: "authorize",
        maxItems: 7,
      });
      expect(await run((tx) => tx.getNode(OTHER))).toBeUndefined();
    });
    it("lists a service's nodes by name", async () => {
      await run(async (tx) => {
        await seedNode(tx, OTHER);
        await seedNode(tx, { service: "bob@mb.example", node: "x" });
      });
      const names = await run(async (tx) =>
        (await tx.listNodes("alice@mb.example")).map((n) => n.node),
      );
      expect(names).toEqual(["other", "urn:xmpp:microblog:0"]);
      const all = await run(async (tx) =>
        (await tx.listNodes()).map((n) => `${n.service} ${n.node}`),
      );
      expect(all).toEqual([
        "alice@mb.example other",
        "alice@mb.example urn:xmpp:microblog:0",
        "bob@mb.example x",
      ]);
    });
    it("deletes a node with its items, subscriptions and affiliations", async () => {
      await run(async (tx) => {
        await publish(tx, "a");
        await tx.putSubscription(sub("bob@example"));
        await tx.setAffiliation(REF, "eve@rogue.example", "outcast");
      });
      await run((tx) => tx.deleteNode(REF));
      expect(await run((tx) => tx.getNode(REF))).toBeUndefined();
      await run((tx) => seedNode(tx));
      await run(async (tx) => {
        expect(await tx.countItems(REF)).toBe(0);
        expect(await tx.listNodeSubscriptions(REF)).toEqual([]);
        expect(await tx.listNodeAffiliations(REF)).toEqual([]);
      });
    });
  });
}

function describeItems(run: Run): void {
  describe("items", () => {
    it("gives each stored item a higher seq than the one before", async () => {
      const a = await run((tx) => publish(tx, "a"));
      const b = await run((tx) => publish(tx, "b"));
      expect(b.seq).toBeGreaterThan(a.seq);
      expect((await run((tx) => tx.getLastItem(REF)))?.id).toBe("b");
      expect(await run((tx) => tx.countItems(REF))).toBe(2);
    });
    it("replaces an item by id: new payload, newest, original createdAt", async () => {
      await run(async (tx) => {
        await publish(tx, "a", REF, 10);
        await publish(tx, "b", REF, 20);
      });
      const again = await run((tx) =>
        tx.upsertItem(REF, {
          id: "a",
          payload: "<p>new</p>",
          publisher: "alice@example",
          createdAt: 30,
          updatedAt: 30,
        }),
      );
      expect(again).toMatchObject({ id: "a", payload: "<p>new</p>", createdAt: 10, updatedAt: 30 });
      expect(await run((tx) => tx.getLastItem(REF))).toEqual(again);
      expect(await run((tx) => tx.countItems(REF))).toBe(2);
    });
    it("reads items by id, newest first, skipping unknown ids", async () => {
      await run(async (tx) => {
        for (const id of ["a", "b", "c"]) await publish(tx, id);
      });
      expect(ids(await run((tx) => tx.getItems(REF, ["a", "zz", "c"])))).toEqual(["c", "a"]);
      expect(await run((tx) => tx.getItems(REF, []))).toEqual([]);
    });
    it("keeps nodes apart", async () => {
      await run(async (tx) => {
        await seedNode(tx, OTHER);
        await publish(tx, "a");
        await publish(tx, "a", OTHER);
      });
      expect(await run((tx) => tx.deleteItems(OTHER, ["a"]))).toEqual(["a"]);
      expect(ids(await run((tx) => tx.getItems(REF, ["a"])))).toEqual(["a"]);
    });
  });
}

function describeItemRemoval(run: Run): void {
  describe("item removal", () => {
    it("deletes items, returning the ids that existed", async () => {
      await run((tx) => publish(tx, "a"));
      expect(await run((tx) => tx.deleteItems(REF, ["a", "nope"]))).toEqual(["a"]);
      expect(await run((tx) => tx.countItems(REF))).toBe(0);
    });
    it("trims to the newest N, returning the removed ids oldest first", async () => {
      await run(async (tx) => {
        for (const id of ["a", "b", "c", "d"]) await publish(tx, id);
      });
      expect(await run((tx) => tx.trimItems(REF, 2))).toEqual(["a", "b"]);
      expect(await run((tx) => tx.trimItems(REF, 2))).toEqual([]);
      expect(ids((await run((tx) => tx.listItems(REF, {})))?.items)).toEqual(["d", "c"]);
    });
    it("purges all items and says how many", async () => {
      await run(async (tx) => {
        await publish(tx, "a");
        await publish(tx, "b");
      });
      expect(await run((tx) => tx.purgeItems(REF))).toBe(2);
      expect(await run((tx) => tx.getLastItem(REF))).toBeUndefined();
    });
  });
}

function describePaging(run: Run): void {
  describe("paging newest first (XEP-0059)", () => {
    beforeEach(() =>
      run(async (tx) => {
        for (const id of ["i1", "i2", "i3", "i4", "i5"]) await publish(tx, id);
      }),
    );
    const page = (q: Parameters<PubsubTx["listItems"]>[1]) => run((tx) => tx.listItems(REF, q));
    it("returns everything newest first with the count", async () => {
      expect(await page({})).toMatchObject({ count: 5, firstIndex: 0 });
      expect(ids((await page({}))?.items)).toEqual(["i5", "i4", "i3", "i2", "i1"]);
    });
    it("pages forward with max and after", async () => {
      expect(ids((await page({ max: 2 }))?.items)).toEqual(["i5", "i4"]);
      const second = await page({ max: 2, after: "i4" });
      expect(ids(second?.items)).toEqual(["i3", "i2"]);
      expect(second).toMatchObject({ count: 5, firstIndex: 2 });
      expect(ids((await page({ max: 2, after: "i2" }))?.items)).toEqual(["i1"]);
      expect(await page({ max: 2, after: "i1" })).toEqual({ items: [], count: 5 });
    });
    it("pages backward with before: the items just newer than the anchor", async () => {
      const back = await page({ max: 2, before: "i2" });
      expect(ids(back?.items)).toEqual(["i4", "i3"]);
      expect(back?.firstIndex).toBe(1);
      expect(ids((await page({ max: 9, before: "i4" }))?.items)).toEqual(["i5"]);
    });
    it("gives the last page (oldest items) for an empty before", async () => {
      const last = await page({ max: 2, before: "" });
      expect(ids(last?.items)).toEqual(["i2", "i1"]);
      expect(last).toMatchObject({ count: 5, firstIndex: 3 });
    });
    it("answers undefined for an unknown anchor", async () => {
      expect(await page({ after: "nope" })).toBeUndefined();
      expect(await page({ before: "nope" })).toBeUndefined();
    });
    it("answers max 0 with the count only", async () => {
      expect(await page({ max: 0 })).toEqual({ items: [], count: 5 });
    });
    it("lists only the ids of the newest items, without payloads", async () => {
      const idsOf = (max: number, ref = REF) => run((tx) => tx.listItemIds(ref, max));
      expect(await idsOf(3)).toEqual(["i5", "i4", "i3"]);
      expect(await idsOf(99)).toEqual(["i5", "i4", "i3", "i2", "i1"]);
      expect(await idsOf(0)).toEqual([]);
      await run((tx) => publish(tx, "i2"));
      expect(await idsOf(2)).toEqual(["i2", "i5"]);
      expect(await idsOf(9, OTHER)).toEqual([]);
    });
  });
}

/**
 * A payload of exactly `bytes` UTF-8 bytes, mostly two-byte characters (so that a store
 * counting characters instead of bytes answers a different page).
 */
function sized(bytes: number): string {
  const wrap = "<p></p>".length;
  const wide = Math.floor((bytes - wrap) / 2);
  const payload = `<p>${"é".repeat(wide)}${"x".repeat(bytes - wrap - 2 * wide)}</p>`;
  expect(Buffer.byteLength(payload, "utf8")).toBe(bytes);
  return payload;
}

function describeByteBudget(run: Run): void {
  describe("paging within a byte budget (maxBytes)", () => {
    /** i1 (oldest) … i5 (newest), 100 bytes each; i6, 500 bytes, only where a case adds it. */
    beforeEach(() =>
      run(async (tx) => {
        for (const id of ["i1", "i2", "i3", "i4", "i5"]) {
          await tx.upsertItem(REF, {
            id,
            payload: sized(100),
            publisher: "alice@example",
            createdAt: 10,
            updatedAt: 10,
          });
        }
      }),
    );
    const page = (q: Parameters<PubsubTx["listItems"]>[1]) => run((tx) => tx.listItems(REF, q));
    const publishBig = () =>
      run((tx) =>
        tx.upsertItem(REF, {
          id: "i6",
          payload: sized(500),
          publisher: "alice@example",
          createdAt: 20,
          updatedAt: 20,
        }),
      );

    it("cuts the page before the item that would go over, with count and firstIndex", async () => {
      const cut = await page({ maxBytes: 250 });
      expect(ids(cut?.items)).toEqual(["i5", "i4"]);
      expect(cut).toMatchObject({ count: 5, firstIndex: 0 });
      expect(cut?.items[0]?.payload).toBe(sized(100));
      expect(ids((await page({ max: 1, maxBytes: 1000 }))?.items)).toEqual(["i5"]);
      expect(ids((await page({ maxBytes: 10_000 }))?.items)).toEqual([
        "i5",
        "i4",
        "i3",
        "i2",
        "i1",
      ]);
    });
    it("keeps an item that ends exactly at the budget, not one byte more", async () => {
      expect(ids((await page({ maxBytes: 300 }))?.items)).toEqual(["i5", "i4", "i3"]);
      expect(ids((await page({ maxBytes: 299 }))?.items)).toEqual(["i5", "i4"]);
      expect(ids((await page({ maxBytes: 100 }))?.items)).toEqual(["i5"]);
    });
    it("answers one item at least, even one over the budget alone", async () => {
      expect(ids((await page({ maxBytes: 50 }))?.items)).toEqual(["i5"]);
      expect(ids((await page({ maxBytes: 0 }))?.items)).toEqual(["i5"]);
      await publishBig();
      const big = await page({ maxBytes: 250 });
      expect(ids(big?.items)).toEqual(["i6"]);
      expect(big).toMatchObject({ count: 6, firstIndex: 0 });
      // The next page goes on after it, within the budget again.
      expect(ids((await page({ after: "i6", maxBytes: 250 }))?.items)).toEqual(["i5", "i4"]);
    });
    it("pages forward with after: the cut drops the older end, the next page starts there", async () => {
      const second = await page({ max: 3, after: "i4", maxBytes: 250 });
      expect(ids(second?.items)).toEqual(["i3", "i2"]);
      expect(second).toMatchObject({ count: 5, firstIndex: 2 });
      expect(ids((await page({ max: 3, after: "i2", maxBytes: 250 }))?.items)).toEqual(["i1"]);
      expect(await page({ after: "i1", maxBytes: 250 })).toEqual({ items: [], count: 5 });
      expect(await page({ after: "nope", maxBytes: 250 })).toBeUndefined();
    });
    it("pages backward with before: the cut keeps the items next to the anchor", async () => {
      const back = await page({ max: 3, before: "i1", maxBytes: 250 });
      expect(ids(back?.items)).toEqual(["i3", "i2"]);
      expect(back).toMatchObject({ count: 5, firstIndex: 2 });
      const newer = await page({ max: 3, before: "i3", maxBytes: 250 });
      expect(ids(newer?.items)).toEqual(["i5", "i4"]);
      expect(newer?.firstIndex).toBe(0);
      const last = await page({ max: 9, before: "", maxBytes: 250 });
      expect(ids(last?.items)).toEqual(["i2", "i1"]);
      expect(last).toMatchObject({ count: 5, firstIndex: 3 });
      expect(ids((await page({ before: "i4", maxBytes: 0 }))?.items)).toEqual(["i5"]);
      expect(await page({ before: "nope", maxBytes: 250 })).toBeUndefined();
    });
    it("answers max 0 with the count only, whatever the budget", async () => {
      expect(await page({ max: 0, maxBytes: 1000 })).toEqual({ items: [], count: 5 });
    });
    it("reads items by id within the budget, newest first", async () => {
      const byIds = (wanted: string[], maxBytes?: number) =>
        run(async (tx) =>
          ids(await tx.getItems(REF, wanted, maxBytes === undefined ? {} : { maxBytes })),
        );
      const wanted = ["i1", "zz", "i3", "i5"];
      expect(await byIds(wanted)).toEqual(["i5", "i3", "i1"]);
      expect(await byIds(wanted, 250)).toEqual(["i5", "i3"]);
      expect(await byIds(wanted, 300)).toEqual(["i5", "i3", "i1"]);
      expect(await byIds(wanted, 0)).toEqual(["i5"]);
      expect(await byIds(["zz"], 250)).toEqual([]);
      expect(await byIds([], 250)).toEqual([]);
      await publishBig();
      expect(await byIds(["i6", "i5"], 250)).toEqual(["i6"]);
      expect(await byIds(["i4", "i5"], 250)).toEqual(["i5", "i4"]);
    });
  });
}

function describeSubscriptions(run: Run): void {
  describe("subscriptions", () => {
    it("stores, replaces and deletes a subscription per (node, jid)", async () => {
      const options = { "pubsub#digest": "0" };
      await run((tx) => tx.putSubscription({ ...sub("bob@example/phone", "pending"), options }));
      expect(await run((tx) => tx.getSubscription(REF, "bob@example/phone"))).toEqual({
        ...sub("bob@example/phone", "pending"),
        options,
      });
      await run((tx) => tx.putSubscription(sub("bob@example/phone", "subscribed")));
      expect((await run((tx) => tx.getSubscription(REF, "bob@example/phone")))?.state).toBe(
        "subscribed",
      );
      expect(await run((tx) => tx.getSubscription(REF, "bob@example"))).toBeUndefined();
      expect(await run((tx) => tx.deleteSubscription(REF, "bob@example/phone"))).toBe(true);
      expect(await run((tx) => tx.deleteSubscription(REF, "bob@example/phone"))).toBe(false);
    });
    it("lists a node's subscriptions oldest first, optionally by state", async () => {
      await run(async (tx) => {
        await tx.putSubscription(sub("carol@example", "pending", 7));
        await tx.putSubscription(sub("bob@example", "subscribed", 6));
        await tx.putSubscription(sub("dave@example", "subscribed", 8));
      });
      const jids = (state?: Subscription["state"]) =>
        run(async (tx) => (await tx.listNodeSubscriptions(REF, state)).map((s) => s.jid));
      expect(await jids()).toEqual(["bob@example", "carol@example", "dave@example"]);
      expect(await jids("pending")).toEqual(["carol@example"]);
    });
    it("pages a node's subscriptions in one state, oldest first, after a cursor", async () => {
      await run(async (tx) => {
        await tx.putSubscription(sub("e@example", "subscribed", 9));
        await tx.putSubscription(sub("carol@example", "pending", 7));
        await tx.putSubscription(sub("b@example", "subscribed", 7));
        await tx.putSubscription(sub("a@example", "subscribed", 7));
        await tx.putSubscription(sub("z@example", "subscribed", 6));
      });
      const page = (after: { createdAt: number; jid: string } | undefined, limit: number) =>
        run(async (tx) =>
          (await tx.pageNodeSubscriptions(REF, "subscribed", after, limit)).map(
            (s) => `${s.createdAt} ${s.jid}`,
          ),
        );
      expect(await page(undefined, 2)).toEqual(["6 z@example", "7 a@example"]);
      // Same creation time: the JID orders them; the cursor is exclusive.
      expect(await page({ createdAt: 7, jid: "a@example" }, 2)).toEqual([
        "7 b@example",
        "9 e@example",
      ]);
      expect(await page({ createdAt: 9, jid: "e@example" }, 2)).toEqual([]);
      expect(await page(undefined, 10)).toHaveLength(4);
    });
    it("finds the subscriptions of a bare JID, full JIDs included, not look-alikes", async () => {
      await run(async (tx) => {
        await seedNode(tx, OTHER);
        await tx.putSubscription(sub("bob@example"));
        await tx.putSubscription(sub("bob@example/phone", "subscribed", 6, OTHER));
        await tx.putSubscription(sub("bob@example.net"));
      });
      const found = await run((tx) => tx.listSubscriptionsOf(REF.service, "bob@example"));
      expect(found.map((s) => `${s.node} ${s.jid}`)).toEqual([
        "other bob@example/phone",
        "urn:xmpp:microblog:0 bob@example",
      ]);
      const atOther = await run((tx) =>
        tx.listSubscriptionsOf(REF.service, "bob@example", "other"),
      );
      expect(atOther).toHaveLength(1);
    });
    it("finds a subscription stored with capitals by its lower-case bare JID", async () => {
      await run((tx) => tx.putSubscription(sub("Bob@Example/Phone", "pending")));
      const found = await run((tx) => tx.listSubscriptionsOf(REF.service, "bob@example"));
      expect(found.map((s) => s.jid)).toEqual(["Bob@Example/Phone"]);
    });
  });
}

function describeSubscriptionQueries(run: Run): void {
  describe("subscription queries", () => {
    it("counts pending requests per node and per domain", async () => {
      await run(async (tx) => {
        await tx.putSubscription(sub("a@rogue.example", "pending"));
        await tx.putSubscription(sub("b@rogue.example/x", "pending"));
        await tx.putSubscription(sub("c@rogue.example", "subscribed"));
        await tx.putSubscription(sub("d@other.example", "pending"));
      });
      expect(await run((tx) => tx.countPending(REF))).toBe(3);
      expect(await run((tx) => tx.countPending(REF, "rogue.example"))).toBe(2);
      expect(await run((tx) => tx.countPending(REF, "sub.rogue.example"))).toBe(0);
    });
    it("lists pending requests created before a time, across services", async () => {
      const bobs = { service: "bob@mb.example", node: "n" };
      await run(async (tx) => {
        await seedNode(tx, bobs);
        await tx.putSubscription(sub("old@example", "pending", 1));
        await tx.putSubscription(sub("older@example", "pending", 0, bobs));
        await tx.putSubscription(sub("new@example", "pending", 100));
        await tx.putSubscription(sub("active@example", "subscribed", 1));
      });
      const old = await run((tx) => tx.listPendingCreatedBefore(100));
      expect(old.map((s) => s.jid)).toEqual(["older@example", "old@example"]);
    });
  });
}

function describeAffiliations(run: Run): void {
  describe("affiliations", () => {
    it("defaults to none, stores JID and domain entries, none removes", async () => {
      expect(await run((tx) => tx.getAffiliation(REF, "bob@example"))).toBe("none");
      await run(async (tx) => {
        await tx.setAffiliation(REF, "bob@example", "member");
        await tx.setAffiliation(REF, "rogue.example", "outcast");
        await tx.setAffiliation(REF, "bob@example", "publisher");
      });
      expect(await run((tx) => tx.listNodeAffiliations(REF))).toEqual([
        { ...REF, entity: "bob@example", affiliation: "publisher" },
        { ...REF, entity: "rogue.example", affiliation: "outcast" },
      ]);
      await run((tx) => tx.setAffiliation(REF, "bob@example", "none"));
      expect(await run((tx) => tx.getAffiliation(REF, "bob@example"))).toBe("none");
      expect(await run((tx) => tx.listNodeAffiliations(REF))).toHaveLength(1);
    });
    it("lists one entity's entries at a service by node", async () => {
      await run(async (tx) => {
        await seedNode(tx, OTHER);
        await tx.setAffiliation(REF, "bob@example", "member");
        await tx.setAffiliation(OTHER, "bob@example", "outcast");
      });
      const entries = await run((tx) => tx.listAffiliationsOf(REF.service, "bob@example"));
      expect(entries.map((e) => `${e.node}=${e.affiliation}`)).toEqual([
        "other=outcast",
        "urn:xmpp:microblog:0=member",
      ]);
    });
  });
}

function describeCountersAndRequests(run: Run): void {
  describe("counters and the request log", () => {
    it("adds to named counters", async () => {
      await run(async (tx) => {
        await tx.incrementCounter("refused:outcast-jid");
        await tx.incrementCounter("refused:outcast-jid", 2);
      });
      await run((tx) => tx.incrementCounter("other"));
      expect(await run((tx) => tx.getCounters())).toEqual({ other: 1, "refused:outcast-jid": 3 });
    });
    it("counts requests per domain and per requester since a time and prunes old ones", async () => {
      await run(async (tx) => {
        await tx.recordRequest("rogue.example", "eve@rogue.example", 100);
        await tx.recordRequest("rogue.example", "eve@rogue.example", 200);
        await tx.recordRequest("rogue.example", "joe@rogue.example", 200);
        await tx.recordRequest("other.example", "eve@other.example", 200);
      });
      await run(async (tx) => {
        expect(await tx.countRequestsSince("rogue.example", 100)).toBe(3);
        expect(await tx.countRequestsSince("rogue.example", 101)).toBe(2);
        expect(await tx.countRequesterRequestsSince("eve@rogue.example", 100)).toBe(2);
        expect(await tx.countRequesterRequestsSince("joe@rogue.example", 0)).toBe(1);
      });
      await run((tx) => tx.pruneRequests(150));
      expect(await run((tx) => tx.countRequestsSince("rogue.example", 0))).toBe(2);
      expect(await run((tx) => tx.countRequesterRequestsSince("eve@rogue.example", 0))).toBe(1);
    });
  });
}
