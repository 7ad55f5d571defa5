/** The outbox part of the storage contract (run by store-contract-timeline.ts). */
import { describe, expect, it } from "vitest";
import type { PubsubTx } from "../../../component/src/domain/ports.js";
import type { NewOutboxEntry, OutboxEntry } from "../../../component/src/domain/timeline-types.js";

type Run = <T>(fn: (tx: PubsubTx) => Promise<T>) => Promise<T>;

/** A notification to bob@other.example that bounced once, due at 200, given up at 1000. */
export function outboxEntry(messageId: string, extra: Partial<NewOutboxEntry> = {}) {
  const entry: NewOutboxEntry = {
    recipient: "bob@other.example",
    domain: "other.example",
    messageId,
    stanza: `<message id="${messageId}" to="bob@other.example"/>`,
    attempts: 1,
    createdAt: 100,
    nextAttemptAt: 200,
    deadline: 1000,
    lastError: "remote-server-timeout",
    ...extra,
  };
  return entry;
}

const messageIds = (entries: OutboxEntry[]) => entries.map((e) => e.messageId);

/** Enqueue these, in order, in one transaction. */
const enqueueAll = (run: Run, entries: NewOutboxEntry[]) =>
  run(async (tx) => {
    const stored: OutboxEntry[] = [];
    for (const e of entries) stored.push(await tx.enqueueOutbox(e));
    return stored;
  });

export function describeOutbox(run: Run): void {
  describeQueue(run);
  describeSchedule(run);
  describeHousekeeping(run);
}

function describeQueue(run: Run): void {
  describe("outbox queue", () => {
    it("gives ascending ids, never twice, and finds an entry by its message id", async () => {
      const [a, b] = await enqueueAll(run, [outboxEntry("m1"), outboxEntry("m2")]);
      expect(a).toEqual({ ...outboxEntry("m1"), id: a?.id });
      expect(b?.id).toBeGreaterThan(a?.id ?? Infinity);
      expect(await run((tx) => tx.getOutboxByMessageId("m1"))).toEqual(a);
      expect(await run((tx) => tx.getOutboxByMessageId("nope"))).toBeUndefined();
      await run((tx) => tx.deleteOutbox([b?.id ?? 0]));
      const c = await run((tx) => tx.enqueueOutbox(outboxEntry("m3", { sentAt: 150 })));
      expect(c.id).toBeGreaterThan(b?.id ?? Infinity);
      expect(await run((tx) => tx.getOutboxByMessageId("m3"))).toEqual(c);
      expect(c.sentAt).toBe(150);
      expect(await run((tx) => tx.countOutbox())).toBe(2);
    });
    it("refuses a second entry with the same message id", async () => {
      await run((tx) => tx.enqueueOutbox(outboxEntry("m1")));
      await expect(run((tx) => tx.enqueueOutbox(outboxEntry("m1")))).rejects.toThrow();
      expect(await run((tx) => tx.countOutbox())).toBe(1);
    });
    it("deletes entries by id, unknown ids and none at all included", async () => {
      const [a, , c] = await enqueueAll(
        run,
        ["m1", "m2", "m3"].map((m) => outboxEntry(m)),
      );
      await run((tx) => tx.deleteOutbox([a?.id ?? 0, c?.id ?? 0, 999_999]));
      await run((tx) => tx.deleteOutbox([]));
      expect(messageIds(await run((tx) => tx.listDueOutbox(1000, 99)))).toEqual(["m2"]);
      expect(await run((tx) => tx.countOutbox())).toBe(1);
    });
  });
}

function describeSchedule(run: Run): void {
  describe("outbox schedule", () => {
    it("changes only the fields given; sentAt null clears it", async () => {
      const [a] = await enqueueAll(run, [outboxEntry("m1")]);
      const id = a?.id ?? 0;
      const read = () => run((tx) => tx.getOutboxByMessageId("m1"));
      const change = { attempts: 2, nextAttemptAt: 400, sentAt: 300, lastError: "gone" };
      await run((tx) => tx.updateOutbox(id, change));
      expect(await read()).toEqual({ ...a, ...change });
      await run((tx) => tx.updateOutbox(id, { sentAt: null }));
      const { sentAt: _, ...cleared } = { ...a, ...change };
      expect(await read()).toEqual(cleared);
      expect((await read())?.sentAt).toBeUndefined();
      await run((tx) => tx.updateOutbox(id, {}));
      await run((tx) => tx.updateOutbox(id, { attempts: 3 }));
      expect(await read()).toEqual({ ...cleared, attempts: 3 });
      await run((tx) => tx.updateOutbox(999_999, { attempts: 9 }));
      expect(await run((tx) => tx.countOutbox())).toBe(1);
    });
    it("reschedules only the waiting entries of one domain", async () => {
      await enqueueAll(run, [
        outboxEntry("m1"),
        outboxEntry("m2", { sentAt: 150 }),
        outboxEntry("m3", { domain: "third.example", recipient: "c@third.example" }),
        outboxEntry("m4", { nextAttemptAt: 900 }),
      ]);
      expect(await run((tx) => tx.rescheduleOutboxDomain("other.example", 500))).toBe(2);
      const next = async (m: string) =>
        (await run((tx) => tx.getOutboxByMessageId(m)))?.nextAttemptAt;
      expect([await next("m1"), await next("m2"), await next("m3"), await next("m4")]).toEqual([
        500, 200, 200, 500,
      ]);
      expect(await run((tx) => tx.rescheduleOutboxDomain("nowhere.example", 1))).toBe(0);
    });
    it("lists the waiting entries due, by id, at most `limit`", async () => {
      await enqueueAll(run, [
        outboxEntry("a", { nextAttemptAt: 300 }),
        outboxEntry("b", { nextAttemptAt: 100 }),
        outboxEntry("c", { nextAttemptAt: 200, domain: "third.example" }),
        outboxEntry("d", { nextAttemptAt: 100, sentAt: 150 }),
      ]);
      const due = async (now: number, limit = 99) =>
        messageIds(await run((tx) => tx.listDueOutbox(now, limit)));
      expect(await due(200)).toEqual(["b", "c"]);
      expect(await due(200, 1)).toEqual(["b"]);
      expect(await due(300)).toEqual(["a", "b", "c"]);
      expect(await due(99)).toEqual([]);
      expect(await due(300, 0)).toEqual([]);
      const [b] = await run((tx) => tx.listDueOutbox(100, 1));
      expect(b).toEqual({ ...outboxEntry("b", { nextAttemptAt: 100 }), id: b?.id });
    });
    it("lists the domains with waiting entries: earliest next attempt and count", async () => {
      expect(await run((tx) => tx.listOutboxDomains())).toEqual([]);
      await enqueueAll(run, [
        outboxEntry("a", { nextAttemptAt: 300 }),
        outboxEntry("b", { nextAttemptAt: 100, domain: "third.example" }),
        outboxEntry("c", { nextAttemptAt: 250 }),
        outboxEntry("d", { nextAttemptAt: 50, sentAt: 40 }),
        outboxEntry("e", { nextAttemptAt: 10, sentAt: 5, domain: "fourth.example" }),
      ]);
      expect(await run((tx) => tx.listOutboxDomains())).toEqual([
        { domain: "other.example", nextAttemptAt: 250, count: 2 },
        { domain: "third.example", nextAttemptAt: 100, count: 1 },
      ]);
      expect(await run((tx) => tx.countOutbox())).toBe(5);
    });
  });
}

function describeHousekeeping(run: Run): void {
  describe("outbox housekeeping", () => {
    it("lists the entries sent at or before a time, by id, at most `limit`", async () => {
      await enqueueAll(run, [
        outboxEntry("a", { sentAt: 150 }),
        outboxEntry("b", { sentAt: 100 }),
        outboxEntry("c"),
        outboxEntry("d", { sentAt: 200 }),
      ]);
      const sent = async (before: number, limit = 99) =>
        messageIds(await run((tx) => tx.listOutboxSentBefore(before, limit)));
      expect(await sent(150)).toEqual(["a", "b"]);
      expect(await sent(150, 1)).toEqual(["a"]);
      expect(await sent(10_000)).toEqual(["a", "b", "d"]);
      expect(await sent(99)).toEqual([]);
      expect(await sent(10_000, 0)).toEqual([]);
    });
    it("lists the entries past their deadline, sent or not, by id, at most `limit`", async () => {
      await enqueueAll(run, [
        outboxEntry("a", { deadline: 500 }),
        outboxEntry("b", { deadline: 300 }),
        outboxEntry("c", { deadline: 1000 }),
        outboxEntry("d", { deadline: 300, sentAt: 250 }),
      ]);
      const expired = async (now: number, limit = 99) =>
        messageIds(await run((tx) => tx.listOutboxExpired(now, limit)));
      expect(await expired(500)).toEqual(["b", "d"]);
      expect(await expired(501)).toEqual(["a", "b", "d"]);
      expect(await expired(501, 2)).toEqual(["a", "b"]);
      expect(await expired(300)).toEqual([]);
      const [d] = await run((tx) => tx.listOutboxExpired(501, 99).then((l) => l.slice(2)));
      expect(d?.sentAt).toBe(250);
    });
  });
}
