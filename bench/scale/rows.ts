/**
 * The rows of the generated store, exactly as the component writes them (checked against rows
 * of a real publish, subscribe and follow: schemas/sql/002_pubsub.sql, 004_timeline.sql and the
 * stores in component/src/storage/): the node config is defaultNodeConfig as JSON, item ids and
 * subids come from the component's own generator, a payload is what completeEntry makes of the
 * entry a client sends (the fast template below is checked against it), a follow is a
 * subscription of u@C at the followed node plus a follows row with the same subid.
 */
import { createItemIdGenerator } from "../../component/src/domain/item-id.js";
import { defaultNodeConfig } from "../../component/src/domain/types.js";
import {
  buildEntry,
  completeEntry,
  entryTagUri,
  itemUri,
  rfc3339,
} from "../../schemas/src/atom.js";
import type { Random } from "./random.js";

export const NODE = "urn:xmpp:microblog:0";

export type Table = "nodes" | "items" | "subscriptions" | "follows" | "timeline";
export type ColumnType = "text" | "bigint" | "jsonb";

/** Columns written, with their PostgreSQL types (the seq columns are left to the store). */
export const COLUMNS: Record<Table, ReadonlyArray<readonly [string, ColumnType]>> = {
  nodes: [
    ["service", "text"],
    ["node", "text"],
    ["owner", "text"],
    ["config", "jsonb"],
    ["created", "bigint"],
  ],
  items: [
    ["service", "text"],
    ["node", "text"],
    ["item_id", "text"],
    ["payload", "text"],
    ["publisher", "text"],
    ["created", "bigint"],
    ["updated", "bigint"],
  ],
  subscriptions: [
    ["service", "text"],
    ["node", "text"],
    ["jid", "text"],
    ["bare_jid", "text"],
    ["domain", "text"],
    ["subid", "text"],
    ["state", "text"],
    ["created", "bigint"],
    ["options", "jsonb"],
  ],
  follows: [
    ["user_jid", "text"],
    ["service", "text"],
    ["node", "text"],
    ["domain", "text"],
    ["target", "text"],
    ["state", "text"],
    ["subid", "text"],
    ["created_at", "bigint"],
    ["updated_at", "bigint"],
  ],
  timeline: [
    ["user_jid", "text"],
    ["service", "text"],
    ["node", "text"],
    ["item_id", "text"],
    ["author", "text"],
    ["payload", "text"],
    ["published_at", "bigint"],
    ["received_at", "bigint"],
  ],
};

/** The JIDs of user index i (the reader is "reader"): u{i}@D and u{i}@C. */
export class Jids {
  constructor(
    readonly usersDomain: string,
    readonly componentDomain: string,
    private readonly reader: number,
  ) {}
  local(i: number): string {
    return i === this.reader ? "reader" : `u${i}`;
  }
  user(i: number): string {
    return `${this.local(i)}@${this.usersDomain}`;
  }
  service(i: number): string {
    return `${this.local(i)}@${this.componentDomain}`;
  }
}

/** An id generator (item ids, subids) whose clock is set before each call. */
export function clockedIds(rng: Random): { at(ms: number): string } {
  let clock = 0;
  const next = createItemIdGenerator(() => clock, rng);
  return {
    at: (ms) => {
      clock = ms;
      return next();
    },
  };
}

export const nodeConfig = (owner: string): string => JSON.stringify(defaultNodeConfig(owner));

const escapeText = (t: string) =>
  t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A stored payload: completeEntry of `<entry><title type='text'>text</title></entry>`. */
export function payloadOf(
  jids: Jids,
  user: number,
  itemId: string,
  text: string,
  created: number,
): string {
  const name = jids.local(user);
  const service = jids.service(user);
  const when = rfc3339(new Date(created));
  return (
    `<entry xmlns="http://www.w3.org/2005/Atom"><author><name>${name}</name>` +
    `<uri>xmpp:${jids.user(user)}</uri></author><title type="text">${escapeText(text)}</title>` +
    `<link rel="alternate" href="${itemUri(service, NODE, itemId)}"/>` +
    `<id>${entryTagUri(service, new Date(created), itemId)}</id>` +
    `<published>${when}</published><updated>${when}</updated></entry>`
  );
}

/** The payload the component itself would store, to check the template against. */
export function completedPayload(
  jids: Jids,
  user: number,
  itemId: string,
  text: string,
  created: number,
): string {
  return completeEntry(buildEntry({ text }), {
    itemId,
    serviceJid: jids.service(user),
    ownerJid: jids.user(user),
    authorName: jids.local(user),
    now: new Date(created),
    node: NODE,
  }).toString();
}
