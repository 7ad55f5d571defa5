/** Shared data and helpers of the storage contract and the per-store tests. */
import type { PubsubTx } from "../../../component/src/domain/ports.js";
import {
  defaultNodeConfig,
  type NodeRef,
  type Subscription,
} from "../../../component/src/domain/types.js";

export const REF: NodeRef = { service: "alice@mb.example", node: "urn:xmpp:microblog:0" };
export const OTHER: NodeRef = { service: "alice@mb.example", node: "other" };

export function seedNode(tx: PubsubTx, ref: NodeRef = REF, createdAt = 1): Promise<void> {
  return tx.createNode({
    ...ref,
    owner: "alice@example",
    config: defaultNodeConfig("alice@example"),
    createdAt,
  });
}

export function publish(tx: PubsubTx, id: string, ref: NodeRef = REF, at = 10) {
  return tx.upsertItem(ref, {
    id,
    payload: `<p>${id}</p>`,
    publisher: "alice@example",
    createdAt: at,
    updatedAt: at,
  });
}

export function sub(
  jid: string,
  state: Subscription["state"] = "subscribed",
  createdAt = 5,
  ref = REF,
): Subscription {
  return { ...ref, jid, subid: `sid-${jid}`, state, createdAt };
}

export const ids = (items: { id: string }[] | undefined) => (items ?? []).map((i) => i.id);
