/**
 * Reading a home timeline (the owner's XEP-0313 query at u@C): filters on arrival time and on
 * the author, paged with XEP-0059 in the archive's chronological order.
 */
import { PubsubError } from "./errors.js";
import type { Outcome } from "./events.js";
import { bareJid } from "./jid.js";
import type { CoreContext } from "./service-context.js";
import type { TimelineEntry, TimelineRange } from "./timeline-types.js";

export interface TimelineQuery {
  /** ms since epoch, inclusive. */
  start?: number;
  end?: number;
  /** A bare JID: posts of that service or author. */
  with?: string;
  max?: number;
  /** A MAM id (the entry's seq): the page after it. */
  after?: string;
  /** A MAM id: the page before it; "" the last page. */
  before?: string;
}

export interface TimelinePage {
  /** Oldest first. */
  entries: TimelineEntry[];
  /** Entries matching the filters (without paging). */
  count: number;
  /** Index of entries[0] among them, oldest = 0. */
  firstIndex?: number;
  /** The page reaches the end of the archive in its direction (MAM `complete`). */
  complete: boolean;
}

/** Page size when the query names none, and the most one page may have. */
export const TIMELINE_PAGE_DEFAULT = 50;
export const TIMELINE_PAGE_MAX = 250;

function pageSize(max: number | undefined): number {
  if (max === undefined) return TIMELINE_PAGE_DEFAULT;
  if (!Number.isInteger(max) || max < 0) {
    throw new PubsubError("bad-request", { text: "max must be a whole number" });
  }
  return Math.min(max, TIMELINE_PAGE_MAX);
}

async function anchorSeq(ctx: CoreContext, user: string, id: string): Promise<number> {
  const seq = /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : Number.NaN;
  const entry = Number.isSafeInteger(seq) ? await ctx.tx.getTimelineEntry(user, seq) : undefined;
  if (!entry) throw new PubsubError("item-not-found", { text: `no archived post ${id}` });
  return seq;
}

function filtersOf(q: TimelineQuery): TimelineRange {
  const range: TimelineRange = {};
  if (q.start !== undefined) range.start = q.start;
  if (q.end !== undefined) range.end = q.end;
  if (q.with !== undefined) range.with = bareJid(q.with).toLowerCase();
  return range;
}

/** The owner's timeline page; anyone else is refused with `forbidden`. */
export async function queryTimeline(
  ctx: CoreContext,
  actor: string,
  user: string,
  q: TimelineQuery,
): Promise<Outcome<TimelinePage>> {
  const u = bareJid(user).toLowerCase();
  if (bareJid(actor).toLowerCase() !== u) {
    throw new PubsubError("forbidden", { text: "only the owner may read a home timeline" });
  }
  const max = pageSize(q.max);
  const filters = filtersOf(q);
  const backwards = q.before !== undefined;
  const range: TimelineRange = { ...filters };
  if (q.after) range.afterSeq = await anchorSeq(ctx, u, q.after);
  if (q.before) range.beforeSeq = await anchorSeq(ctx, u, q.before);
  const found = await ctx.tx.listTimeline(u, range, max + 1, backwards ? "newest" : "oldest");
  const complete = found.length <= max;
  const entries = complete ? found : backwards ? found.slice(1) : found.slice(0, max);
  const count = await ctx.tx.countTimeline(u, filters);
  const first = entries[0];
  const page: TimelinePage = { entries, count, complete };
  if (first) page.firstIndex = await ctx.tx.countTimeline(u, { ...filters, beforeSeq: first.seq });
  return { result: page, events: [] };
}
