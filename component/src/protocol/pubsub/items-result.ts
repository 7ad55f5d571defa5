/**
 * The answer to an items request (§6.5): items newest first, with an XEP-0059 set when the
 * request paged or when the answer is truncated. An answer stays under a byte budget so that no
 * server refuses the stanza; the RSM set then says where to continue.
 */
import type { PubsubItem } from "../../../../schemas/src/pubsub.js";
import type { RsmResponse } from "../../../../schemas/src/rsm.js";
import { parseXml } from "../../../../schemas/src/xml.js";
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

/**
 * Trim the page to the byte budget (never below one item). The RSM set is added when the request
 * paged, or when the service answered with fewer items than asked: the byte budget cut the page,
 * or the service chose the page size (`serviceLimited`: a request without any limit got the
 * default page, one asking for more than MAX_PAGE_SIZE got that many) and more items exist.
 */
export function itemsAnswer(
  page: ItemPage,
  how: { paged: boolean; serviceLimited: boolean },
): ItemsAnswer {
  const kept: ItemPage["items"] = [];
  let bytes = 0;
  for (const item of page.items) {
    bytes += Buffer.byteLength(item.payload, "utf8");
    if (kept.length > 0 && bytes > PAGE_BYTE_BUDGET) break;
    kept.push(item);
  }
  const items = kept.map((i) => ({ id: i.id, payload: parseXml(i.payload) }));
  const budgetCut = kept.length < page.items.length;
  const serviceCut = how.serviceLimited && page.count > page.items.length;
  if (!how.paged && !budgetCut && !serviceCut) return { items };
  const rsm: RsmResponse = {};
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first && last) {
    rsm.first = first.id;
    if (page.firstIndex !== undefined) rsm.firstIndex = page.firstIndex;
    rsm.last = last.id;
  }
  rsm.count = page.count;
  return { items, rsm };
}
