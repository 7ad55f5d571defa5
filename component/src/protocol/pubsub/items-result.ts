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
/** Payload bytes per answer; servers commonly refuse stanzas over 256 KiB. */
export const PAGE_BYTE_BUDGET = 192 * 1024;

export interface ItemsAnswer {
  items: PubsubItem[];
  rsm?: RsmResponse;
}

/**
 * Trim the page to the byte budget (never below one item). The RSM set is added when the request
 * paged, or when the service answered with fewer items than asked: the byte budget cut the page,
 * or a request without any limit got the default page size.
 */
export function itemsAnswer(
  page: ItemPage,
  how: { paged: boolean; defaultLimited: boolean },
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
  const defaultCut = how.defaultLimited && page.count > page.items.length;
  if (!how.paged && !budgetCut && !defaultCut) return { items };
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
