/**
 * XEP-0059 paging over a newest-first list, shared by the store adapters that page in memory.
 * "after X" = the next (older) page after X; "before X" = the previous (newer) page, the `max`
 * items just newer than X; "before" = "" = the last page (the oldest items). Items within a
 * page are always newest first. Unknown anchor → undefined (the core answers item-not-found).
 * With `maxBytes` the page is cut to the payload byte budget on the side away from the anchor
 * (see ItemStore.listItems and {@link fitInBudget}).
 */
import type { Item, ItemPage, ItemQuery } from "../domain/types.js";

/** The UTF-8 bytes of an item's payload: what a byte budget counts. */
export const payloadBytes = (item: Pick<Item, "payload">): number =>
  Buffer.byteLength(item.payload, "utf8");

/**
 * How many of the sizes, taken in order, fit in `maxBytes`: the longest prefix whose sum stays
 * within it, and at least one (when there is one). Without a budget, all of them. Stops reading
 * `sizes` at the first size that does not fit (so a lazy iterable is read one past the cut).
 */
export function fitInBudget(sizes: Iterable<number>, maxBytes: number | undefined): number {
  let n = 0;
  let total = 0;
  for (const size of sizes) {
    total += size;
    if (maxBytes !== undefined && n > 0 && total > maxBytes) break;
    n++;
  }
  return n;
}

/** The payload sizes of `items` in order, computed as they are read. */
function* sizesOf(items: Iterable<Pick<Item, "payload">>): Generator<number> {
  for (const item of items) yield payloadBytes(item);
}

/** The newest items (of a newest-first list) within the byte budget, at least one. */
export function newestWithin<T extends Pick<Item, "payload">>(
  items: readonly T[],
  maxBytes: number | undefined,
): T[] {
  if (maxBytes === undefined) return [...items];
  return items.slice(0, fitInBudget(sizesOf(items), maxBytes));
}

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
  if (query.maxBytes !== undefined) {
    const page = all.slice(start, end);
    if (query.before !== undefined) {
      // Keep the items next to the anchor: the oldest of the page, counted from the anchor up.
      start = end - fitInBudget(sizesOf(page.reverse()), query.maxBytes);
    } else {
      end = start + fitInBudget(sizesOf(page), query.maxBytes);
    }
  }
  const items = all.slice(start, end);
  return { items, count: all.length, ...(items.length > 0 ? { firstIndex: start } : {}) };
}
