/**
 * The rows of the following and timeline tables (schemas/sql/004_timeline.sql, the same on
 * PostgreSQL), their mapping to the domain's records, and what the SQL stores bind for a
 * TimelineRange. Timestamps, seqs and ids arrive as numbers on both stores.
 */
import {
  DEFAULT_USER_SETTINGS,
  type Follow,
  type FollowCursor,
  type NewOutboxEntry,
  type OutboxEntry,
  type TimelineEntry,
  type TimelineRange,
  type UserSettings,
} from "../domain/timeline-types.js";

export interface FollowRow {
  user_jid: string;
  service: string;
  node: string;
  domain: string;
  target: string;
  state: Follow["state"];
  subid: string | null;
  created_at: number;
  updated_at: number;
}
export interface TimelineRow {
  seq: number;
  user_jid: string;
  service: string;
  node: string;
  item_id: string;
  author: string;
  payload: string;
  published_at: number;
  received_at: number;
}
export interface OutboxRow {
  id: number;
  recipient: string;
  domain: string;
  message_id: string;
  stanza: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  deadline: number;
  sent_at: number | null;
  last_error: string;
}
export interface OutboxDomainRow {
  domain: string;
  next_attempt_at: number;
  n: number;
}

export const FOLLOW_COLS =
  "user_jid, service, node, domain, target, state, subid, created_at, updated_at";
export const TIMELINE_COLS =
  "seq, user_jid, service, node, item_id, author, payload, published_at, received_at";
export const OUTBOX_COLS =
  "id, recipient, domain, message_id, stanza, attempts, created_at, next_attempt_at, deadline, sent_at, last_error";

export const toFollow = (r: FollowRow): Follow => ({
  user: r.user_jid,
  service: r.service,
  node: r.node,
  domain: r.domain,
  target: r.target,
  state: r.state,
  ...(r.subid === null ? {} : { subid: r.subid }),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A follow's column values, in FOLLOW_COLS order. */
export const followValues = (f: Follow): unknown[] => [
  f.user,
  f.service,
  f.node,
  f.domain,
  f.target,
  f.state,
  f.subid ?? null,
  f.createdAt,
  f.updatedAt,
];

/** The key a page of follows starts after (FOLLOW key order); before every key when none. */
export const followKey = (after: FollowCursor | undefined): string[] =>
  after ? [after.user, after.service, after.node] : ["", "", ""];

export const toTimelineEntry = (r: TimelineRow): TimelineEntry => ({
  user: r.user_jid,
  service: r.service,
  node: r.node,
  itemId: r.item_id,
  author: r.author,
  payload: r.payload,
  publishedAt: r.published_at,
  receivedAt: r.received_at,
  seq: r.seq,
});

export const toOutbox = (r: OutboxRow): OutboxEntry => ({
  id: r.id,
  recipient: r.recipient,
  domain: r.domain,
  messageId: r.message_id,
  stanza: r.stanza,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  deadline: r.deadline,
  ...(r.sent_at === null ? {} : { sentAt: r.sent_at }),
  lastError: r.last_error,
});

/** A new outbox entry's column values, in OUTBOX_COLS order without `id`. */
export const outboxValues = (e: NewOutboxEntry): unknown[] => [
  e.recipient,
  e.domain,
  e.messageId,
  e.stanza,
  e.attempts,
  e.createdAt,
  e.nextAttemptAt,
  e.deadline,
  e.sentAt ?? null,
  e.lastError,
];

export const toOutboxDomain = (r: OutboxDomainRow) => ({
  domain: r.domain,
  nextAttemptAt: r.next_attempt_at,
  count: r.n,
});

/** Stored settings (a JSON object), a field it lacks (written by an older Warble) defaulted. */
export const toSettings = (stored: unknown): UserSettings => ({
  ...DEFAULT_USER_SETTINGS,
  ...(stored as Partial<UserSettings>),
});

/**
 * A range as the SQL stores bind it: every bound present (an absent one is the widest value),
 * so that the statements compare `seq` and `received_at` as plain ranges an index can take;
 * `peer` is the `with` JID or null.
 */
export interface RangeBounds {
  start: number;
  end: number;
  afterSeq: number;
  beforeSeq: number;
  peer: string | null;
}

/** A range that bounds only seq (no time, no peer): counted on the (user_jid, seq) index. */
export const bySeqOnly = (range: TimelineRange): boolean =>
  range.start === undefined && range.end === undefined && range.with === undefined;

export function rangeBounds(range: TimelineRange): RangeBounds {
  return {
    start: range.start ?? Number.MIN_SAFE_INTEGER,
    end: range.end ?? Number.MAX_SAFE_INTEGER,
    afterSeq: range.afterSeq ?? Number.MIN_SAFE_INTEGER,
    beforeSeq: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
    peer: range.with ?? null,
  };
}

/** A number of rows (LIMIT, OFFSET) from a caller's number: a whole number, 0 for NaN. */
export const rowCount = (n: number): number =>
  n > 0 ? Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER) : 0;
