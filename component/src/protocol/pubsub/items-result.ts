/**
 * The answer to an items request (§6.5): items newest first, with an XEP-0059 set when the
 * request paged or when the answer is truncated. An answer stays under a byte budget so that no
 * server refuses the stanza; the RSM set then says where to continue.
 */
import type { PubsubItem } from "../../../../schemas/src/pubsub.js";
import type { RsmResponse } from "../../../../schemas/src/rsm.js";
import { RawXml } from "../../../../schemas/src/xml.js";
import type { ItemPage } from "../../domain/types.js";

/** Items per answer when the request asks for no particular number (the rest: RSM paging). */
export const DEFAULT_PAGE_SIZE = 100;
/**
 * Items per answer at most, whatever the request asks (max_items or RSM max may go up to the
 * node's max_items): the store is never asked for more, since every item may carry a payload
 * of up to the payload limit, and the byte budget would drop the rest anyway.
 */
export const MAX_PAGE_SIZE = DEFAULT_PAGE_SIZE;
/** Payload bytes per answer; servers commonly refuse stanzas over 256 KiB. */
export const PAGE_BYTE_BUDGET = 192 * 1024;

export interface ItemsAnswer {
  items: PubsubItem[];
  rsm?: RsmResponse;
}

/** How the items request asked, for the RSM set of its answer. */
export interface ItemsAsked {
  /** The request had an RSM set (and was not by ids): the answer always has one. */
  paged: boolean;
  /**
   * The most items the request asked for (max_items, RSM max or the number of ids), undefined
   * when it set no limit: an answer with fewer items while more exist gets an RSM set.
   */
  wanted?: number;
  /** The page was asked with `before` (it ends at its anchor): a cut keeps its oldest items. */
  backward?: boolean;
}

/**
 * The answer to the page, trimmed to the byte budget (never below one item): the store was
 * asked with maxBytes = PAGE_BYTE_BUDGET and cut the page already, so this trims nothing
 * normally and is a safety net (payload bytes counted differently by a store, a store without
 * the budget). It cuts on the same side as a store does: away from the anchor.
 *
 * The RSM set is added when the request paged, or when the answer has fewer items than the
 * request asked for (or than the service's default page, when it asked for no number) and more
 * exist: the byte budget cut the page (in the store or here), or the service chose the page
 * size (MAX_PAGE_SIZE for a request asking for more). Its <last/> and <count/> let the client
 * go on with <after/>, since the cut dropped the items after <last/> only.
 */
export function itemsAnswer(page: ItemPage, how: ItemsAsked): ItemsAnswer {
  const kept = trimToBudget(page.items, how.backward === true);
  // Stored payloads are XML this service wrote from a parsed tree: served as the text they are.
  const items = kept.map((i) => ({ id: i.id, payload: new RawXml(i.payload) }));
  const dropped = page.items.length - kept.length;
  const wanted = how.wanted ?? Number.POSITIVE_INFINITY;
  const short = kept.length < wanted && page.count > kept.length;
  if (!how.paged && !short) return { items };
  const rsm: RsmResponse = {};
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first && last) {
    rsm.first = first.id;
    // A backward page trimmed here lost its newest items: its first index moved by as many.
    if (page.firstIndex !== undefined)
      rsm.firstIndex = page.firstIndex + (how.backward ? dropped : 0);
    rsm.last = last.id;
  }
  rsm.count = page.count;
  return { items, rsm };
}

/** The items within PAGE_BYTE_BUDGET, at least one: the newest ones, or the oldest (backward). */
function trimToBudget(items: ItemPage["items"], backward: boolean): ItemPage["items"] {
  const order = backward ? [...items].reverse() : items;
  let n = 0;
  let bytes = 0;
  for (const item of order) {
    bytes += Buffer.byteLength(item.payload, "utf8");
    if (n > 0 && bytes > PAGE_BYTE_BUDGET) break;
    n++;
  }
  if (n === items.length) return items;
  return backward ? items.slice(items.length - n) : items.slice(0, n);
}
