/**
 * The following, timeline, settings and outbox part of the memory store: its state (part of
 * MemoryState, copied with it for each transaction) and its tx methods (MemoryTx extends
 * MemoryTimelineTx). Same contract as the SQL stores' 004_timeline tables.
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
import { rowCount } from "../timeline-rows.js";

export interface TimelineState {
  /** The last timeline seq handed out (store-wide). */
  timelineSeq: number;
  /** By user, then by node key. */
  follows: Map<string, Map<string, Follow>>;
  /** By user, then by entry key; a user's map is in seq order (a replacement keeps its place). */
  timeline: Map<string, Map<string, TimelineEntry>>;
  settings: Map<string, UserSettings>;
  /** The last outbox id handed out. */
  outboxId: number;
  /** By id, in id order. */
  outbox: Map<number, OutboxEntry>;
}

export function emptyTimelineState(): TimelineState {
  return {
    timelineSeq: 0,
    follows: new Map(),
    timeline: new Map(),
    settings: new Map(),
    outboxId: 0,
    outbox: new Map(),
  };
}

type OutboxChange = Parameters<OutboxStore["updateOutbox"]>[1];

const clone = <T>(v: T): T => structuredClone(v);
const nodeKey = (ref: NodeRef): string => `${ref.service}\u0000${ref.node}`;
const entryKey = (ref: NodeRef, itemId: string): string => `${nodeKey(ref)}\u0000${itemId}`;
const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
/** Oldest first, then by node (the SQL stores' ORDER BY created_at, service, node). */
const byAge = (a: Follow, b: Follow) =>
  a.createdAt - b.createdAt || compare(a.service, b.service) || compare(a.node, b.node);

/** The SQL stores' ORDER BY user_jid, service, node (a follow's key). */
const byKey = (a: FollowCursor, b: FollowCursor) =>
  compare(a.user, b.user) || compare(a.service, b.service) || compare(a.node, b.node);

function inRange(e: TimelineEntry, r: TimelineRange): boolean {
  return (
    (r.start === undefined || e.receivedAt >= r.start) &&
    (r.end === undefined || e.receivedAt <= r.end) &&
    (r.afterSeq === undefined || e.seq > r.afterSeq) &&
    (r.beforeSeq === undefined || e.seq < r.beforeSeq) &&
    (r.with === undefined || e.service === r.with || e.author === r.with)
  );
}

function userBucket<V>(map: Map<string, Map<string, V>>, user: string): Map<string, V> {
  let b = map.get(user);
  if (!b) {
    b = new Map();
    map.set(user, b);
  }
  return b;
}

export abstract class MemoryTimelineTx
  implements FollowStore, TimelineStore, SettingsStore, OutboxStore
{
  /** The transaction's working state (throws once it has ended). */
  protected abstract get s(): TimelineState;

  // ── follows ──
  async getFollow(user: string, ref: NodeRef): Promise<Follow | undefined> {
    const f = this.s.follows.get(user)?.get(nodeKey(ref));
    return f && clone(f);
  }
  async putFollow(follow: Follow): Promise<void> {
    userBucket(this.s.follows, follow.user).set(nodeKey(follow), clone(follow));
  }
  async deleteFollow(user: string, ref: NodeRef): Promise<boolean> {
    return this.s.follows.get(user)?.delete(nodeKey(ref)) ?? false;
  }
  async listFollows(user: string): Promise<Follow[]> {
    return [...(this.s.follows.get(user)?.values() ?? [])].sort(byAge).map(clone);
  }
  async countFollows(user: string): Promise<number> {
    return this.s.follows.get(user)?.size ?? 0;
  }
  async pageFollowsAt(
    domain: string | undefined,
    after: FollowCursor | undefined,
    limit: number,
  ): Promise<Follow[]> {
    return [...this.s.follows.values()]
      .flatMap((m) => [...m.values()])
      .filter((f) => domain === undefined || f.domain === domain)
      .filter((f) => after === undefined || byKey(f, after) > 0)
      .sort(byKey)
      .slice(0, rowCount(limit))
      .map(clone);
  }

  // ── timeline ──
  async upsertTimelineEntry(
    entry: NewTimelineEntry,
  ): Promise<{ entry: TimelineEntry; write: TimelineWrite }> {
    const entries = userBucket(this.s.timeline, entry.user);
    const k = entryKey(entry, entry.itemId);
    const old = entries.get(k);
    if (!old) {
      this.s.timelineSeq += 1;
      const stored: TimelineEntry = { ...clone(entry), seq: this.s.timelineSeq };
      entries.set(k, stored);
      return { entry: clone(stored), write: "inserted" };
    }
    if (old.payload === entry.payload) return { entry: clone(old), write: "unchanged" };
    const { author, payload, publishedAt } = entry;
    const stored: TimelineEntry = { ...old, author, payload, publishedAt };
    entries.set(k, stored);
    return { entry: clone(stored), write: "replaced" };
  }
  /** A user's entries, oldest first (the stored objects: clone what leaves). */
  private entriesOf(user: string): TimelineEntry[] {
    return [...(this.s.timeline.get(user)?.values() ?? [])];
  }
  async getTimelineEntry(user: string, seq: number): Promise<TimelineEntry | undefined> {
    const found = this.entriesOf(user).find((e) => e.seq === seq);
    return found && clone(found);
  }
  async findTimelineItem(
    user: string,
    ref: NodeRef,
    itemId: string,
  ): Promise<TimelineEntry | undefined> {
    const found = this.s.timeline.get(user)?.get(entryKey(ref, itemId));
    return found && clone(found);
  }
  async newestNodeEntry(user: string, ref: NodeRef): Promise<TimelineEntry | undefined> {
    const entries = this.entriesOf(user);
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i] as TimelineEntry;
      if (e.service === ref.service && e.node === ref.node) return clone(e);
    }
    return undefined;
  }
  async timelineSize(user: string): Promise<number> {
    return this.s.timeline.get(user)?.size ?? 0;
  }
  async listTimeline(
    user: string,
    range: TimelineRange,
    max: number,
    from: "oldest" | "newest",
  ): Promise<TimelineEntry[]> {
    const found = this.entriesOf(user).filter((e) => inRange(e, range));
    const n = Math.min(rowCount(max), found.length);
    const page = from === "oldest" ? found.slice(0, n) : found.slice(found.length - n);
    return page.map(clone);
  }
  async countTimeline(user: string, range: TimelineRange): Promise<number> {
    return this.entriesOf(user).filter((e) => inRange(e, range)).length;
  }
  async deleteTimelineItems(
    user: string,
    ref: NodeRef,
    itemIds: readonly string[],
  ): Promise<number> {
    const entries = this.s.timeline.get(user);
    if (!entries) return 0;
    return [...new Set(itemIds)].filter((id) => entries.delete(entryKey(ref, id))).length;
  }
  async deleteTimelineNode(user: string, ref: NodeRef): Promise<number> {
    const entries = this.s.timeline.get(user);
    if (!entries) return 0;
    const doomed = [...entries].filter(([, e]) => e.service === ref.service && e.node === ref.node);
    for (const [k] of doomed) entries.delete(k);
    return doomed.length;
  }
  async trimTimeline(user: string, keep: number): Promise<number> {
    const entries = this.s.timeline.get(user);
    if (!entries) return 0;
    const excess = entries.size - rowCount(keep);
    if (excess <= 0) return 0;
    // A user's map is in seq order: the first keys are the oldest.
    const doomed: string[] = [];
    for (const k of entries.keys()) {
      if (doomed.length >= excess) break;
      doomed.push(k);
    }
    for (const k of doomed) entries.delete(k);
    return doomed.length;
  }

  // ── settings ──
  async getUserSettings(user: string): Promise<UserSettings | undefined> {
    const settings = this.s.settings.get(user);
    return settings && clone(settings);
  }
  async putUserSettings(user: string, settings: UserSettings): Promise<void> {
    this.s.settings.set(user, clone(settings));
  }

  // ── outbox ──
  async enqueueOutbox(entry: NewOutboxEntry): Promise<OutboxEntry> {
    if (this.findOutbox(entry.messageId)) {
      // As the SQL stores' unique index on message_id.
      throw new Error(`an outbox entry with message id ${entry.messageId} exists`);
    }
    this.s.outboxId += 1;
    const stored: OutboxEntry = { id: this.s.outboxId, ...clone(entry) };
    this.s.outbox.set(stored.id, stored);
    return clone(stored);
  }
  private findOutbox(messageId: string): OutboxEntry | undefined {
    return [...this.s.outbox.values()].find((e) => e.messageId === messageId);
  }
  async getOutboxByMessageId(messageId: string): Promise<OutboxEntry | undefined> {
    const found = this.findOutbox(messageId);
    return found && clone(found);
  }
  async updateOutbox(id: number, change: OutboxChange): Promise<void> {
    const e = this.s.outbox.get(id);
    if (!e) return;
    if (change.attempts !== undefined) e.attempts = change.attempts;
    if (change.nextAttemptAt !== undefined) e.nextAttemptAt = change.nextAttemptAt;
    if (change.lastError !== undefined) e.lastError = change.lastError;
    if (change.sentAt === null) delete e.sentAt;
    else if (change.sentAt !== undefined) e.sentAt = change.sentAt;
  }
  async rescheduleOutboxDomain(domain: string, nextAttemptAt: number): Promise<number> {
    const waiting = this.waiting().filter((e) => e.domain === domain);
    for (const e of waiting) e.nextAttemptAt = nextAttemptAt;
    return waiting.length;
  }
  /** Entries not sent again (no sentAt), by id (the stored objects). */
  private waiting(): OutboxEntry[] {
    return [...this.s.outbox.values()].filter((e) => e.sentAt === undefined);
  }
  async deleteOutbox(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.s.outbox.delete(id);
  }
  async listDueOutbox(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.firstOutbox((e) => e.sentAt === undefined && e.nextAttemptAt <= now, limit);
  }
  async listOutboxSentBefore(sentBefore: number, limit: number): Promise<OutboxEntry[]> {
    return this.firstOutbox((e) => e.sentAt !== undefined && e.sentAt <= sentBefore, limit);
  }
  async listOutboxExpired(now: number, limit: number): Promise<OutboxEntry[]> {
    return this.firstOutbox((e) => e.deadline < now, limit);
  }
  private firstOutbox(test: (e: OutboxEntry) => boolean, limit: number): OutboxEntry[] {
    return [...this.s.outbox.values()].filter(test).slice(0, rowCount(limit)).map(clone);
  }
  async listOutboxDomains(): Promise<{ domain: string; nextAttemptAt: number; count: number }[]> {
    const domains = new Map<string, { domain: string; nextAttemptAt: number; count: number }>();
    for (const e of this.waiting()) {
      const d = domains.get(e.domain);
      if (!d) domains.set(e.domain, { domain: e.domain, nextAttemptAt: e.nextAttemptAt, count: 1 });
      else {
        d.nextAttemptAt = Math.min(d.nextAttemptAt, e.nextAttemptAt);
        d.count += 1;
      }
    }
    return [...domains.values()].sort((a, b) => compare(a.domain, b.domain));
  }
  async countOutbox(): Promise<number> {
    return this.s.outbox.size;
  }
}
