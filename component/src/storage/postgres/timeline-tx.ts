/**
 * The following, timeline, settings and outbox part of the PostgreSQL store's tx (PostgresTx
 * extends it and runs the statements on its client).
 */
import type { QueryResultRow } from "pg";
import type { FollowStore, OutboxStore, SettingsStore, TimelineStore } from "../../domain/ports.js";
import type {
  Follow,
  FollowCursor,
  NewOutboxEntry,
  NewTimelineEntry,
  OutboxEntry,
  TimelineEntry,
  TimelineRange,
  TimelineWrite,
  UserSettings,
} from "../../domain/timeline-types.js";
import type { NodeRef } from "../../domain/types.js";
import {
  bySeqOnly,
  type FollowRow,
  followKey,
  followValues,
  type OutboxDomainRow,
  type OutboxRow,
  outboxValues,
  type RangeBounds,
  rangeBounds,
  rowCount,
  type TimelineRow,
  toFollow,
  toOutbox,
  toOutboxDomain,
  toSettings,
  toTimelineEntry,
} from "../timeline-rows.js";
import type { StatementName } from "./statements.js";

type OutboxChange = Parameters<OutboxStore["updateOutbox"]>[1];

/** The parameters $1–$6 of a range statement. */
const rangeValues = (user: string, b: RangeBounds): unknown[] => [
  user,
  b.start,
  b.end,
  b.afterSeq,
  b.beforeSeq,
  b.peer,
];

export abstract class PostgresTimelineTx
  implements FollowStore, TimelineStore, SettingsStore, OutboxStore
{
  /** The rows of a statement (throws once the transaction has ended). */
  protected abstract rows<R extends QueryResultRow>(
    name: StatementName,
    values: unknown[],
  ): Promise<R[]>;
  /** How many rows a statement touched. */
  protected abstract run(name: StatementName, values: unknown[]): Promise<number>;
  /** The `n` of a COUNT statement. */
  protected abstract count(name: StatementName, values: unknown[]): Promise<number>;

  // ── follows ──
  async getFollow(user: string, ref: NodeRef): Promise<Follow | undefined> {
    const [row] = await this.rows<FollowRow>("getFollow", [user, ref.service, ref.node]);
    return row && toFollow(row);
  }
  async putFollow(follow: Follow): Promise<void> {
    await this.run("putFollow", followValues(follow));
  }
  async deleteFollow(user: string, ref: NodeRef): Promise<boolean> {
    return (await this.run("deleteFollow", [user, ref.service, ref.node])) > 0;
  }
  async listFollows(user: string): Promise<Follow[]> {
    return (await this.rows<FollowRow>("listFollows", [user])).map(toFollow);
  }
  async countFollows(user: string): Promise<number> {
    return this.count("countFollows", [user]);
  }
  async pageFollowsAt(
    domain: string | undefined,
    after: FollowCursor | undefined,
    limit: number,
  ): Promise<Follow[]> {
    const page = [...followKey(after), rowCount(limit)];
    const rows =
      domain === undefined
        ? await this.rows<FollowRow>("pageFollows", page)
        : await this.rows<FollowRow>("pageFollowsAt", [domain, ...page]);
    return rows.map(toFollow);
  }

  // ── timeline ──
  /** One statement for a new entry; an existing one is read, and rewritten if it changed. */
  async upsertTimelineEntry(
    entry: NewTimelineEntry,
  ): Promise<{ entry: TimelineEntry; write: TimelineWrite }> {
    const { user, service, node, itemId, author, payload, publishedAt, receivedAt } = entry;
    const at = [user, service, node, itemId];
    const values = [...at, author, payload, publishedAt, receivedAt];
    const [inserted] = await this.rows<{ seq: number }>("insertTimeline", values);
    if (inserted) return { entry: { ...entry, seq: inserted.seq }, write: "inserted" };
    const [old] = await this.rows<TimelineRow>("getTimelineByItem", at);
    if (!old) throw new Error("the timeline entry conflicted but cannot be read");
    const stored = toTimelineEntry(old);
    if (old.payload === payload) return { entry: stored, write: "unchanged" };
    await this.run("replaceTimelinePayload", [old.seq, author, payload, publishedAt]);
    return { entry: { ...stored, author, payload, publishedAt }, write: "replaced" };
  }
  async getTimelineEntry(user: string, seq: number): Promise<TimelineEntry | undefined> {
    const [row] = await this.rows<TimelineRow>("getTimelineEntry", [user, seq]);
    return row && toTimelineEntry(row);
  }
  async findTimelineItem(
    user: string,
    ref: NodeRef,
    itemId: string,
  ): Promise<TimelineEntry | undefined> {
    const at = [user, ref.service, ref.node, itemId];
    const [row] = await this.rows<TimelineRow>("getTimelineByItem", at);
    return row && toTimelineEntry(row);
  }
  async newestNodeEntry(user: string, ref: NodeRef): Promise<TimelineEntry | undefined> {
    const [row] = await this.rows<TimelineRow>("newestNodeEntry", [user, ref.service, ref.node]);
    return row && toTimelineEntry(row);
  }
  async timelineSize(user: string): Promise<number> {
    return this.count("getTimelineSize", [user]);
  }
  async listTimeline(
    user: string,
    range: TimelineRange,
    max: number,
    from: "oldest" | "newest",
  ): Promise<TimelineEntry[]> {
    const values = [...rangeValues(user, rangeBounds(range)), rowCount(max)];
    if (from === "oldest") {
      return (await this.rows<TimelineRow>("listTimelineOldest", values)).map(toTimelineEntry);
    }
    const newest = await this.rows<TimelineRow>("listTimelineNewest", values);
    return newest.map(toTimelineEntry).reverse();
  }
  async countTimeline(user: string, range: TimelineRange): Promise<number> {
    const b = rangeBounds(range);
    if (bySeqOnly(range)) return this.count("countTimelineBySeq", [user, b.afterSeq, b.beforeSeq]);
    return this.count("countTimeline", rangeValues(user, b));
  }
  async deleteTimelineItems(
    user: string,
    ref: NodeRef,
    itemIds: readonly string[],
  ): Promise<number> {
    if (itemIds.length === 0) return 0;
    return this.run("deleteTimelineItems", [user, ref.service, ref.node, [...itemIds]]);
  }
  async deleteTimelineNode(user: string, ref: NodeRef): Promise<number> {
    return this.run("deleteTimelineNode", [user, ref.service, ref.node]);
  }
  async trimTimeline(user: string, keep: number): Promise<number> {
    const excess = (await this.timelineSize(user)) - rowCount(keep);
    return excess > 0 ? this.run("trimTimeline", [user, excess]) : 0;
  }

  // ── settings ──
  async getUserSettings(user: string): Promise<UserSettings | undefined> {
    const [row] = await this.rows<{ settings: unknown }>("getSettings", [user]);
    return row && toSettings(row.settings);
  }
  async putUserSettings(user: string, settings: UserSettings): Promise<void> {
    await this.run("putSettings", [user, JSON.stringify(settings)]);
  }

  // ── outbox ──
  async enqueueOutbox(entry: NewOutboxEntry): Promise<OutboxEntry> {
    const [row] = await this.rows<{ id: number }>("insertOutbox", outboxValues(entry));
    if (!row) throw new Error("the outbox insert returned no row");
    return { id: row.id, ...entry };
  }
  async getOutboxByMessageId(messageId: string): Promise<OutboxEntry | undefined> {
    const [row] = await this.rows<OutboxRow>("getOutboxByMessageId", [messageId]);
    return row && toOutbox(row);
  }
  async updateOutbox(id: number, change: OutboxChange): Promise<void> {
    await this.run("updateOutbox", [
      id,
      change.attempts ?? null,
      change.nextAttemptAt ?? null,
      change.lastError ?? null,
      change.sentAt !== undefined,
      change.sentAt ?? null,
    ]);
  }
  async rescheduleOutboxDomain(domain: string, nextAttemptAt: number): Promise<number> {
    return this.run("rescheduleOutboxDomain", [domain, nextAttemptAt]);
  }
  async deleteOutbox(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) await this.run("deleteOutbox", [[...ids]]);
  }
  async listDueOutbox(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.outbox("listDueOutbox", [now, rowCount(limit)]);
  }
  async listOutboxSentBefore(sentBefore: number, limit: number): Promise<OutboxEntry[]> {
    return this.outbox("listOutboxSentBefore", [sentBefore, rowCount(limit)]);
  }
  async listOutboxExpired(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.outbox("listOutboxExpired", [now, rowCount(limit)]);
  }
  private async outbox(name: StatementName, values: unknown[]): Promise<OutboxEntry[]> {
    return (await this.rows<OutboxRow>(name, values)).map(toOutbox);
  }
  async listOutboxDomains(): Promise<{ domain: string; nextAttemptAt: number; count: number }[]> {
    return (await this.rows<OutboxDomainRow>("listOutboxDomains", [])).map(toOutboxDomain);
  }
  async countOutbox(): Promise<number> {
    return this.count("countOutbox", []);
  }
}
