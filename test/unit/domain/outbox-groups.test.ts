import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Bounce } from "../../../component/src/domain/outbox-use-cases.js";
import { read } from "./fixture.js";
import { CAROL_NODE, following, makeTimeline, post } from "./timeline-fixture.js";

const A = "remote.example";
const CAROL = `carol@${A}`;

const bounce = (id: string, over: Partial<Bounce> = {}): Bounce => ({
  recipient: CAROL,
  domain: A,
  messageId: id,
  stanza: `<message id="${id}" to="${CAROL}"/>`,
  condition: "remote-server-not-found",
  ...over,
});

beforeEach(() => {
  vi.spyOn(Math, "random").mockReturnValue(0.5);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("outbox: who may bounce, and schedule groups", () => {
  it("a bounce of a queued id from anyone but the recipient or its server changes nothing", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    const before = await read(h, (tx) => tx.getOutboxByMessageId("m1"));
    for (const from of ["mallory@evil.example", "evil.example", "dave@remote.example"]) {
      const out = await h.timeline.deferDelivery({ ...bounce("m1"), stanza: undefined, from });
      expect(out.result.kind, from).toBe("unknown");
    }
    expect(await read(h, (tx) => tx.getOutboxByMessageId("m1"))).toEqual(before);
    for (const from of [CAROL, A]) {
      const out = await h.timeline.deferDelivery({ ...bounce("m1"), stanza: undefined, from });
      expect(out.result.kind, from).toBe("queued");
    }
  });

  it("a schedule only moves later: a new bounce does not pull a backed-off group forward", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    for (let i = 0; i < 3; i++) {
      h.clock.now += 10 * 60_000;
      await h.timeline.takeDueDeliveries(10);
      await h.timeline.deferDelivery({ ...bounce("m1"), stanza: undefined });
    }
    const backedOff = (await h.timeline.outboxDomains()).result[0]?.nextAttemptAt ?? 0;
    await h.timeline.deferDelivery(bounce("m2"));
    const groups = (await h.timeline.outboxDomains()).result;
    expect(groups).toEqual([{ domain: A, nextAttemptAt: backedOff, count: 2 }]);
  });

  it("one recipient's errors hold only that recipient, and end after a day", async () => {
    const h = makeTimeline({}, { recipientDeadlineMs: 60_000 });
    const own = { domain: CAROL, condition: "service-unavailable" };
    await h.timeline.deferDelivery(bounce("m1", own));
    expect((await h.timeline.outboxDomains()).result.map((g) => g.domain)).toEqual([CAROL]);
    h.clock.now += 61_000;
    await h.timeline.takeDueDeliveries(10);
    const out = await h.timeline.deferDelivery({ ...bounce("m1", own), stanza: undefined });
    expect(out.result.kind).toBe("gave-up");
    expect(await h.timeline.countOutbox()).toBe(0);
  });

  it("a group holds at most maxPerGroup entries: more are given up and counted", async () => {
    const h = makeTimeline({}, { maxPerGroup: 2 });
    await h.timeline.deferDelivery(bounce("m1"));
    await h.timeline.deferDelivery(bounce("m2"));
    expect((await h.timeline.deferDelivery(bounce("m3"))).result.kind).toBe("overflow");
    const behind = { recipient: CAROL, domain: A, messageId: "m4", stanza: "<message/>" };
    expect((await h.timeline.queueBehind(behind)).result).toBeUndefined();
    expect(await h.timeline.countOutbox()).toBe(2);
    expect(await h.service.getCounters()).toMatchObject({ "outbox:overflow": 2 });
  });

  it("after a restart, what had been sent again is due again", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    h.clock.now += 60_000;
    expect((await h.timeline.takeDueDeliveries(10)).result).toHaveLength(1);
    expect((await h.timeline.takeDueDeliveries(10)).result).toHaveLength(0);
    expect((await h.timeline.unsendOutbox()).result).toBe(1);
    expect((await h.timeline.takeDueDeliveries(10)).result.map((e) => e.messageId)).toEqual(["m1"]);
  });
});

describe("recordPosts: what is relayed", () => {
  const at = (id: string, publishedAt: number) => ({ ...post(id), publishedAt });

  it("a new follow fills quietly; a replayed last item is not news; events and catch-ups are", async () => {
    const h = makeTimeline();
    await following(h);
    const fill = await h.timeline.recordPosts(
      CAROL,
      CAROL_NODE,
      [at("a", 1), at("b", 2)],
      "initial",
    );
    expect(fill.result.added).toHaveLength(0); // (not Carol's follow)
    const alice = "alice@example.org";
    const quiet = await h.timeline.recordPosts(
      alice,
      CAROL_NODE,
      [at("a", 1), at("b", 2)],
      "initial",
    );
    expect(quiet.result.added).toHaveLength(2);
    expect(quiet.events).toEqual([]);
    const replay = await h.timeline.recordPosts(alice, CAROL_NODE, [at("c", 3)], "replay");
    expect(replay.result.added).toHaveLength(1);
    expect(replay.events).toEqual([]);
    const live = await h.timeline.recordPosts(alice, CAROL_NODE, [at("d", 4)], "event");
    expect(live.events.map((e) => e.type)).toEqual(["timeline-posts"]);
    const caught = await h.timeline.recordPosts(alice, CAROL_NODE, [at("e", 5)], "catch-up");
    expect(caught.events.map((e) => e.type)).toEqual(["timeline-posts"]);
  });

  it("a catch-up skips what is older than the newest post kept (seen, maybe trimmed since)", async () => {
    const h = makeTimeline({ timeline: { maxTimelineEntries: 2 } });
    await following(h);
    const alice = "alice@example.org";
    await h.timeline.recordPosts(alice, CAROL_NODE, [at("a", 1), at("b", 2), at("c", 3)], "event");
    const again = await h.timeline.recordPosts(
      alice,
      CAROL_NODE,
      [at("a", 1), at("b", 2), at("c", 3), at("d", 4)],
      "catch-up",
    );
    expect(again.result.added.map((e) => e.itemId)).toEqual(["d"]);
  });
});

describe("outbox: probing a group that keeps bouncing", () => {
  it("sends only the oldest entry of a group bounced twice; the rest wait the hold; exempt groups go whole", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    await h.timeline.deferDelivery(bounce("m2"));
    const probe = { afterAttempts: 2, holdMs: 30_000, exempt: new Set<string>() };
    h.clock.now += 10_000;
    // Bounced once: the whole group goes.
    expect((await h.timeline.takeDueDeliveries(10, probe)).result.map((e) => e.messageId)).toEqual([
      "m1",
      "m2",
    ]);
    for (const id of ["m1", "m2"]) {
      await h.timeline.deferDelivery({ ...bounce(id), stanza: undefined });
    }
    h.clock.now += 60_000;
    const probed = (await h.timeline.takeDueDeliveries(10, probe)).result.map((e) => e.messageId);
    expect(probed).toEqual(["m1"]);
    expect((await h.timeline.takeDueDeliveries(10, probe)).result).toEqual([]);
    h.clock.now += 30_000;
    expect((await h.timeline.takeDueDeliveries(10, probe)).result.map((e) => e.messageId)).toEqual([
      "m2",
    ]);
    // A group that showed life is sent whole.
    await h.timeline.deferDelivery(bounce("m3"));
    await h.timeline.deferDelivery({ ...bounce("m2"), stanza: undefined });
    await h.timeline.wakeDomain(A);
    const awake = { ...probe, exempt: new Set([A]) };
    const all = (await h.timeline.takeDueDeliveries(10, awake)).result.map((e) => e.messageId);
    expect(all).toEqual(["m2", "m3"]);
  });
});
