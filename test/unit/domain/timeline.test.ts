import { describe, expect, it } from "vitest";
import { MICROBLOG_NODE } from "../../../component/src/domain/types.js";
import { ALICE, BOB, eventTypes, expectError, ofType } from "./fixture.js";
import {
  CAROL_NODE,
  ERIN_NODE,
  following,
  itemIds,
  keys,
  makeTimeline,
  post,
  timelineOf,
} from "./timeline-fixture.js";

describe("beginFollow", () => {
  it("records a new follow as requested, by the user's lower-case bare JID", async () => {
    const h = makeTimeline();
    const out = await h.timeline.beginFollow("Alice@Example.org/phone", CAROL_NODE, "Carol@Remote");
    expect(out.events).toEqual([]);
    expect(out.result).toEqual({
      already: false,
      follow: {
        user: ALICE,
        ...CAROL_NODE,
        domain: "remote.example",
        target: "Carol@Remote",
        state: "requested",
        createdAt: h.clock.now,
        updatedAt: h.clock.now,
      },
    });
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toEqual(out.result.follow);
    expect((await h.timeline.listFollowing(ALICE)).result).toEqual([out.result.follow]);
    expect(await h.timeline.pageFollowsAt("remote.example", undefined, 9)).toEqual([
      out.result.follow,
    ]);
    expect(await h.timeline.pageFollowsAt("other.example", undefined, 9)).toEqual([]);
  });

  it("says already for a follow that exists, and changes nothing", async () => {
    const h = makeTimeline();
    const first = await h.timeline.beginFollow(ALICE, CAROL_NODE, "carol@remote.example");
    await h.timeline.settleFollow(ALICE, CAROL_NODE, { state: "pending" });
    h.clock.now += 1000;
    const again = await h.timeline.beginFollow(ALICE, CAROL_NODE, "xmpp:carol@remote.example");
    expect(again.result.already).toBe(true);
    expect(again.result.follow).toMatchObject({
      target: "carol@remote.example",
      state: "pending",
      createdAt: first.result.follow.createdAt,
    });
    expect((await h.timeline.listFollowing(ALICE)).result).toHaveLength(1);
  });

  it("refuses a follow past the limit with policy-violation and a readable text", async () => {
    const h = makeTimeline({ timeline: { maxFollows: 2 } });
    await h.timeline.beginFollow(ALICE, CAROL_NODE, "a");
    await h.timeline.beginFollow(ALICE, ERIN_NODE, "b");
    const third = { service: "frank@third.example", node: MICROBLOG_NODE };
    const err = await expectError(() => h.timeline.beginFollow(ALICE, third, "c"), {
      condition: "policy-violation",
    });
    expect(err.text).toMatch(/you follow 2 microblogs.*unfollow one first/);
    expect((await h.timeline.findFollow(ALICE, third)).result).toBeUndefined();
    // An existing follow is still "already", at the limit; another user has a limit of their own.
    expect((await h.timeline.beginFollow(ALICE, ERIN_NODE, "b")).result.already).toBe(true);
    expect((await h.timeline.beginFollow(BOB, third, "c")).result.already).toBe(false);
  });
});

describe("settleFollow", () => {
  it("records pending, then subscribed with the remote subid", async () => {
    const h = makeTimeline();
    await h.timeline.beginFollow(ALICE, CAROL_NODE, "c");
    h.clock.now += 500;
    const pending = await h.timeline.settleFollow(ALICE, CAROL_NODE, { state: "pending" });
    expect(pending.result).toMatchObject({ state: "pending", updatedAt: h.clock.now });
    expect(pending.result?.subid).toBeUndefined();
    const subscribed = await h.timeline.settleFollow(ALICE, CAROL_NODE, {
      state: "subscribed",
      subid: "s-1",
    });
    expect(subscribed.result).toMatchObject({ state: "subscribed", subid: "s-1" });
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toEqual(subscribed.result);
  });

  it("ends the follow on none and takes its posts out of the timeline (only its own)", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a"), post("b")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("a")], "event");
    const out = await h.timeline.settleFollow(ALICE, CAROL_NODE, { state: "none" });
    expect(out).toEqual({ result: undefined, events: [] });
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toBeUndefined();
    expect(keys(await timelineOf(h))).toEqual([`${ERIN_NODE.service} ${MICROBLOG_NODE} a`]);
  });

  it("changes nothing for a follow nobody asked for", async () => {
    const h = makeTimeline();
    for (const state of ["pending", "subscribed", "none"] as const) {
      const out = await h.timeline.settleFollow(ALICE, CAROL_NODE, { state });
      expect(out).toEqual({ result: undefined, events: [] });
    }
    expect((await h.timeline.listFollowing(ALICE)).result).toEqual([]);
  });
});

describe("recordPosts: duplicates and replacements", () => {
  it("keeps one entry per (service, node, itemId) and announces it only the first time", async () => {
    const h = makeTimeline();
    await following(h);
    const first = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "event");
    expect(first.result).toMatchObject({ replaced: 0 });
    expect(first.result.dropped).toBeUndefined();
    expect(itemIds(first.result.added)).toEqual(["a"]);
    expect(eventTypes(first.events)).toEqual(["timeline-posts"]);
    expect(ofType(first.events, "timeline-posts")[0]).toMatchObject({
      user: ALICE,
      entries: first.result.added,
    });
    h.clock.now += 1000;
    const again = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "initial");
    expect(again).toEqual({ result: { added: [], replaced: 0 }, events: [] });
    // The same post twice in one batch is one entry too.
    const batch = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("b"), post("b")], "event");
    expect(itemIds(batch.result.added)).toEqual(["b"]);
    expect(itemIds(await timelineOf(h))).toEqual(["a", "b"]);
  });

  it("replaces a changed payload in place: same seq and arrival, no event", async () => {
    const h = makeTimeline();
    await following(h);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a"), post("b")], "event");
    const [before] = await timelineOf(h);
    h.clock.now += 60_000;
    // (An author the node cannot speak for is shown as the node's service.)
    const changed = { ...post("a", 2), author: "dave@remote.example", publishedAt: 1 };
    const out = await h.timeline.recordPosts(ALICE, CAROL_NODE, [changed], "event");
    expect(out).toEqual({ result: { added: [], replaced: 1 }, events: [] });
    const [after, b] = await timelineOf(h);
    expect(after).toEqual({
      ...before,
      payload: changed.payload,
      author: CAROL_NODE.service,
      publishedAt: 1,
    });
    expect(b?.itemId).toBe("b");
  });

  it("keeps the same item id of different nodes and services apart", async () => {
    const h = makeTimeline();
    const otherNode = { ...CAROL_NODE, node: "urn:xmpp:microblog:0:comments/x" };
    for (const ref of [CAROL_NODE, otherNode, ERIN_NODE]) {
      await following(h, ref);
      const out = await h.timeline.recordPosts(ALICE, ref, [post("same")], "event");
      expect(out.result.added).toHaveLength(1);
      expect(out.events).toHaveLength(1);
    }
    const entries = await timelineOf(h);
    expect(keys(entries)).toEqual([
      `carol@remote.example ${MICROBLOG_NODE} same`,
      "carol@remote.example urn:xmpp:microblog:0:comments/x same",
      `erin@other.example ${MICROBLOG_NODE} same`,
    ]);
    expect(new Set(entries.map((e) => e.seq)).size).toBe(3);
  });

  it("keeps each user's timeline apart", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE, ALICE);
    await following(h, CAROL_NODE, BOB);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "event");
    const bob = await h.timeline.recordPosts(BOB, CAROL_NODE, [post("a")], "event");
    expect(bob.result.added).toHaveLength(1);
    expect(itemIds(await timelineOf(h, ALICE))).toEqual(["a"]);
    expect(itemIds(await timelineOf(h, BOB))).toEqual(["a"]);
  });
});

describe("recordPosts: the spam filter", () => {
  it("drops posts from a node the user does not follow: nothing stored, no event", async () => {
    const h = makeTimeline();
    await following(h, ERIN_NODE);
    for (const source of ["event", "initial", "replay", "catch-up"] as const) {
      const out = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("spam")], source);
      expect(out).toEqual({
        result: { added: [], replaced: 0, dropped: "not-following" },
        events: [],
      });
    }
    // Following Carol's node is not following another node of hers, nor Carol following it.
    await following(h, CAROL_NODE, BOB);
    const other = { ...CAROL_NODE, node: "other" };
    expect((await h.timeline.recordPosts(ALICE, other, [post("x")], "event")).result.dropped).toBe(
      "not-following",
    );
    expect(
      (await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("x")], "event")).result.dropped,
    ).toBe("not-following");
    expect(await timelineOf(h)).toEqual([]);
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toBeUndefined();
  });

  it("drops them after endFollow too, which took the node's posts out", async () => {
    const h = makeTimeline();
    await following(h);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a"), post("b")], "event");
    expect((await h.timeline.endFollow(ALICE, CAROL_NODE)).result).toEqual({
      existed: true,
      removed: 2,
    });
    expect(await timelineOf(h)).toEqual([]);
    const out = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("c")], "event");
    expect(out).toEqual({
      result: { added: [], replaced: 0, dropped: "not-following" },
      events: [],
    });
    expect(await timelineOf(h)).toEqual([]);
    expect((await h.timeline.endFollow(ALICE, CAROL_NODE)).result).toEqual({
      existed: false,
      removed: 0,
    });
  });

  it("lets posts in while the follow is requested or pending", async () => {
    const h = makeTimeline();
    await h.timeline.beginFollow(ALICE, CAROL_NODE, "c");
    const out = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "initial");
    expect(out.result.added).toHaveLength(1);
  });
});

describe("recordPosts: follow state", () => {
  it("promotes a requested or pending follow to subscribed on an event", async () => {
    const h = makeTimeline();
    await h.timeline.beginFollow(ALICE, CAROL_NODE, "c");
    await h.timeline.beginFollow(ALICE, ERIN_NODE, "e");
    await h.timeline.settleFollow(ALICE, ERIN_NODE, { state: "pending", subid: "x" });
    h.clock.now += 1000;
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("a")], "event");
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toMatchObject({
      state: "subscribed",
      updatedAt: h.clock.now,
    });
    expect((await h.timeline.findFollow(ALICE, ERIN_NODE)).result).toMatchObject({
      state: "subscribed",
      subid: "x",
    });
  });

  it("leaves it as it is on a backfill (initial or catch-up)", async () => {
    const h = makeTimeline();
    await h.timeline.beginFollow(ALICE, CAROL_NODE, "c");
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "initial");
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result?.state).toBe("requested");
    await h.timeline.settleFollow(ALICE, CAROL_NODE, { state: "pending" });
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("b")], "initial");
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result?.state).toBe("pending");
  });
});

describe("relay setting", () => {
  it("is on by default and the event follows updateSettings", async () => {
    const h = makeTimeline();
    await following(h);
    expect((await h.timeline.getSettings(ALICE)).result).toEqual({ relay: true });
    const on = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "event");
    expect(ofType(on.events, "timeline-posts")[0]?.relay).toBe(true);
    expect(
      (await h.timeline.updateSettings("Alice@Example.org/x", { relay: false })).result,
    ).toEqual({
      relay: false,
    });
    expect((await h.timeline.getSettings(ALICE)).result).toEqual({ relay: false });
    expect((await h.timeline.getSettings(BOB)).result).toEqual({ relay: true });
    const off = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("b")], "event");
    expect(ofType(off.events, "timeline-posts")[0]).toMatchObject({ relay: false, user: ALICE });
    // An empty change keeps what was set.
    expect((await h.timeline.updateSettings(ALICE, {})).result).toEqual({ relay: false });
    await h.timeline.updateSettings(ALICE, { relay: true });
    const back = await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("c")], "event");
    expect(ofType(back.events, "timeline-posts")[0]?.relay).toBe(true);
  });
});

describe("timeline bound", () => {
  it("keeps the newest maxTimelineEntries; the oldest go", async () => {
    const h = makeTimeline({ timeline: { maxTimelineEntries: 3 } });
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    const out = await h.timeline.recordPosts(
      ALICE,
      CAROL_NODE,
      ["p1", "p2", "p3", "p4"].map((id) => post(id)),
      "event",
    );
    // All four were new (and announced); only three are kept.
    expect(out.result.added).toHaveLength(4);
    expect(itemIds(await timelineOf(h))).toEqual(["p2", "p3", "p4"]);
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("e1")], "event");
    expect(keys(await timelineOf(h)).map((k) => k.split(" ")[2])).toEqual(["p3", "p4", "e1"]);
    // A replacement keeps its place and trims nothing.
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("p3", 2)], "event");
    expect(itemIds(await timelineOf(h))).toEqual(["p3", "p4", "e1"]);
  });
});

describe("removePosts and followedNodeDeleted", () => {
  it("retracts the named items of that node only", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a"), post("b"), post("c")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("a")], "event");
    const out = await h.timeline.removePosts(ALICE, CAROL_NODE, ["a", "c", "nope"]);
    expect(out).toEqual({ result: { removed: 2 }, events: [] });
    expect(keys(await timelineOf(h))).toEqual([
      `carol@remote.example ${MICROBLOG_NODE} b`,
      `erin@other.example ${MICROBLOG_NODE} a`,
    ]);
  });

  it("purges every entry of that node only (itemIds undefined)", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a"), post("b")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("a"), post("z")], "event");
    expect((await h.timeline.removePosts(ALICE, CAROL_NODE, undefined)).result).toEqual({
      removed: 2,
    });
    expect(itemIds(await timelineOf(h))).toEqual(["a", "z"]);
    expect((await timelineOf(h)).every((e) => e.service === ERIN_NODE.service)).toBe(true);
    // The follow stays.
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result?.state).toBe("subscribed");
  });

  it("drops retractions from a node not followed", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE, BOB);
    await h.timeline.recordPosts(BOB, CAROL_NODE, [post("a")], "event");
    for (const ids of [["a"], undefined]) {
      expect((await h.timeline.removePosts(ALICE, CAROL_NODE, ids)).result).toEqual({
        removed: 0,
        dropped: "not-following",
      });
    }
    expect(itemIds(await timelineOf(h, BOB))).toEqual(["a"]);
  });

  it("ends the follow and its posts when the followed node is deleted", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE);
    await following(h, ERIN_NODE);
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [post("a")], "event");
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [post("b")], "event");
    expect(await h.timeline.followedNodeDeleted(ALICE, CAROL_NODE)).toEqual({
      result: {},
      events: [],
    });
    expect((await h.timeline.findFollow(ALICE, CAROL_NODE)).result).toBeUndefined();
    expect(itemIds(await timelineOf(h))).toEqual(["b"]);
    expect((await h.timeline.followedNodeDeleted(ALICE, CAROL_NODE)).result).toEqual({
      dropped: "not-following",
    });
  });
});
