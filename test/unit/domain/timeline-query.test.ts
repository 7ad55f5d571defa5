import { describe, expect, it } from "vitest";
import {
  TIMELINE_PAGE_DEFAULT,
  TIMELINE_PAGE_MAX,
  type TimelinePage,
  type TimelineQuery,
} from "../../../component/src/domain/timeline-query.js";
import type { TimelineEntry } from "../../../component/src/domain/timeline-types.js";
import { ALICE, BOB, expectError } from "./fixture.js";
import {
  CAROL_NODE,
  ERIN_NODE,
  following,
  itemIds,
  makeTimeline,
  post,
  type TimelineHarness,
  timelineOf,
} from "./timeline-fixture.js";

/** Alice follows Carol's node; `n` posts p1..pn arrive one a second (p1 at `t0`). */
async function seeded(
  n: number,
): Promise<{ h: TimelineHarness; t0: number; all: TimelineEntry[] }> {
  const h = makeTimeline();
  await following(h);
  const t0 = h.clock.now;
  for (let i = 1; i <= n; i++) {
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post(`p${i}`)], "event");
    h.clock.now += 1000;
  }
  return { h, t0, all: await timelineOf(h) };
}

const query = async (h: TimelineHarness, q: TimelineQuery, actor = ALICE): Promise<TimelinePage> =>
  (await h.timeline.queryTimeline(actor, ALICE, q)).result;

/** The MAM id of the entry with this item id. */
const idOf = (all: readonly TimelineEntry[], itemId: string): string =>
  String(all.find((e) => e.itemId === itemId)?.seq);

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `p${from + i}`);

describe("queryTimeline: who may read", () => {
  it("refuses anyone but the owner with forbidden", async () => {
    const { h } = await seeded(1);
    for (const actor of [BOB, "alice@example.org.evil", "example.org", "alice@mb.example.org"]) {
      await expectError(() => h.timeline.queryTimeline(actor, ALICE, {}), {
        condition: "forbidden",
      });
    }
  });

  it("compares bare JIDs, without regard to case", async () => {
    const { h } = await seeded(2);
    for (const actor of [ALICE, "alice@example.org/phone", "ALICE@Example.ORG/Laptop"]) {
      expect(
        itemIds((await h.timeline.queryTimeline(actor, "Alice@example.org", {})).result.entries),
      ).toEqual(["p1", "p2"]);
    }
  });

  it("gives an empty timeline as an empty, complete page", async () => {
    const h = makeTimeline();
    expect(await query(h, {})).toEqual({ entries: [], count: 0, complete: true });
    expect(await query(h, { before: "" })).toEqual({ entries: [], count: 0, complete: true });
  });
});

describe("queryTimeline: paging", () => {
  it("starts from the oldest, with the default page size", async () => {
    const { h } = await seeded(TIMELINE_PAGE_DEFAULT + 5);
    const page = await query(h, {});
    expect(page.entries).toHaveLength(TIMELINE_PAGE_DEFAULT);
    expect(page.entries[0]?.itemId).toBe("p1");
    expect(page).toMatchObject({
      count: TIMELINE_PAGE_DEFAULT + 5,
      firstIndex: 0,
      complete: false,
    });
  });

  it("takes max entries; complete only when the page reaches the end", async () => {
    const { h } = await seeded(5);
    const two = await query(h, { max: 2 });
    expect(itemIds(two.entries)).toEqual(["p1", "p2"]);
    expect(two).toMatchObject({ count: 5, firstIndex: 0, complete: false });
    expect((await query(h, { max: 5 })).complete).toBe(true);
    expect((await query(h, { max: 6 })).complete).toBe(true);
    expect((await query(h, { max: 4 })).complete).toBe(false);
  });

  it("gives the count alone for max 0", async () => {
    const { h } = await seeded(3);
    const page = await query(h, { max: 0 });
    expect(page.entries).toEqual([]);
    expect(page.count).toBe(3);
    expect(page.firstIndex).toBeUndefined();
  });

  it("pages forward with after to the end, complete on the last page", async () => {
    const { h, all } = await seeded(5);
    const pages: string[][] = [];
    const indexes: (number | undefined)[] = [];
    let q: TimelineQuery = { max: 2 };
    for (;;) {
      const page = await query(h, q);
      pages.push(itemIds(page.entries));
      indexes.push(page.firstIndex);
      expect(page.count).toBe(5);
      if (page.complete) break;
      const last = page.entries.at(-1);
      if (!last) throw new Error("an incomplete page without entries");
      q = { max: 2, after: String(last.seq) };
    }
    expect(pages).toEqual([["p1", "p2"], ["p3", "p4"], ["p5"]]);
    expect(indexes).toEqual([0, 2, 4]);
    // A page that ends exactly at the last entry is complete too.
    expect(await query(h, { max: 2, after: idOf(all, "p3") })).toMatchObject({
      complete: true,
      firstIndex: 3,
    });
    expect(itemIds((await query(h, { max: 2, after: idOf(all, "p3") })).entries)).toEqual([
      "p4",
      "p5",
    ]);
    // After the newest: an empty, complete page.
    expect(await query(h, { after: idOf(all, "p5") })).toEqual({
      entries: [],
      count: 5,
      complete: true,
    });
  });

  it('gives the newest page for before ""', async () => {
    const { h } = await seeded(5);
    const page = await query(h, { max: 2, before: "" });
    expect(itemIds(page.entries)).toEqual(["p4", "p5"]);
    expect(page).toMatchObject({ count: 5, firstIndex: 3, complete: false });
    const all = await query(h, { max: 5, before: "" });
    expect(itemIds(all.entries)).toEqual(range(1, 5));
    expect(all).toMatchObject({ firstIndex: 0, complete: true });
  });

  it("pages backward with before an id, complete on the oldest page", async () => {
    const { h } = await seeded(5);
    const pages: string[][] = [];
    const indexes: (number | undefined)[] = [];
    let q: TimelineQuery = { max: 2, before: "" };
    for (;;) {
      const page = await query(h, q);
      pages.push(itemIds(page.entries));
      indexes.push(page.firstIndex);
      if (page.complete) break;
      const first = page.entries[0];
      if (!first) throw new Error("an incomplete page without entries");
      q = { max: 2, before: String(first.seq) };
    }
    expect(pages).toEqual([["p4", "p5"], ["p2", "p3"], ["p1"]]);
    expect(indexes).toEqual([3, 1, 0]);
  });

  it("counts and indexes within the filters", async () => {
    const { h, t0 } = await seeded(6);
    // p3..p6 arrived at t0+2s..t0+5s.
    const page = await query(h, { start: t0 + 2000, max: 2, after: "" });
    expect(itemIds(page.entries)).toEqual(["p3", "p4"]);
    expect(page).toMatchObject({ count: 4, firstIndex: 0, complete: false });
    const next = await query(h, { start: t0 + 2000, max: 2, after: String(page.entries[1]?.seq) });
    expect(itemIds(next.entries)).toEqual(["p5", "p6"]);
    expect(next).toMatchObject({ count: 4, firstIndex: 2, complete: true });
  });

  it("caps max at TIMELINE_PAGE_MAX", async () => {
    const h = makeTimeline();
    await following(h);
    const posts = Array.from({ length: TIMELINE_PAGE_MAX + 10 }, (_, i) => post(`p${i + 1}`));
    await h.timeline.recordPosts(ALICE, CAROL_NODE, posts, "initial");
    for (const max of [TIMELINE_PAGE_MAX + 1, 1_000_000]) {
      const page = await query(h, { max });
      expect(page.entries).toHaveLength(TIMELINE_PAGE_MAX);
      expect(page).toMatchObject({ count: TIMELINE_PAGE_MAX + 10, complete: false });
    }
    const back = await query(h, { max: 1_000_000, before: "" });
    expect(back.entries).toHaveLength(TIMELINE_PAGE_MAX);
    expect(back.entries.at(-1)?.itemId).toBe(`p${TIMELINE_PAGE_MAX + 10}`);
    expect(back.firstIndex).toBe(10);
  });
});

describe("queryTimeline: filters", () => {
  it("filters on arrival with start and end, both inclusive", async () => {
    const { h, t0 } = await seeded(5);
    const ids = async (q: TimelineQuery) => itemIds((await query(h, q)).entries);
    expect(await ids({ start: t0 + 1000 })).toEqual(range(2, 5));
    expect(await ids({ end: t0 + 2000 })).toEqual(range(1, 3));
    expect(await ids({ start: t0 + 1000, end: t0 + 3000 })).toEqual(range(2, 4));
    expect(await ids({ start: t0 + 1500, end: t0 + 1999 })).toEqual([]);
    expect(await ids({ start: t0 + 10_000 })).toEqual([]);
    expect((await query(h, { start: t0 + 1000, end: t0 + 3000 })).count).toBe(3);
  });

  it("keeps the arrival of a replaced entry for start and end", async () => {
    const { h, t0 } = await seeded(2);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("p1", 2)], "event");
    expect(itemIds((await query(h, { end: t0 })).entries)).toEqual(["p1"]);
  });

  it("filters with a service or an author, as a bare JID in any case", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("c1"), post("c2")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("e1", 1, ERIN_NODE.service)], "event");
    // A post on Erin's node that claims to be Carol's: shown as Erin's (a followed node cannot
    // put words in someone else's mouth), so `with` Carol does not find it.
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("e2", 1, CAROL_NODE.service)], "event");
    const ids = async (w: string) => itemIds((await query(h, { with: w })).entries);
    expect(await ids("erin@other.example")).toEqual(["e1", "e2"]);
    expect(await ids("carol@remote.example")).toEqual(["c1", "c2"]);
    expect(await ids("Carol@Remote.Example/phone")).toEqual(["c1", "c2"]);
    expect(await ids("nobody@remote.example")).toEqual([]);
    expect(await ids("remote.example")).toEqual([]);
    expect(await query(h, { with: "erin@other.example", max: 1 })).toMatchObject({
      count: 2,
      firstIndex: 0,
      complete: false,
    });
  });
});

describe("queryTimeline: bad requests", () => {
  it("answers item-not-found for an unknown or garbled anchor", async () => {
    const { h, all } = await seeded(3);
    const newest = all.at(-1)?.seq ?? 0;
    const bad = [
      String(newest + 1),
      "999999",
      "0",
      "-1",
      "01",
      "1.5",
      "1e3",
      " 1",
      "abc",
      "9".repeat(17),
      "9007199254740993",
    ];
    for (const id of bad) {
      await expectError(() => query(h, { after: id }), { condition: "item-not-found" });
      await expectError(() => query(h, { before: id }), { condition: "item-not-found" });
    }
  });

  it("answers item-not-found for an id of another user's timeline", async () => {
    const { h } = await seeded(1);
    await following(h, CAROL_NODE, BOB);
    await h.timeline.recordPosts(BOB, CAROL_NODE, [post("b1")], "event");
    const [bobs] = await timelineOf(h, BOB);
    expect(bobs).toBeDefined();
    await expectError(() => query(h, { after: String(bobs?.seq) }), {
      condition: "item-not-found",
    });
    const err = await expectError(() => query(h, { before: String(bobs?.seq) }), {
      condition: "item-not-found",
    });
    expect(err.text).toContain(String(bobs?.seq));
  });

  it("answers bad-request for a max that is not a whole number", async () => {
    const { h } = await seeded(1);
    for (const max of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expectError(() => query(h, { max }), { condition: "bad-request" });
    }
  });

  it("checks the actor before anything else", async () => {
    const { h } = await seeded(1);
    await expectError(() => query(h, { max: -1, after: "abc" }, BOB), { condition: "forbidden" });
  });
});
