/**
 * XEP-0059 paging over a newest-first list, shared by the store adapters that page in memory.
 * "after X" = the next (older) page after X; "before X" = the previous (newer) page, the `max`
 * items just newer than X; "before" = "" = the last page (the oldest items). Items within a
 * page are always newest first. Unknown anchor → undefined (the core answers item-not-found).
 */
import type { Item, ItemPage, ItemQuery } from "../domain/types.js";

export function pageNewestFirst(all: readonly Item[], query: ItemQuery): ItemPage | undefined {
  const max = query.max ?? all.length;
  let start: number;
  let end: number;
  if (query.after !== undefined) {
    const i = all.findIndex((it) => it.id === query.after);
    if (i === -1) return undefined;
    start = i + 1;
    end = Math.min(all.length, start + max);
  } else if (query.before !== undefined) {
    const i = query.before === "" ? all.length : all.findIndex((it) => it.id === query.before);
    if (i === -1) return undefined;
    end = i;
    start = Math.max(0, end - max);
  } else {
    start = 0;
    end = Math.min(all.length, max);
  }
  const items = all.slice(start, end);
  return { items, count: all.length, ...(items.length > 0 ? { firstIndex: start } : {}) };
}
