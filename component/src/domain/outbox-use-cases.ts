/**
 * The outbox: notifications a remote server could not take now, kept in the store and sent
 * again on the retry schedule, in order per domain (every waiting entry of a domain shares one
 * schedule, and due entries are taken by id). An entry sent again stays, marked `sentAt`,
 * until the time a bounce takes has passed without one; a bounce puts it back in line.
 *
 * The schedule group (`domain` of an entry) is the recipient's domain when its server could not
 * be reached (every notification to it waits), and the recipient's bare JID when only that
 * recipient could not take it (the others of its domain go on as usual).
 */
import type { Outcome } from "./events.js";
import { bareJid, domainOf } from "./jid.js";
import { isRecipientGroup, type RetryPolicy, retryDelayMs } from "./retry-schedule.js";
import type { CoreContext } from "./service-context.js";
import type { OutboxEntry } from "./timeline-types.js";

export interface Bounce {
  recipient: string;
  /** The schedule group: the recipient's domain, or its bare JID (see above). */
  domain: string;
  messageId: string;
  /** Who sent the bounce (bare): only the recipient or its server may. */
  from?: string;
  /** The serialised notification, when this is its first bounce (else it is in the outbox). */
  stanza?: string;
  condition: string;
}

export type DeferResult =
  | { kind: "queued"; entry: OutboxEntry }
  /** The group holds maxPerGroup entries already: this one is given up (counted). */
  | { kind: "overflow" }
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
  if (known && bounce.from !== undefined && !bouncedBy(known.recipient, bounce.from)) {
    return { result: { kind: "unknown" }, events: [] };
  }
  if (known) {
    const attempts = known.attempts + 1;
    const giveUpAt = isRecipientGroup(known.domain)
      ? Math.min(known.deadline, known.createdAt + policy.recipientDeadlineMs)
      : known.deadline;
    if (now >= giveUpAt) {
      await ctx.tx.deleteOutbox([known.id]);
      await ctx.tx.incrementCounter("outbox:gave-up");
      return { result: { kind: "gave-up", entry: known }, events: [] };
    }
    const group = await waitingGroup(ctx, known.domain);
    const nextAttemptAt = groupSchedule(group, now + retryDelayMs(attempts, policy));
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

/** A group's waiting entries (how many, when next), read once per use case. */
type WaitingGroup = { nextAttemptAt: number; count: number } | undefined;

async function waitingGroup(ctx: CoreContext, group: string): Promise<WaitingGroup> {
  return (await ctx.tx.listOutboxDomains()).find((d) => d.domain === group);
}

/** A group that holds its most: what comes on is given up, and counted (outbox:overflow). */
async function overflowing(ctx: CoreContext, waiting: WaitingGroup, policy: RetryPolicy) {
  if ((waiting?.count ?? 0) < policy.maxPerGroup) return false;
  await ctx.tx.incrementCounter("outbox:overflow");
  return true;
}

/** Whether `from` (a bare JID) is the recipient or its server: who may bounce a notification. */
export function bouncedBy(recipient: string, from: string): boolean {
  const to = bareJid(recipient);
  return from === to || from === domainOf(to);
}

/** A group's schedule only moves later: the group's waiting entries, or `next` if later. */
function groupSchedule(waiting: WaitingGroup, next: number): number {
  return Math.max(waiting?.nextAttemptAt ?? 0, next);
}

/** After a restart nothing is known of what was sent before it: those entries are due again. */
export async function unsendOutbox(ctx: CoreContext): Promise<Outcome<number>> {
  const sent = await ctx.tx.listOutboxSentBefore(Number.MAX_SAFE_INTEGER, 100_000);
  for (const e of sent) await ctx.tx.updateOutbox(e.id, { sentAt: null });
  return { result: sent.length, events: [] };
}

async function enqueue(
  ctx: CoreContext,
  bounce: Bounce,
  stanza: string,
  policy: RetryPolicy,
): Promise<DeferResult> {
  const now = ctx.now();
  const waiting = await waitingGroup(ctx, bounce.domain);
  if (await overflowing(ctx, waiting, policy)) return { kind: "overflow" };
  // A domain already backing off keeps its schedule: a new bounce does not pull it forward.
  const nextAttemptAt = groupSchedule(waiting, now + retryDelayMs(1, policy));
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
): Promise<Outcome<OutboxEntry | undefined>> {
  const now = ctx.now();
  const waiting = await waitingGroup(ctx, item.domain);
  if (await overflowing(ctx, waiting, policy)) return { result: undefined, events: [] };
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
  probe?: Probe,
): Promise<Outcome<OutboxEntry[]>> {
  const now = ctx.now();
  const due = await ctx.tx.listDueOutbox(now, limit);
  const taken = probe ? await probeGroups(ctx, due, probe, now) : due;
  for (const e of taken) await ctx.tx.updateOutbox(e.id, { sentAt: now });
  if (taken.length > 0) await ctx.tx.incrementCounter("outbox:resent", taken.length);
  return { result: taken, events: [] };
}

/**
 * A group that has bounced again and again is probed: only its oldest entry goes now, the rest
 * wait `holdMs` (the time a bounce takes); if the probe does not come back, they follow; if it
 * does, the bounce moves the whole group's schedule on. Groups in `exempt` (they just showed
 * life) and groups that bounced once go whole.
 */
export interface Probe {
  afterAttempts: number;
  holdMs: number;
  exempt: ReadonlySet<string>;
}

async function probeGroups(
  ctx: CoreContext,
  due: readonly OutboxEntry[],
  probe: Probe,
  now: number,
): Promise<OutboxEntry[]> {
  const taken: OutboxEntry[] = [];
  const probed = new Set<string>();
  for (const e of due) {
    if (probed.has(e.domain)) {
      await ctx.tx.updateOutbox(e.id, { nextAttemptAt: now + probe.holdMs });
      continue;
    }
    taken.push(e);
    if (e.attempts >= probe.afterAttempts && !probe.exempt.has(e.domain)) probed.add(e.domain);
  }
  return taken;
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
