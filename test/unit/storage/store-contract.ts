/**
 * The one storage contract (after Idavoll's StorageTests): every PubsubStore adapter runs it.
 * Usage: describeStoreContract("sqlite", () => new SqliteStore(openDatabase(":memory:"))).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { PubsubStore } from "../../../component/src/domain/ports.js";
import {
  defaultNodeConfig,
  type NodeRef,
  type Subscription,
} from "../../../component/src/domain/types.js";

export const REF: NodeRef = { service: "alice@mb.example", node: "urn:xmpp:microblog:0" };
export const OTHER: NodeRef = { service: "alice@mb.example", node: "other" };

export function seedNode(store: PubsubStore, ref: NodeRef = REF, createdAt = 1): void {
  store.createNode({
    ...ref,
    owner: "alice@example",
    config: defaultNodeConfig("alice@example"),
    createdAt,
  });
}

export function publish(store: PubsubStore, id: string, ref: NodeRef = REF, at = 10) {
  return store.upsertItem(ref, {
    id,
    payload: `<p>${id}</p>`,
    publisher: "alice@example",
    createdAt: at,
    updatedAt: at,
  });
}

export function sub(
  jid: string,
  state: Subscription["state"] = "subscribed",
  createdAt = 5,
  ref = REF,
): Subscription {
  return { ...ref, jid, subid: `sid-${jid}`, state, createdAt };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

export function describeStoreContract(name: string, makeStore: () => PubsubStore): void {
  describe(`PubsubStore contract: ${name}`, () => {
    let store: PubsubStore;
    beforeEach(() => {
      store = makeStore();
      seedNode(store);
    });
    describeNodes(() => store);
    describeItems(() => store);
    describeItemRemoval(() => store);
    describePaging(() => store);
    describeSubscriptions(() => store);
    describeSubscriptionQueries(() => store);
    describeAffiliations(() => store);
    describeCountersAndRequests(() => store);
    describeTransactions(() => store);
  });
}

function describeNodes(get: () => PubsubStore): void {
  describe("nodes", () => {
    it("creates, reads and updates a node's config", () => {
      const store = get();
      expect(store.getNode(REF)).toEqual({
        ...REF,
        owner: "alice@example",
        config: defaultNodeConfig("alice@example"),
        createdAt: 1,
      });
      store.updateNodeConfig(REF, {
        ...defaultNodeConfig("alice@example"),
        accessModel: "authorize",
        maxItems: 7,
      });
      expect(store.getNode(REF)?.config).toMatchObject({ accessModel: "authorize", maxItems: 7 });
      expect(store.getNode(OTHER)).toBeUndefined();
    });
    it("lists a service's nodes by name", () => {
      const store = get();
      seedNode(store, OTHER);
      seedNode(store, { service: "bob@mb.example", node: "x" });
      expect(store.listNodes("alice@mb.example").map((n) => n.node)).toEqual([
        "other",
        "urn:xmpp:microblog:0",
      ]);
      expect(store.listNodes().map((n) => `${n.service} ${n.node}`)).toEqual([
        "alice@mb.example other",
        "alice@mb.example urn:xmpp:microblog:0",
        "bob@mb.example x",
      ]);
    });
    it("deletes a node with its items, subscriptions and affiliations", () => {
      const store = get();
      publish(store, "a");
      store.putSubscription(sub("bob@example"));
      store.setAffiliation(REF, "eve@rogue.example", "outcast");
      store.deleteNode(REF);
      expect(store.getNode(REF)).toBeUndefined();
      seedNode(store);
      expect(store.countItems(REF)).toBe(0);
      expect(store.listNodeSubscriptions(REF)).toEqual([]);
      expect(store.listNodeAffiliations(REF)).toEqual([]);
    });
  });
}

function describeItems(get: () => PubsubStore): void {
  describe("items", () => {
    it("gives each stored item a higher seq than the one before", () => {
      const store = get();
      const a = publish(store, "a");
      const b = publish(store, "b");
      expect(b.seq).toBeGreaterThan(a.seq);
      expect(store.getLastItem(REF)?.id).toBe("b");
      expect(store.countItems(REF)).toBe(2);
    });
    it("replaces an item by id: new payload, newest, original createdAt", () => {
      const store = get();
      publish(store, "a", REF, 10);
      publish(store, "b", REF, 20);
      const again = store.upsertItem(REF, {
        id: "a",
        payload: "<p>new</p>",
        publisher: "alice@example",
        createdAt: 30,
        updatedAt: 30,
      });
      expect(again).toMatchObject({ id: "a", payload: "<p>new</p>", createdAt: 10, updatedAt: 30 });
      expect(store.getLastItem(REF)).toEqual(again);
      expect(store.countItems(REF)).toBe(2);
    });
    it("reads items by id, newest first, skipping unknown ids", () => {
      const store = get();
      for (const id of ["a", "b", "c"]) publish(store, id);
      expect(ids(store.getItems(REF, ["a", "zz", "c"]))).toEqual(["c", "a"]);
      expect(store.getItems(REF, [])).toEqual([]);
    });
    it("keeps nodes apart", () => {
      const store = get();
      seedNode(store, OTHER);
      publish(store, "a");
      publish(store, "a", OTHER);
      expect(store.deleteItems(OTHER, ["a"])).toEqual(["a"]);
      expect(ids(store.getItems(REF, ["a"]))).toEqual(["a"]);
    });
  });
}

function describeItemRemoval(get: () => PubsubStore): void {
  describe("item removal", () => {
    it("deletes items, returning the ids that existed", () => {
      const store = get();
      publish(store, "a");
      expect(store.deleteItems(REF, ["a", "nope"])).toEqual(["a"]);
      expect(store.countItems(REF)).toBe(0);
    });
    it("trims to the newest N, returning the removed ids oldest first", () => {
      const store = get();
      for (const id of ["a", "b", "c", "d"]) publish(store, id);
      expect(store.trimItems(REF, 2)).toEqual(["a", "b"]);
      expect(store.trimItems(REF, 2)).toEqual([]);
      expect(ids(store.listItems(REF, {})?.items ?? [])).toEqual(["d", "c"]);
    });
    it("purges all items and says how many", () => {
      const store = get();
      publish(store, "a");
      publish(store, "b");
      expect(store.purgeItems(REF)).toBe(2);
      expect(store.getLastItem(REF)).toBeUndefined();
    });
  });
}

function describePaging(get: () => PubsubStore): void {
  describe("paging newest first (XEP-0059)", () => {
    beforeEach(() => {
      for (const id of ["i1", "i2", "i3", "i4", "i5"]) publish(get(), id);
    });
    it("returns everything newest first with the count", () => {
      expect(get().listItems(REF, {})).toMatchObject({ count: 5, firstIndex: 0 });
      expect(ids(get().listItems(REF, {})?.items ?? [])).toEqual(["i5", "i4", "i3", "i2", "i1"]);
    });
    it("pages forward with max and after", () => {
      const first = get().listItems(REF, { max: 2 });
      expect(ids(first?.items ?? [])).toEqual(["i5", "i4"]);
      const second = get().listItems(REF, { max: 2, after: "i4" });
      expect(ids(second?.items ?? [])).toEqual(["i3", "i2"]);
      expect(second).toMatchObject({ count: 5, firstIndex: 2 });
      const last = get().listItems(REF, { max: 2, after: "i2" });
      expect(ids(last?.items ?? [])).toEqual(["i1"]);
      expect(get().listItems(REF, { max: 2, after: "i1" })).toEqual({ items: [], count: 5 });
    });
    it("pages backward with before: the items just newer than the anchor", () => {
      const page = get().listItems(REF, { max: 2, before: "i2" });
      expect(ids(page?.items ?? [])).toEqual(["i4", "i3"]);
      expect(page?.firstIndex).toBe(1);
      expect(ids(get().listItems(REF, { max: 9, before: "i4" })?.items ?? [])).toEqual(["i5"]);
    });
    it("gives the last page (oldest items) for an empty before", () => {
      const page = get().listItems(REF, { max: 2, before: "" });
      expect(ids(page?.items ?? [])).toEqual(["i2", "i1"]);
      expect(page).toMatchObject({ count: 5, firstIndex: 3 });
    });
    it("answers undefined for an unknown anchor", () => {
      expect(get().listItems(REF, { after: "nope" })).toBeUndefined();
      expect(get().listItems(REF, { before: "nope" })).toBeUndefined();
    });
    it("answers max 0 with the count only", () => {
      expect(get().listItems(REF, { max: 0 })).toEqual({ items: [], count: 5 });
    });
    it("lists only the ids of the newest items, without payloads", () => {
      const store = get();
      expect(store.listItemIds(REF, 3)).toEqual(["i5", "i4", "i3"]);
      expect(store.listItemIds(REF, 99)).toEqual(["i5", "i4", "i3", "i2", "i1"]);
      expect(store.listItemIds(REF, 0)).toEqual([]);
      publish(store, "i2");
      expect(store.listItemIds(REF, 2)).toEqual(["i2", "i5"]);
      expect(store.listItemIds(OTHER, 9)).toEqual([]);
    });
  });
}

function describeSubscriptions(get: () => PubsubStore): void {
  describe("subscriptions", () => {
    it("stores, replaces and deletes a subscription per (node, jid)", () => {
      const store = get();
      store.putSubscription({
        ...sub("bob@example/phone", "pending"),
        options: { "pubsub#digest": "0" },
      });
      expect(store.getSubscription(REF, "bob@example/phone")).toEqual({
        ...sub("bob@example/phone", "pending"),
        options: { "pubsub#digest": "0" },
      });
      store.putSubscription(sub("bob@example/phone", "subscribed"));
      expect(store.getSubscription(REF, "bob@example/phone")?.state).toBe("subscribed");
      expect(store.getSubscription(REF, "bob@example")).toBeUndefined();
      expect(store.deleteSubscription(REF, "bob@example/phone")).toBe(true);
      expect(store.deleteSubscription(REF, "bob@example/phone")).toBe(false);
    });
    it("lists a node's subscriptions oldest first, optionally by state", () => {
      const store = get();
      store.putSubscription(sub("carol@example", "pending", 7));
      store.putSubscription(sub("bob@example", "subscribed", 6));
      store.putSubscription(sub("dave@example", "subscribed", 8));
      expect(store.listNodeSubscriptions(REF).map((s) => s.jid)).toEqual([
        "bob@example",
        "carol@example",
        "dave@example",
      ]);
      expect(store.listNodeSubscriptions(REF, "pending").map((s) => s.jid)).toEqual([
        "carol@example",
      ]);
    });
    it("finds the subscriptions of a bare JID, full JIDs included, not look-alikes", () => {
      const store = get();
      seedNode(store, OTHER);
      store.putSubscription(sub("bob@example"));
      store.putSubscription(sub("bob@example/phone", "subscribed", 6, OTHER));
      store.putSubscription(sub("bob@example.net"));
      expect(
        store.listSubscriptionsOf(REF.service, "bob@example").map((s) => `${s.node} ${s.jid}`),
      ).toEqual(["other bob@example/phone", "urn:xmpp:microblog:0 bob@example"]);
      expect(store.listSubscriptionsOf(REF.service, "bob@example", "other")).toHaveLength(1);
    });
    it("finds a subscription stored with capitals by its lower-case bare JID", () => {
      const store = get();
      store.putSubscription(sub("Bob@Example/Phone", "pending"));
      expect(store.listSubscriptionsOf(REF.service, "bob@example").map((s) => s.jid)).toEqual([
        "Bob@Example/Phone",
      ]);
    });
  });
}

function describeSubscriptionQueries(get: () => PubsubStore): void {
  describe("subscription queries", () => {
    it("counts pending requests per node and per domain", () => {
      const store = get();
      store.putSubscription(sub("a@rogue.example", "pending"));
      store.putSubscription(sub("b@rogue.example/x", "pending"));
      store.putSubscription(sub("c@rogue.example", "subscribed"));
      store.putSubscription(sub("d@other.example", "pending"));
      expect(store.countPending(REF)).toBe(3);
      expect(store.countPending(REF, "rogue.example")).toBe(2);
      expect(store.countPending(REF, "sub.rogue.example")).toBe(0);
    });
    it("lists pending requests created before a time, across services", () => {
      const store = get();
      const bobs = { service: "bob@mb.example", node: "n" };
      seedNode(store, bobs);
      store.putSubscription(sub("old@example", "pending", 1));
      store.putSubscription(sub("older@example", "pending", 0, bobs));
      store.putSubscription(sub("new@example", "pending", 100));
      store.putSubscription(sub("active@example", "subscribed", 1));
      expect(store.listPendingCreatedBefore(100).map((s) => s.jid)).toEqual([
        "older@example",
        "old@example",
      ]);
    });
  });
}

function describeAffiliations(get: () => PubsubStore): void {
  describe("affiliations", () => {
    it("defaults to none, stores JID and domain entries, none removes", () => {
      const store = get();
      expect(store.getAffiliation(REF, "bob@example")).toBe("none");
      store.setAffiliation(REF, "bob@example", "member");
      store.setAffiliation(REF, "rogue.example", "outcast");
      store.setAffiliation(REF, "bob@example", "publisher");
      expect(store.listNodeAffiliations(REF)).toEqual([
        { ...REF, entity: "bob@example", affiliation: "publisher" },
        { ...REF, entity: "rogue.example", affiliation: "outcast" },
      ]);
      store.setAffiliation(REF, "bob@example", "none");
      expect(store.getAffiliation(REF, "bob@example")).toBe("none");
      expect(store.listNodeAffiliations(REF)).toHaveLength(1);
    });
    it("lists one entity's entries at a service by node", () => {
      const store = get();
      seedNode(store, OTHER);
      store.setAffiliation(REF, "bob@example", "member");
      store.setAffiliation(OTHER, "bob@example", "outcast");
      expect(
        store
          .listAffiliationsOf(REF.service, "bob@example")
          .map((e) => `${e.node}=${e.affiliation}`),
      ).toEqual(["other=outcast", "urn:xmpp:microblog:0=member"]);
    });
  });
}

function describeCountersAndRequests(get: () => PubsubStore): void {
  describe("counters and the request log", () => {
    it("adds to named counters", () => {
      const store = get();
      store.incrementCounter("refused:outcast-jid");
      store.incrementCounter("refused:outcast-jid", 2);
      store.incrementCounter("other");
      expect(store.getCounters()).toEqual({ other: 1, "refused:outcast-jid": 3 });
    });
    it("counts requests per domain and per requester since a time and prunes old ones", () => {
      const store = get();
      store.recordRequest("rogue.example", "eve@rogue.example", 100);
      store.recordRequest("rogue.example", "eve@rogue.example", 200);
      store.recordRequest("rogue.example", "joe@rogue.example", 200);
      store.recordRequest("other.example", "eve@other.example", 200);
      expect(store.countRequestsSince("rogue.example", 100)).toBe(3);
      expect(store.countRequestsSince("rogue.example", 101)).toBe(2);
      expect(store.countRequesterRequestsSince("eve@rogue.example", 100)).toBe(2);
      expect(store.countRequesterRequestsSince("joe@rogue.example", 0)).toBe(1);
      store.pruneRequests(150);
      expect(store.countRequestsSince("rogue.example", 0)).toBe(2);
      expect(store.countRequesterRequestsSince("eve@rogue.example", 0)).toBe(1);
    });
  });
}

function describeTransactions(get: () => PubsubStore): void {
  describe("transactions", () => {
    it("commits and returns the function's value", () => {
      expect(get().transaction(() => publish(get(), "a").id)).toBe("a");
      expect(get().countItems(REF)).toBe(1);
    });
    it("rolls back everything when the function throws", () => {
      const store = get();
      expect(() =>
        store.transaction(() => {
          publish(store, "a");
          store.putSubscription(sub("bob@example"));
          store.incrementCounter("x");
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(store.countItems(REF)).toBe(0);
      expect(store.listNodeSubscriptions(REF)).toEqual([]);
      expect(store.getCounters()).toEqual({});
    });
    it("rolls back only a nested transaction whose throw is caught", () => {
      const store = get();
      store.transaction(() => {
        publish(store, "outer");
        try {
          store.transaction(() => {
            publish(store, "inner");
            throw new Error("inner");
          });
        } catch {}
      });
      expect(ids(store.listItems(REF, {})?.items ?? [])).toEqual(["outer"]);
    });
  });
}
