/**
 * The rows the SQL stores read, and their mapping to the domain's records. The schemas are the
 * same on SQLite and PostgreSQL; only the JSON columns differ (text on SQLite, JSONB objects on
 * PostgreSQL), so each store names how it reads them.
 */
import type { Item, NodeConfig, NodeRecord, Subscription } from "../domain/types.js";

/** `J`: how a JSON column arrives (a string to parse, or an object already). */
export interface NodeRow<J> {
  service: string;
  node: string;
  owner: string;
  config: J;
  created: number;
}
export interface ItemRow {
  seq: number;
  item_id: string;
  payload: string;
  publisher: string;
  created: number;
  updated: number;
}
export interface SubRow<J> {
  service: string;
  node: string;
  jid: string;
  subid: string;
  state: Subscription["state"];
  created: number;
  options: J | null;
}
export type Count = { n: number };

/** The mappers of one store, given how it reads a JSON column. */
export function rowMappers<J>(json: (column: J) => unknown) {
  return {
    toNode: (r: NodeRow<J>): NodeRecord => ({
      service: r.service,
      node: r.node,
      owner: r.owner,
      config: json(r.config) as NodeConfig,
      createdAt: r.created,
    }),
    toSub: (r: SubRow<J>): Subscription => ({
      service: r.service,
      node: r.node,
      jid: r.jid,
      subid: r.subid,
      state: r.state,
      createdAt: r.created,
      ...(r.options === null ? {} : { options: json(r.options) as Record<string, string> }),
    }),
  };
}

export const toItem = (r: ItemRow): Item => ({
  id: r.item_id,
  payload: r.payload,
  publisher: r.publisher,
  createdAt: r.created,
  updatedAt: r.updated,
  seq: r.seq,
});
