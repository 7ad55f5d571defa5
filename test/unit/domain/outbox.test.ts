import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Bounce } from "../../../component/src/domain/outbox-use-cases.js";
import { DEFAULT_RETRY_POLICY } from "../../../component/src/domain/retry-schedule.js";
import type { OutboxEntry } from "../../../component/src/domain/timeline-types.js";
import { read } from "./fixture.js";
import { makeTimeline, type TimelineHarness } from "./timeline-fixture.js";

const A = "remote.example";
const B = "other.example";

/** A first bounce of message `id` to a user of `domain` (stanza included). */
const bounce = (id: string, domain = A, condition = "remote-server-not-found"): Bounce => ({
  recipient: `carol@${domain}`,
  domain,
  messageId: id,
  stanza: `<message id="${id}" to="carol@${domain}"/>`,
  condition,
});

/** The same message bouncing again: the outbox has its stanza. */
const again = (id: string, domain = A, condition = "remote-server-timeout"): Bounce => {
  const { stanza: _, ...rest } = bounce(id, domain, condition);
  return rest;
};

const behind = (id: string, domain = A) => ({
  recipient: `carol@${domain}`,
  domain,
  messageId: id,
  stanza: `<message id="${id}"/>`,
});

const stored = (h: TimelineHarness, id: string): Promise<OutboxEntry | undefined> =>
  read(h, (tx) => tx.getOutboxByMessageId(id));

const counters = (h: TimelineHarness) => h.service.getCounters();

const messageIds = (entries: readonly OutboxEntry[]) => entries.map((e) => e.messageId);

/** Advance the clock and take what is due (each entry is then marked sent). */
async function takeAt(h: TimelineHarness, ms: number, limit = 100): Promise<string[]> {
  h.clock.now += ms;
  return messageIds((await h.timeline.takeDueDeliveries(limit)).result);
}

// No jitter: every delay is the base delay (5 s, 20 s, 80 s, ...).
beforeEach(() => {
  vi.spyOn(Math, "random").mockReturnValue(0.5);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("deferDelivery", () => {
  it("queues a first bounce with attempts 1, due after the first delay", async () => {
    const h = makeTimeline();
    const t = h.clock.now;
    const out = await h.timeline.deferDelivery(bounce("m1"));
    expect(out.events).toEqual([]);
    expect(out.result.kind).toBe("queued");
    const entry = out.result.kind === "queued" ? out.result.entry : undefined;
    const expected = {
      recipient: `carol@${A}`,
      domain: A,
      messageId: "m1",
      stanza: bounce("m1").stanza,
      attempts: 1,
      createdAt: t,
      nextAttemptAt: t + 5_000,
      deadline: t + DEFAULT_RETRY_POLICY.deadlineMs,
      lastError: "remote-server-not-found",
    };
    expect(entry).toEqual({ id: entry?.id, ...expected });
    expect(await stored(h, "m1")).toEqual(entry);
    expect(await counters(h)).toMatchObject({ "outbox:queued": 1 });
    expect(await takeAt(h, 4_999)).toEqual([]);
    expect(await takeAt(h, 1)).toEqual(["m1"]);
  });

  it("reschedules the domain's waiting entries with it, not other domains'", async () => {
    const h = makeTimeline();
    await h.timeline.queueBehind(behind("q1", A));
    await h.timeline.queueBehind(behind("q2", B));
    h.clock.now += 3_000;
    await h.timeline.deferDelivery(bounce("m1", A));
    expect((await stored(h, "q1"))?.nextAttemptAt).toBe(h.clock.now + 5_000);
    expect((await stored(h, "q2"))?.nextAttemptAt).toBe(h.clock.now + 2_000);
    expect((await h.timeline.outboxDomains()).result).toEqual([
      { domain: B, nextAttemptAt: h.clock.now + 2_000, count: 1 },
      { domain: A, nextAttemptAt: h.clock.now + 5_000, count: 2 },
    ]);
  });

  it("bumps attempts on a second bounce, clears sentAt and pushes the schedule back ×4", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    expect(await takeAt(h, 5_000)).toEqual(["m1"]);
    expect((await stored(h, "m1"))?.sentAt).toBe(h.clock.now);
    h.clock.now += 2_000;
    const out = await h.timeline.deferDelivery(again("m1"));
    const want = {
      attempts: 2,
      nextAttemptAt: h.clock.now + 20_000,
      lastError: "remote-server-timeout",
    };
    expect(out.result).toMatchObject({ kind: "queued", entry: want });
    if (out.result.kind !== "queued") throw new Error("not queued");
    expect(out.result.entry.sentAt).toBeUndefined();
    const entry = await stored(h, "m1");
    expect(entry).toMatchObject(want);
    expect(entry?.sentAt).toBeUndefined();
    expect(entry).toEqual(out.result.entry);
    expect(await counters(h)).toMatchObject({ "outbox:queued": 1, "outbox:bounced-again": 1 });
    // The third bounce waits 80 s.
    expect(await takeAt(h, 20_000)).toEqual(["m1"]);
    await h.timeline.deferDelivery(again("m1"));
    expect((await stored(h, "m1"))?.nextAttemptAt).toBe(h.clock.now + 80_000);
    expect((await stored(h, "m1"))?.attempts).toBe(3);
  });

  it("gives up a bounce after the deadline: deleted and counted", async () => {
    const h = makeTimeline({}, { deadlineMs: 60_000 });
    await h.timeline.deferDelivery(bounce("m1"));
    expect(await takeAt(h, 59_999)).toEqual(["m1"]);
    expect((await h.timeline.deferDelivery(again("m1"))).result.kind).toBe("queued");
    expect(await takeAt(h, 20_000)).toEqual(["m1"]);
    const out = await h.timeline.deferDelivery(again("m1"));
    expect(out.result).toMatchObject({ kind: "gave-up", entry: { messageId: "m1", attempts: 2 } });
    expect(await stored(h, "m1")).toBeUndefined();
    expect(await h.timeline.countOutbox()).toBe(0);
    expect(await counters(h)).toMatchObject({ "outbox:gave-up": 1 });
    // It is gone: the next bounce of that id, without its stanza, is unknown.
    expect((await h.timeline.deferDelivery(again("m1"))).result).toEqual({ kind: "unknown" });
  });

  it("answers unknown for an id it does not have and no stanza, storing nothing", async () => {
    const h = makeTimeline();
    expect(await h.timeline.deferDelivery(again("nope"))).toEqual({
      result: { kind: "unknown" },
      events: [],
    });
    expect(await h.timeline.countOutbox()).toBe(0);
    expect(await counters(h)).not.toHaveProperty("outbox:queued");
  });

  it("uses the TimelineService's retry policy", async () => {
    const h = makeTimeline({}, { firstDelayMs: 1_000 });
    expect(h.timeline.retry).toEqual({ ...DEFAULT_RETRY_POLICY, firstDelayMs: 1_000 });
    await h.timeline.deferDelivery(bounce("m1"));
    expect((await stored(h, "m1"))?.nextAttemptAt).toBe(h.clock.now + 1_000);
  });
});

describe("order per domain", () => {
  it("assigns ascending ids and takes due entries by id, marking them sent", async () => {
    const h = makeTimeline();
    for (const [id, d] of [
      ["a1", A],
      ["b1", B],
      ["a2", A],
      ["b2", B],
    ] as const) {
      await h.timeline.deferDelivery(bounce(id, d));
    }
    const ids = await Promise.all(
      ["a1", "b1", "a2", "b2"].map(async (m) => (await stored(h, m))?.id ?? 0),
    );
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    h.clock.now += 5_000;
    const taken = (await h.timeline.takeDueDeliveries(3)).result;
    expect(messageIds(taken)).toEqual(["a1", "b1", "a2"]);
    for (const m of ["a1", "b1", "a2"]) expect((await stored(h, m))?.sentAt).toBe(h.clock.now);
    expect((await stored(h, "b2"))?.sentAt).toBeUndefined();
    expect(await takeAt(h, 0)).toEqual(["b2"]);
    // Sent entries are not due again until they bounce.
    expect(await takeAt(h, 3_600_000)).toEqual([]);
    expect(await h.timeline.countOutbox()).toBe(4);
    expect(await counters(h)).toMatchObject({ "outbox:resent": 4 });
  });

  it("queues a notification behind a waiting domain, not sent before what waits", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    expect(await takeAt(h, 5_000)).toEqual(["m1"]);
    await h.timeline.deferDelivery(again("m1"));
    // m1 waits 20 s now; a new notification to the same domain goes behind it.
    const out = await h.timeline.queueBehind(behind("m2"));
    expect(out.events).toEqual([]);
    expect(out.result).toMatchObject({ messageId: "m2", attempts: 0, lastError: "" });
    expect(out.result?.id).toBeGreaterThan((await stored(h, "m1"))?.id ?? Infinity);
    expect(out.result?.sentAt).toBeUndefined();
    expect(out.result?.deadline).toBe(h.clock.now + DEFAULT_RETRY_POLICY.deadlineMs);
    expect(await counters(h)).toMatchObject({ "outbox:queued-behind": 1 });
    expect(await takeAt(h, 5_000)).toEqual([]);
    expect(await takeAt(h, 15_000)).toEqual(["m1", "m2"]);
  });

  it("queues behind with the first delay when the domain has nothing waiting", async () => {
    const h = makeTimeline();
    const out = await h.timeline.queueBehind(behind("m1", B));
    expect(out.result?.nextAttemptAt).toBe(h.clock.now + 5_000);
    expect(await takeAt(h, 5_000)).toEqual(["m1"]);
  });
});

describe("settleOutbox", () => {
  it("deletes entries sent longer than quietMs ago as delivered; keeps recent ones", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("m1"));
    await h.timeline.deferDelivery(bounce("m2", B));
    expect(await takeAt(h, 5_000)).toEqual(["m1", "m2"]);
    await h.timeline.deferDelivery(again("m2", B));
    h.clock.now += 119_999;
    expect((await h.timeline.settleOutbox(120_000, 100)).result).toEqual({
      delivered: 0,
      gaveUp: [],
    });
    h.clock.now += 1;
    expect((await h.timeline.settleOutbox(120_000, 100)).result).toEqual({
      delivered: 1,
      gaveUp: [],
    });
    expect(await stored(h, "m1")).toBeUndefined();
    // m2 bounced again: it waits, and is not "delivered".
    expect((await stored(h, "m2"))?.attempts).toBe(2);
    expect(await counters(h)).toMatchObject({ "outbox:delivered": 1 });
  });

  it("gives up waiting entries past their deadline and returns them", async () => {
    const h = makeTimeline({}, { deadlineMs: 60_000, maxDelayMs: 120_000 });
    await h.timeline.deferDelivery(bounce("m1"));
    await h.timeline.deferDelivery(bounce("m2", B));
    expect(await takeAt(h, 5_000)).toEqual(["m1", "m2"]);
    h.clock.now += 1_000;
    await h.timeline.deferDelivery(again("m1"));
    await h.timeline.queueBehind(behind("m3", A));
    h.clock.now += 60_000;
    // m1 and m3 wait past their deadlines; m2, sent again and unbounced, is delivered.
    const out = (await h.timeline.settleOutbox(120_000, 100)).result;
    expect(out.delivered).toBe(0);
    expect(messageIds(out.gaveUp)).toEqual(["m1"]);
    h.clock.now += 6_000;
    const later = (await h.timeline.settleOutbox(60_000, 100)).result;
    expect(later.delivered).toBe(1);
    expect(messageIds(later.gaveUp)).toEqual(["m3"]);
    expect(await h.timeline.countOutbox()).toBe(0);
    expect(await counters(h)).toMatchObject({ "outbox:gave-up": 2, "outbox:delivered": 1 });
  });

  it("settles at most limit entries of each kind", async () => {
    const h = makeTimeline();
    for (const m of ["m1", "m2", "m3"]) await h.timeline.deferDelivery(bounce(m));
    expect(await takeAt(h, 5_000)).toHaveLength(3);
    h.clock.now += 200_000;
    expect((await h.timeline.settleOutbox(120_000, 2)).result.delivered).toBe(2);
    expect(await h.timeline.countOutbox()).toBe(1);
    expect((await h.timeline.settleOutbox(120_000, 2)).result.delivered).toBe(1);
  });
});

describe("wakeDomain", () => {
  it("makes that domain's waiting entries due now, and only those", async () => {
    const h = makeTimeline();
    await h.timeline.deferDelivery(bounce("a1", A));
    await h.timeline.deferDelivery(bounce("b1", B));
    await h.timeline.queueBehind(behind("a2", A));
    expect(await takeAt(h, 1_000)).toEqual([]);
    expect((await h.timeline.wakeDomain(A)).result).toBe(2);
    expect(await takeAt(h, 0)).toEqual(["a1", "a2"]);
    // Nothing of A waits any more (sent entries are not rescheduled).
    expect((await h.timeline.wakeDomain(A)).result).toBe(0);
    expect((await h.timeline.wakeDomain("nowhere.example")).result).toBe(0);
    expect((await h.timeline.outboxDomains()).result).toEqual([
      { domain: B, nextAttemptAt: h.clock.now + 4_000, count: 1 },
    ]);
    expect(await h.timeline.countOutbox()).toBe(3);
  });
});
