/**
 * The following, timeline, settings and outbox part of the SQLite store's tx (SqliteTx extends
 * it): the statements of statements.ts, synchronous like the rest of SqliteTx.
 */
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
import type { Count } from "../rows.js";
import {
  bySeqOnly,
  type FollowRow,
  followKey,
  followValues,
  type OutboxDomainRow,
  type OutboxRow,
  outboxValues,
  rangeBounds,
  rowCount,
  type TimelineRow,
  toFollow,
  toOutbox,
  toOutboxDomain,
  toSettings,
  toTimelineEntry,
} from "../timeline-rows.js";
import type { Statements } from "./statements.js";

type OutboxChange = Parameters<OutboxStore["updateOutbox"]>[1];

export abstract class SqliteTimelineTx
  implements FollowStore, TimelineStore, SettingsStore, OutboxStore
{
  /** The statements, while the transaction runs (throws once it has ended). */
  protected abstract get q(): Statements;

  // ── follows ──
  async getFollow(user: string, ref: NodeRef): Promise<Follow | undefined> {
    const row = this.q.getFollow.get(user, ref.service, ref.node) as FollowRow | undefined;
    return row && toFollow(row);
  }
  async putFollow(follow: Follow): Promise<void> {
    this.q.putFollow.run(...followValues(follow));
  }
  async deleteFollow(user: string, ref: NodeRef): Promise<boolean> {
    return this.q.deleteFollow.run(user, ref.service, ref.node).changes > 0;
  }
  async listFollows(user: string): Promise<Follow[]> {
    return (this.q.listFollows.all(user) as FollowRow[]).map(toFollow);
  }
  async countFollows(user: string): Promise<number> {
    return (this.q.countFollows.get(user) as Count).n;
  }
  async pageFollowsAt(
    domain: string | undefined,
    after: FollowCursor | undefined,
    limit: number,
  ): Promise<Follow[]> {
    const page = [...followKey(after), rowCount(limit)];
    const rows =
      domain === undefined
        ? this.q.pageFollows.all(...page)
        : this.q.pageFollowsAt.all(domain, ...page);
    return (rows as FollowRow[]).map(toFollow);
  }

  // ── timeline ──
  async upsertTimelineEntry(
    entry: NewTimelineEntry,
  ): Promise<{ entry: TimelineEntry; write: TimelineWrite }> {
    const { user, service, node, itemId, author, payload, publishedAt, receivedAt } = entry;
    const old = this.q.getTimelineByItem.get(user, service, node, itemId) as
      | TimelineRow
      | undefined;
    if (!old) {
      const values = [user, service, node, itemId, author, payload, publishedAt, receivedAt];
      const { lastInsertRowid } = this.q.insertTimeline.run(...values);
      return { entry: { ...entry, seq: Number(lastInsertRowid) }, write: "inserted" };
    }
    const stored = toTimelineEntry(old);
    if (old.payload === payload) return { entry: stored, write: "unchanged" };
    this.q.replaceTimelinePayload.run(author, payload, publishedAt, old.seq);
    return { entry: { ...stored, author, payload, publishedAt }, write: "replaced" };
  }
  async getTimelineEntry(user: string, seq: number): Promise<TimelineEntry | undefined> {
    const row = this.q.getTimelineEntry.get(user, seq) as TimelineRow | undefined;
    return row && toTimelineEntry(row);
  }
  async findTimelineItem(
    user: string,
    ref: NodeRef,
    itemId: string,
  ): Promise<TimelineEntry | undefined> {
    const row = this.q.getTimelineByItem.get(user, ref.service, ref.node, itemId) as
      | TimelineRow
      | undefined;
    return row && toTimelineEntry(row);
  }
  async newestNodeEntry(user: string, ref: NodeRef): Promise<TimelineEntry | undefined> {
    const row = this.q.newestNodeEntry.get(user, ref.service, ref.node) as TimelineRow | undefined;
    return row && toTimelineEntry(row);
  }
  async timelineSize(user: string): Promise<number> {
    return (this.q.getTimelineSize.get(user) as Count | undefined)?.n ?? 0;
  }
  async listTimeline(
    user: string,
    range: TimelineRange,
    max: number,
    from: "oldest" | "newest",
  ): Promise<TimelineEntry[]> {
    const params = { user, ...rangeBounds(range), max: rowCount(max) };
    if (from === "oldest") {
      return (this.q.listTimelineOldest.all(params) as TimelineRow[]).map(toTimelineEntry);
    }
    return (this.q.listTimelineNewest.all(params) as TimelineRow[]).map(toTimelineEntry).reverse();
  }
  async countTimeline(user: string, range: TimelineRange): Promise<number> {
    const b = rangeBounds(range);
    if (bySeqOnly(range))
      return (this.q.countTimelineBySeq.get(user, b.afterSeq, b.beforeSeq) as Count).n;
    return (this.q.countTimeline.get({ user, ...b }) as Count).n;
  }
  async deleteTimelineItems(
    user: string,
    ref: NodeRef,
    itemIds: readonly string[],
  ): Promise<number> {
    if (itemIds.length === 0) return 0;
    const ids = JSON.stringify(itemIds);
    return this.q.deleteTimelineItems.run(user, ref.service, ref.node, ids).changes;
  }
  async deleteTimelineNode(user: string, ref: NodeRef): Promise<number> {
    return this.q.deleteTimelineNode.run(user, ref.service, ref.node).changes;
  }
  async trimTimeline(user: string, keep: number): Promise<number> {
    const excess = (await this.timelineSize(user)) - rowCount(keep);
    return excess > 0 ? this.q.trimTimeline.run({ user, excess }).changes : 0;
  }

  // ── settings ──
  async getUserSettings(user: string): Promise<UserSettings | undefined> {
    const row = this.q.getSettings.get(user) as { settings: string } | undefined;
    return row && toSettings(JSON.parse(row.settings));
  }
  async putUserSettings(user: string, settings: UserSettings): Promise<void> {
    this.q.putSettings.run(user, JSON.stringify(settings));
  }

  // ── outbox ──
  async enqueueOutbox(entry: NewOutboxEntry): Promise<OutboxEntry> {
    const { lastInsertRowid } = this.q.insertOutbox.run(...outboxValues(entry));
    return { id: Number(lastInsertRowid), ...entry };
  }
  async getOutboxByMessageId(messageId: string): Promise<OutboxEntry | undefined> {
    const row = this.q.getOutboxByMessageId.get(messageId) as OutboxRow | undefined;
    return row && toOutbox(row);
  }
  async updateOutbox(id: number, change: OutboxChange): Promise<void> {
    this.q.updateOutbox.run({
      id,
      attempts: change.attempts ?? null,
      nextAttemptAt: change.nextAttemptAt ?? null,
      lastError: change.lastError ?? null,
      setSentAt: change.sentAt === undefined ? 0 : 1,
      sentAt: change.sentAt ?? null,
    });
  }
  async rescheduleOutboxDomain(domain: string, nextAttemptAt: number): Promise<number> {
    return this.q.rescheduleOutboxDomain.run(nextAttemptAt, domain).changes;
  }
  async deleteOutbox(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) this.q.deleteOutbox.run(JSON.stringify(ids));
  }
  async listDueOutbox(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.outboxRows(this.q.listDueOutbox.all(now, rowCount(limit)));
  }
  async listOutboxSentBefore(sentBefore: number, limit: number): Promise<OutboxEntry[]> {
    return this.outboxRows(this.q.listOutboxSentBefore.all(sentBefore, rowCount(limit)));
  }
  async listOutboxExpired(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.outboxRows(this.q.listOutboxExpired.all(now, rowCount(limit)));
  }
  private outboxRows(rows: unknown[]): OutboxEntry[] {
    return (rows as OutboxRow[]).map(toOutbox);
  }
  async listOutboxDomains(): Promise<{ domain: string; nextAttemptAt: number; count: number }[]> {
    return (this.q.listOutboxDomains.all() as OutboxDomainRow[]).map(toOutboxDomain);
  }
  async countOutbox(): Promise<number> {
    return (this.q.countOutbox.get() as Count).n;
  }
}
