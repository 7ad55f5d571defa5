/**
 * The outbox: notifications a remote server could not take now, kept in the store and sent
 * again on the retry schedule, in order per domain (every waiting entry of a domain shares one
 * schedule, and due entries are taken by id). An entry sent again stays, marked `sentAt`,
 * until the time a bounce takes has passed without one; a bounce puts it back in line.
 */
import type { Outcome } from "./events.js";
import { type RetryPolicy, retryDelayMs } from "./retry-schedule.js";
import type { CoreContext } from "./service-context.js";
import type { OutboxEntry } from "./timeline-types.js";

export interface Bounce {
  recipient: string;
  domain: string;
  messageId: string;
  /** The serialised notification, when this is its first bounce (else it is in the outbox). */
  stanza?: string;
  condition: string;
}

export type DeferResult =
  | { kind: "queued"; entry: OutboxEntry }
  | { kind: "gave-up"; entry: OutboxEntry }
  | { kind: "unknown" };

/** A temporary bounce: queue the notification (again), and push its domain's schedule back. */
export async function deferDelivery(
  ctx: CoreContext,
  bounce: Bounce,
  policy: RetryPolicy,
): Promise<Outcome<DeferResult>> {
  const now = ctx.now();
  const known = await ctx.tx.getOutboxByMessageId(bounce.messageId);
  if (known) {
    const attempts = known.attempts + 1;
    if (now >= known.deadline) {
      await ctx.tx.deleteOutbox([known.id]);
      await ctx.tx.incrementCounter("outbox:gave-up");
      return { result: { kind: "gave-up", entry: known }, events: [] };
    }
    const nextAttemptAt = now + retryDelayMs(attempts, policy);
    await ctx.tx.updateOutbox(known.id, {
      attempts,
      nextAttemptAt,
      sentAt: null,
      lastError: bounce.condition,
    });
    await ctx.tx.rescheduleOutboxDomain(known.domain, nextAttemptAt);
    await ctx.tx.incrementCounter("outbox:bounced-again");
    const { sentAt: _sent, ...waiting } = known;
    const entry = { ...waiting, attempts, nextAttemptAt, lastError: bounce.condition };
    return { result: { kind: "queued", entry }, events: [] };
  }
  if (bounce.stanza === undefined) return { result: { kind: "unknown" }, events: [] };
  return { result: await enqueue(ctx, bounce, bounce.stanza, policy), events: [] };
}

async function enqueue(
  ctx: CoreContext,
  bounce: Bounce,
  stanza: string,
  policy: RetryPolicy,
): Promise<DeferResult> {
  const now = ctx.now();
  // A domain already backing off keeps its schedule: a new bounce does not pull it forward.
  const waiting = (await ctx.tx.listOutboxDomains()).find((d) => d.domain === bounce.domain);
  const nextAttemptAt = Math.max(waiting?.nextAttemptAt ?? 0, now + retryDelayMs(1, policy));
  const entry = await ctx.tx.enqueueOutbox({
    recipient: bounce.recipient,
    domain: bounce.domain,
    messageId: bounce.messageId,
    stanza,
    attempts: 1,
    createdAt: now,
    nextAttemptAt,
    deadline: now + policy.deadlineMs,
    lastError: bounce.condition,
  });
  await ctx.tx.rescheduleOutboxDomain(bounce.domain, nextAttemptAt);
  await ctx.tx.incrementCounter("outbox:queued");
  return { kind: "queued", entry: { ...entry, nextAttemptAt } };
}

/**
 * A notification to a domain whose queue is not empty waits behind it (order per domain): it
 * takes the schedule of the domain's waiting entries (the first delay when none waits).
 */
export async function queueBehind(
  ctx: CoreContext,
  item: { recipient: string; domain: string; messageId: string; stanza: string },
  policy: RetryPolicy,
): Promise<Outcome<OutboxEntry>> {
  const now = ctx.now();
  const waiting = (await ctx.tx.listOutboxDomains()).find((d) => d.domain === item.domain);
  const entry = await ctx.tx.enqueueOutbox({
    ...item,
    attempts: 0,
    createdAt: now,
    nextAttemptAt: waiting?.nextAttemptAt ?? now + retryDelayMs(1, policy),
    deadline: now + policy.deadlineMs,
    lastError: "",
  });
  await ctx.tx.incrementCounter("outbox:queued-behind");
  return { result: entry, events: [] };
}

/** The entries due now, marked as sent (the caller sends them, in this order). */
export async function takeDueDeliveries(
  ctx: CoreContext,
  limit: number,
): Promise<Outcome<OutboxEntry[]>> {
  const now = ctx.now();
  const due = await ctx.tx.listDueOutbox(now, limit);
  for (const e of due) await ctx.tx.updateOutbox(e.id, { sentAt: now });
  if (due.length > 0) await ctx.tx.incrementCounter("outbox:resent", due.length);
  return { result: due, events: [] };
}

/**
 * Housekeeping: entries sent again longer than `quietMs` ago without a bounce are delivered;
 * entries past their deadline are given up (returned, to be logged).
 */
export async function settleOutbox(
  ctx: CoreContext,
  quietMs: number,
  limit: number,
): Promise<Outcome<{ delivered: number; gaveUp: OutboxEntry[] }>> {
  const now = ctx.now();
  const delivered = await ctx.tx.listOutboxSentBefore(now - quietMs, limit);
  const expired = (await ctx.tx.listOutboxExpired(now, limit)).filter(
    (e) => e.sentAt === undefined,
  );
  await ctx.tx.deleteOutbox([...delivered.map((e) => e.id), ...expired.map((e) => e.id)]);
  if (delivered.length > 0) await ctx.tx.incrementCounter("outbox:delivered", delivered.length);
  if (expired.length > 0) await ctx.tx.incrementCounter("outbox:gave-up", expired.length);
  return { result: { delivered: delivered.length, gaveUp: expired }, events: [] };
}

/** The domain showed life: its waiting entries are due now. */
export async function wakeDomain(ctx: CoreContext, domain: string): Promise<Outcome<number>> {
  return { result: await ctx.tx.rescheduleOutboxDomain(domain, ctx.now()), events: [] };
}

export async function outboxDomains(
  ctx: CoreContext,
): Promise<Outcome<{ domain: string; nextAttemptAt: number; count: number }[]>> {
  return { result: await ctx.tx.listOutboxDomains(), events: [] };
}
