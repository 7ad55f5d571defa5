/**
 * The following and timeline part of the storage contract (see store-contract.ts): follows,
 * home timelines, user settings, and (store-contract-outbox.ts) the outbox; and that all of
 * their writes roll back with the transaction.
 */
import { describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import type {
  Follow,
  FollowCursor,
  NewTimelineEntry,
  TimelineEntry,
  TimelineRange,
} from "../../../component/src/domain/timeline-types.js";
import type { NodeRef } from "../../../component/src/domain/types.js";
import { describeOutbox, outboxEntry } from "./store-contract-outbox.js";

type Run = <T>(fn: (tx: PubsubTx) => Promise<T>) => Promise<T>;

/** The user whose timeline the cases read, and another one. */
export const U = "ulla@example";
export const V = "vera@example";
/** Followed nodes at two remote services (domains mb.remote and mb.other). */
export const ANN: NodeRef = { service: "ann@mb.remote", node: "urn:xmpp:microblog:0" };
export const BOB: NodeRef = { service: "bob@mb.other", node: "urn:xmpp:microblog:0" };

/** `user`'s follow of `ref`, subscribed, with a subid. */
export function follow(
  user: string,
  ref: NodeRef,
  createdAt = 10,
  extra: Partial<Follow> = {},
): Follow {
  const domain = ref.service.slice(ref.service.indexOf("@") + 1);
  const target = `xmpp:${ref.service}`;
  const subid = `sid-${user}`;
  const state = "subscribed";
  return { user, ...ref, domain, target, state, subid, createdAt, updatedAt: createdAt, ...extra };
}

export function entry(itemId: string, extra: Partial<NewTimelineEntry> = {}): NewTimelineEntry {
  return {
    user: U,
    ...ANN,
    itemId,
    author: "ann@remote",
    payload: `<entry><id>${itemId}</id></entry>`,
    publishedAt: 5,
    receivedAt: 100,
    ...extra,
  };
}

export function describeTimelineContract(get: () => PubsubStore): void {
  const run: Run = (fn) => get().transaction(fn);
  describeFollows(run);
  describeUpserts(run);
  describeTimelineRanges(run);
  describeTimelineRemoval(run);
  describeSettings(run);
  describeOutbox(run);
  describeRollback(get);
}

function describeFollows(run: Run): void {
  describe("follows", () => {
    it("stores, replaces and deletes the follow of (user, service, node)", async () => {
      expect(await run((tx) => tx.getFollow(U, ANN))).toBeUndefined();
      await run((tx) => tx.putFollow(follow(U, ANN, 10, { state: "requested" })));
      expect(await run((tx) => tx.getFollow(U, ANN))).toEqual(
        follow(U, ANN, 10, { state: "requested" }),
      );
      const { subid: _, ...settled } = follow(U, ANN, 10, { state: "pending", updatedAt: 20 });
      await run((tx) => tx.putFollow(settled));
      expect(await run((tx) => tx.getFollow(U, ANN))).toEqual(settled);
      expect(await run((tx) => tx.getFollow(V, ANN))).toBeUndefined();
      expect(await run((tx) => tx.getFollow(U, { ...ANN, node: "other" }))).toBeUndefined();
      expect(await run((tx) => tx.countFollows(U))).toBe(1);
      expect(await run((tx) => tx.deleteFollow(U, ANN))).toBe(true);
      expect(await run((tx) => tx.deleteFollow(U, ANN))).toBe(false);
      expect(await run((tx) => tx.countFollows(U))).toBe(0);
    });
    it("lists a user's follows oldest first, and counts them", async () => {
      await run(async (tx) => {
        await tx.putFollow(follow(U, BOB, 30));
        await tx.putFollow(follow(U, { ...BOB, node: "b-node" }, 20));
        await tx.putFollow(follow(U, ANN, 20));
        await tx.putFollow(follow(V, ANN, 5));
      });
      const listed = await run((tx) => tx.listFollows(U));
      expect(listed.map((f) => `${f.service} ${f.node}`)).toEqual([
        "ann@mb.remote urn:xmpp:microblog:0",
        "bob@mb.other b-node",
        "bob@mb.other urn:xmpp:microblog:0",
      ]);
      expect(listed[2]).toEqual(follow(U, BOB, 30));
      expect(await run((tx) => tx.countFollows(U))).toBe(3);
      expect(await run((tx) => tx.listFollows("nobody@example"))).toEqual([]);
    });
    it("pages the follows at a domain, or all of them, in key order (user, service, node)", async () => {
      await run(async (tx) => {
        await tx.putFollow(follow(V, ANN, 1));
        await tx.putFollow(follow(U, ANN, 9));
        await tx.putFollow(follow(U, BOB, 3));
        await tx.putFollow(follow(U, { ...ANN, node: "older" }, 2));
      });
      const at = (domain?: string, after?: FollowCursor, limit = 99) =>
        run(async (tx) =>
          (await tx.pageFollowsAt(domain, after, limit)).map(
            (f) => `${f.user} ${f.service} ${f.node}`,
          ),
        );
      const all = [
        `${U} ann@mb.remote older`,
        `${U} ann@mb.remote urn:xmpp:microblog:0`,
        `${U} bob@mb.other urn:xmpp:microblog:0`,
        `${V} ann@mb.remote urn:xmpp:microblog:0`,
      ];
      expect(await at()).toEqual(all);
      expect(await at("mb.remote")).toEqual([all[0], all[1], all[3]]);
      expect(await at("mb.other")).toEqual([all[2]]);
      expect(await at("remote")).toEqual([]);
      // Pages: after a follow's key (which need not exist), at most `limit`.
      expect(await at(undefined, undefined, 2)).toEqual([all[0], all[1]]);
      expect(await at(undefined, { user: U, ...ANN }, 2)).toEqual([all[2], all[3]]);
      expect(await at(undefined, { user: V, ...ANN })).toEqual([]);
      expect(await at("mb.remote", { user: U, ...ANN }, 1)).toEqual([all[3]]);
      expect(await at("mb.remote", { user: U, service: "b", node: "" })).toEqual([all[3]]);
      expect(await at(undefined, undefined, 0)).toEqual([]);
      const [second] = await run((tx) => tx.pageFollowsAt(undefined, { user: U, ...ANN }, 1));
      expect(second).toEqual(follow(U, BOB, 3));
    });
  });
}

function describeUpserts(run: Run): void {
  describe("timeline entries", () => {
    it("inserts, leaves an unchanged payload alone, replaces keeping seq and receivedAt", async () => {
      const first = await run((tx) => tx.upsertTimelineEntry(entry("a")));
      expect(first.write).toBe("inserted");
      expect(first.entry).toEqual({ ...entry("a"), seq: first.entry.seq });
      const same = await run((tx) =>
        tx.upsertTimelineEntry(entry("a", { author: "x@y", publishedAt: 7, receivedAt: 200 })),
      );
      expect(same).toEqual({ entry: first.entry, write: "unchanged" });
      const changed = { author: "carl@third", payload: "<entry>new</entry>", publishedAt: 8 };
      const again = await run((tx) =>
        tx.upsertTimelineEntry(entry("a", { ...changed, receivedAt: 300 })),
      );
      expect(again).toEqual({ entry: { ...first.entry, ...changed }, write: "replaced" });
      expect(await run((tx) => tx.getTimelineEntry(U, first.entry.seq))).toEqual(again.entry);
      expect(await run((tx) => tx.countTimeline(U, {}))).toBe(1);
    });
    it("reads an entry by its user and seq only", async () => {
      const { entry: a } = await run((tx) => tx.upsertTimelineEntry(entry("a")));
      expect(await run((tx) => tx.getTimelineEntry(V, a.seq))).toBeUndefined();
      expect(await run((tx) => tx.getTimelineEntry(U, a.seq + 1000))).toBeUndefined();
    });
    it("finds an entry by (user, service, node, item id) only", async () => {
      const { entry: a } = await run((tx) => tx.upsertTimelineEntry(entry("a")));
      expect(await run((tx) => tx.findTimelineItem(U, ANN, "a"))).toEqual(a);
      expect(await run((tx) => tx.findTimelineItem(V, ANN, "a"))).toBeUndefined();
      expect(await run((tx) => tx.findTimelineItem(U, BOB, "a"))).toBeUndefined();
      expect(await run((tx) => tx.findTimelineItem(U, ANN, "b"))).toBeUndefined();
    });
    it("keeps one entry per (user, service, node, item id), each with its own seq", async () => {
      const written = await run(async (tx) => [
        await tx.upsertTimelineEntry(entry("a")),
        await tx.upsertTimelineEntry(entry("a", { ...BOB })),
        await tx.upsertTimelineEntry(entry("a", { node: "other" })),
        await tx.upsertTimelineEntry(entry("a", { user: V })),
      ]);
      expect(written.map((w) => w.write)).toEqual(["inserted", "inserted", "inserted", "inserted"]);
      expect(new Set(written.map((w) => w.entry.seq)).size).toBe(4);
      expect(await run((tx) => tx.countTimeline(U, {}))).toBe(3);
      expect(await run((tx) => tx.countTimeline(V, {}))).toBe(1);
    });
    it("gives seqs store-wide, ascending, never twice, not again to a replacement", async () => {
      const seqOf = (e: NewTimelineEntry) =>
        run(async (tx) => (await tx.upsertTimelineEntry(e)).entry.seq);
      const a = await seqOf(entry("a"));
      const b = await seqOf(entry("b", { user: V }));
      expect(b).toBeGreaterThan(a);
      expect(await seqOf(entry("a", { payload: "<entry>2</entry>" }))).toBe(a);
      await run((tx) => tx.deleteTimelineItems(V, ANN, ["b"]));
      const c = await seqOf(entry("c"));
      expect(c).toBeGreaterThan(b);
      const listed = await run((tx) => tx.listTimeline(U, {}, 10, "oldest"));
      expect(listed.map((e) => e.itemId)).toEqual(["a", "c"]);
    });
  });
}

/**
 * U's timeline for the range cases, oldest first: i1 … i6 received at 10 … 60, at ANN and BOB,
 * by ann@remote and others; V has one entry between them.
 */
const SEEDED: NewTimelineEntry[] = [
  entry("i1", { receivedAt: 10 }),
  entry("i2", { ...BOB, author: "bob@other", receivedAt: 20 }),
  entry("i3", { author: "carl@third", receivedAt: 30 }),
  entry("v1", { user: V, receivedAt: 35 }),
  entry("i4", { ...BOB, author: "ann@remote", receivedAt: 40 }),
  entry("i5", { receivedAt: 50 }),
  entry("i6", { ...BOB, author: "bob@other", receivedAt: 60 }),
];

function describeTimelineRanges(run: Run): void {
  describe("timeline ranges", () => {
    const seqs = new Map<string, number>();
    const seed = () =>
      run(async (tx) => {
        for (const e of SEEDED) seqs.set(e.itemId, (await tx.upsertTimelineEntry(e)).entry.seq);
      });
    const seq = (itemId: string) => seqs.get(itemId) ?? Number.NaN;
    const list = (range: TimelineRange, max = 99, from: "oldest" | "newest" = "oldest") =>
      run(async (tx) => (await tx.listTimeline(U, range, max, from)).map((e) => e.itemId));

    it("lists the oldest or the newest `max` entries, oldest first either way", async () => {
      await seed();
      expect(await list({})).toEqual(["i1", "i2", "i3", "i4", "i5", "i6"]);
      expect(await list({}, 2, "oldest")).toEqual(["i1", "i2"]);
      expect(await list({}, 2, "newest")).toEqual(["i5", "i6"]);
      expect(await list({}, 99, "newest")).toEqual(["i1", "i2", "i3", "i4", "i5", "i6"]);
      expect(await list({}, 0, "newest")).toEqual([]);
      const [first] = await run((tx) => tx.listTimeline(U, {}, 1, "oldest"));
      const i1: TimelineEntry = { ...entry("i1", { receivedAt: 10 }), seq: seq("i1") };
      expect(first).toEqual(i1);
      expect(await run((tx) => tx.listTimeline("nobody@example", {}, 9, "oldest"))).toEqual([]);
    });
    it("takes each bound alone: start and end inclusive, seqs exclusive", async () => {
      await seed();
      expect(await list({ start: 30 })).toEqual(["i3", "i4", "i5", "i6"]);
      expect(await list({ end: 30 })).toEqual(["i1", "i2", "i3"]);
      expect(await list({ afterSeq: seq("i2") })).toEqual(["i3", "i4", "i5", "i6"]);
      expect(await list({ beforeSeq: seq("i5") })).toEqual(["i1", "i2", "i3", "i4"]);
      expect(await list({ start: 61 })).toEqual([]);
    });
    it("matches `with` on the service or on the author", async () => {
      await seed();
      expect(await list({ with: "ann@mb.remote" })).toEqual(["i1", "i3", "i5"]);
      expect(await list({ with: "ann@remote" })).toEqual(["i1", "i4", "i5"]);
      expect(await list({ with: "bob@other" })).toEqual(["i2", "i6"]);
      expect(await list({ with: "ann" })).toEqual([]);
    });
    it("takes all the bounds at once, from either end", async () => {
      await seed();
      const range = { start: 20, end: 55, with: "ann@remote", afterSeq: seq("i1") };
      expect(await list(range)).toEqual(["i4", "i5"]);
      expect(await list({ ...range, beforeSeq: seq("i6") }, 1, "oldest")).toEqual(["i4"]);
      expect(await list({ ...range, beforeSeq: seq("i6") }, 1, "newest")).toEqual(["i5"]);
      expect(await list({ ...range, beforeSeq: seq("i5") })).toEqual(["i4"]);
      const window = { start: 20, end: 50, afterSeq: seq("i2"), beforeSeq: seq("i6") };
      expect(await list(window, 2, "newest")).toEqual(["i4", "i5"]);
      expect(await list(window, 2, "oldest")).toEqual(["i3", "i4"]);
    });
    it("counts the entries of a range", async () => {
      await seed();
      const count = (range: TimelineRange, user = U) => run((tx) => tx.countTimeline(user, range));
      expect(await count({})).toBe(6);
      expect(await count({}, V)).toBe(1);
      expect(await count({}, "nobody@example")).toBe(0);
      expect(await count({ with: "ann@remote" })).toBe(3);
      expect(await count({ start: 20, end: 40 })).toBe(3);
      expect(await count({ afterSeq: seq("i1"), beforeSeq: seq("i3") })).toBe(1);
      expect(await count({ start: 20, with: "bob@mb.other", beforeSeq: seq("i6") })).toBe(2);
    });
  });
}

function describeTimelineRemoval(run: Run): void {
  describe("timeline removal", () => {
    const seed = () =>
      run(async (tx) => {
        for (const e of SEEDED) await tx.upsertTimelineEntry(e);
        await tx.upsertTimelineEntry(entry("i1", { user: V }));
        await tx.upsertTimelineEntry(entry("i2", { user: V, ...BOB }));
      });
    const itemsOf = (user: string) =>
      run(async (tx) => (await tx.listTimeline(user, {}, 99, "oldest")).map((e) => e.itemId));

    it("deletes items of one node of one user's timeline, saying how many there were", async () => {
      await seed();
      const ids = ["i1", "i2", "i3", "nope", "i1"];
      expect(await run((tx) => tx.deleteTimelineItems(U, ANN, ids))).toBe(2);
      expect(await itemsOf(U)).toEqual(["i2", "i4", "i5", "i6"]);
      expect(await itemsOf(V)).toEqual(["v1", "i1", "i2"]);
      expect(await run((tx) => tx.deleteTimelineItems(U, ANN, []))).toBe(0);
      expect(await run((tx) => tx.deleteTimelineItems(U, ANN, ["i1"]))).toBe(0);
    });
    it("deletes every entry of one node of one user's timeline", async () => {
      await seed();
      expect(await run((tx) => tx.deleteTimelineNode(U, BOB))).toBe(3);
      expect(await itemsOf(U)).toEqual(["i1", "i3", "i5"]);
      expect(await itemsOf(V)).toEqual(["v1", "i1", "i2"]);
      expect(await run((tx) => tx.deleteTimelineNode(U, BOB))).toBe(0);
      expect(await run((tx) => tx.deleteTimelineNode(U, { ...ANN, node: "other" }))).toBe(0);
    });
    it("finds one node's newest entry by seq, and knows each timeline's size", async () => {
      await seed();
      const newest = (user: string, ref: NodeRef) =>
        run(async (tx) => (await tx.newestNodeEntry(user, ref))?.itemId);
      const size = (user: string) => run((tx) => tx.timelineSize(user));
      expect(await newest(U, ANN)).toBe("i5");
      expect(await newest(U, BOB)).toBe("i6");
      expect(await newest(V, BOB)).toBe("i2");
      expect(await newest(U, { ...ANN, node: "other" })).toBeUndefined();
      expect(await newest("nobody@example", ANN)).toBeUndefined();
      // A replacement keeps its seq: i5 stays the newest of ANN's.
      await run((tx) => tx.upsertTimelineEntry(entry("i1", { payload: "<entry>2</entry>" })));
      expect(await run((tx) => tx.newestNodeEntry(U, ANN))).toMatchObject({
        itemId: "i5",
        receivedAt: 50,
      });
      expect([await size(U), await size(V), await size("nobody@example")]).toEqual([6, 3, 0]);
      // Every way out of a timeline counts, and an entry that was there already does not.
      await run(async (tx) => {
        await tx.upsertTimelineEntry(entry("i7"));
        await tx.upsertTimelineEntry(entry("i7", { payload: "<entry>7</entry>" }));
        await tx.upsertTimelineEntry(entry("i5"));
      });
      expect(await size(U)).toBe(7);
      await run((tx) => tx.deleteTimelineItems(U, ANN, ["i1", "nope"]));
      expect(await size(U)).toBe(6);
      await run((tx) => tx.deleteTimelineNode(U, BOB));
      expect(await size(U)).toBe(3);
      await run((tx) => tx.trimTimeline(U, 1));
      expect(await size(U)).toBe(1);
      expect(await newest(U, ANN)).toBe("i7");
      await run((tx) => tx.deleteTimelineNode(U, ANN));
      expect([await size(U), await size(V)]).toEqual([0, 3]);
      expect(await newest(U, ANN)).toBeUndefined();
    });
    it("trims a user's timeline to the newest entries by seq", async () => {
      await seed();
      // A replacement keeps its place: i1 stays the oldest.
      await run((tx) => tx.upsertTimelineEntry(entry("i1", { payload: "<entry>2</entry>" })));
      expect(await run((tx) => tx.trimTimeline(U, 5))).toBe(1);
      expect(await itemsOf(U)).toEqual(["i2", "i3", "i4", "i5", "i6"]);
      expect(await run((tx) => tx.trimTimeline(U, 2))).toBe(3);
      expect(await itemsOf(U)).toEqual(["i5", "i6"]);
      expect(await run((tx) => tx.trimTimeline(U, 2))).toBe(0);
      expect(await run((tx) => tx.trimTimeline(U, 99))).toBe(0);
      expect(await itemsOf(V)).toEqual(["v1", "i1", "i2"]);
      expect(await run((tx) => tx.trimTimeline(V, 0))).toBe(3);
      expect(await run((tx) => tx.trimTimeline("nobody@example", 0))).toBe(0);
      expect(await itemsOf(U)).toEqual(["i5", "i6"]);
    });
  });
}

function describeSettings(run: Run): void {
  describe("user settings", () => {
    it("has none until put, then the last put, per user", async () => {
      expect(await run((tx) => tx.getUserSettings(U))).toBeUndefined();
      await run((tx) => tx.putUserSettings(U, { relay: false }));
      expect(await run((tx) => tx.getUserSettings(U))).toEqual({ relay: false });
      await run((tx) => tx.putUserSettings(U, { relay: true }));
      await run((tx) => tx.putUserSettings(V, { relay: false }));
      expect(await run((tx) => tx.getUserSettings(U))).toEqual({ relay: true });
      expect(await run((tx) => tx.getUserSettings(V))).toEqual({ relay: false });
    });
  });
}

/** Everything the timeline part of a store holds, as the ports read it. */
async function snapshot(tx: PubsubTx) {
  const everything = Number.MAX_SAFE_INTEGER;
  return {
    follows: await tx.pageFollowsAt(undefined, undefined, 99),
    sizes: [await tx.timelineSize(U), await tx.timelineSize(V)],
    timelines: [
      await tx.listTimeline(U, {}, 99, "oldest"),
      await tx.listTimeline(V, {}, 99, "oldest"),
    ],
    settings: [await tx.getUserSettings(U), await tx.getUserSettings(V)],
    waiting: await tx.listDueOutbox(everything, 99),
    sent: await tx.listOutboxSentBefore(everything, 99),
    outbox: await tx.countOutbox(),
  };
}

function describeRollback(get: () => PubsubStore): void {
  it("rolls back every timeline, follow, settings and outbox write when the function throws", async () => {
    const store = get();
    await store.transaction(async (tx) => {
      await tx.putFollow(follow(U, ANN));
      for (const e of SEEDED) await tx.upsertTimelineEntry(e);
      await tx.putUserSettings(U, { relay: true });
      await tx.enqueueOutbox(outboxEntry("m1"));
      await tx.enqueueOutbox(outboxEntry("m2", { sentAt: 150 }));
    });
    const before = await store.transaction(snapshot);
    const failing = store.transaction(async (tx) => {
      await tx.putFollow(follow(U, ANN, 10, { state: "pending" }));
      await tx.putFollow(follow(V, BOB));
      await tx.deleteFollow(U, ANN);
      await tx.upsertTimelineEntry(entry("new", { user: V }));
      await tx.upsertTimelineEntry(entry("i1", { payload: "<entry>changed</entry>" }));
      await tx.deleteTimelineItems(U, ANN, ["i3"]);
      await tx.deleteTimelineNode(U, BOB);
      await tx.trimTimeline(U, 1);
      await tx.putUserSettings(U, { relay: false });
      await tx.putUserSettings(V, { relay: false });
      const m3 = await tx.enqueueOutbox(outboxEntry("m3"));
      const m1 = await tx.getOutboxByMessageId("m1");
      await tx.updateOutbox(m1?.id ?? 0, { attempts: 9, sentAt: 500, lastError: "x" });
      await tx.updateOutbox(m3.id, { sentAt: null });
      await tx.rescheduleOutboxDomain(m3.domain, 1);
      await tx.deleteOutbox([(await tx.getOutboxByMessageId("m2"))?.id ?? 0]);
      throw new Error("boom");
    });
    await expect(failing).rejects.toThrow("boom");
    expect(await store.transaction(snapshot)).toEqual(before);
    expect(before.timelines[0]).toHaveLength(6);
    expect(before.outbox).toBe(2);
  });
}
