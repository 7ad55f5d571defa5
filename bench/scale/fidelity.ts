/**
 * Are the generated rows like the component's own? After the sessions, the publisher's newest
 * item and own-timeline row were written by the component and its oldest by the generator:
 * compared with ids, dates and texts blanked, and the timestamps' relations checked.
 */
import type { BenchStore } from "./stores.js";

export interface Fidelity {
  itemPayloadsMatch: boolean;
  itemColumnsMatch: boolean;
  ownTimelineMatch: boolean;
  generated?: Record<string, unknown>;
  written?: Record<string, unknown>;
}

/** The payload with what differs between posts blanked. */
function shape(payload: string, itemId: string): string {
  return payload
    .split(itemId)
    .join("ID")
    .replace(/<title type="text">[^<]*<\/title>/, '<title type="text">T</title>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g, "TIME")
    .replace(/,\d{4}-\d{2}-\d{2}:/, ",DAY:");
}

const num = (v: unknown) => Number(v);

/** A row's columns other than the values of one post. */
function itemColumns(r: Record<string, unknown>) {
  return {
    service: r.service,
    node: r.node,
    publisher: r.publisher,
    createdIsUpdated: num(r.created) === num(r.updated),
    idLength: String(r.item_id).length,
  };
}

export async function checkFidelity(
  store: BenchStore,
  service: string,
  owner: string,
): Promise<Fidelity> {
  const items = await store.itemRows(service, 5000);
  const timeline = await store.timelineRows(owner, 10_000);
  const inTimeline = new Set(timeline.map((r) => r.item_id));
  const written = items[0];
  // The oldest generated item still in the owner's timeline (a capped timeline drops the oldest).
  const generated = [...items].reverse().find((r) => inTimeline.has(r.item_id));
  if (!written || !generated || written === generated) {
    return { itemPayloadsMatch: false, itemColumnsMatch: false, ownTimelineMatch: false };
  }
  const a = shape(String(written.payload), String(written.item_id));
  const b = shape(String(generated.payload), String(generated.item_id));
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const own = (row: Record<string, unknown> | undefined, item: Record<string, unknown>) =>
    row !== undefined &&
    row.item_id === item.item_id &&
    row.author === owner &&
    row.payload === item.payload &&
    num(row.published_at) === num(item.created) &&
    num(row.received_at) >= num(item.created) &&
    num(row.received_at) - num(item.created) < 1000;
  const byId = (id: unknown) => timeline.find((r) => r.item_id === id);
  return {
    itemPayloadsMatch: a === b,
    itemColumnsMatch: same(itemColumns(written), itemColumns(generated)),
    ownTimelineMatch:
      own(byId(written.item_id), written) && own(byId(generated.item_id), generated),
    generated: { ...generated, payload: b },
    written: { ...written, payload: a },
  };
}
