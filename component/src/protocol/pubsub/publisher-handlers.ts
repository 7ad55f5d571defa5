/** XEP-0060 §7 publisher use cases: publish an item (§7.1), delete (retract) an item (§7.2). */
import { buildPublishResult } from "../../../../schemas/src/pubsub.js";
import type { NodeRef } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";
import { readConfigForm } from "./config-form.js";
import { microblogRef, type PubsubCall, type PubsubDeps, type PubsubHandler } from "./context.js";
import { prepareEntry, publishedOf, singlePayload } from "./publish-entry.js";

/**
 * §7.1 publish: validate and complete the entry, then publish it in one transaction (the node
 * is created on its owner's first publish; publish-options are preconditions). The IQ result
 * is returned after the commit; notifications follow it.
 */
export const publishItem: PubsubHandler<"publish"> = (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const payload = singlePayload(request.payloads, deps.limits);
  const preconditions = request.publishOptions
    ? readConfigForm(request.publishOptions, "publish-options", deps.service.maxItemsCeiling)
    : undefined;
  const itemId = request.itemId || deps.newItemId();
  const previous = request.itemId ? storedPublished(call, ref, itemId, deps) : undefined;
  const entry = prepareEntry(
    payload,
    {
      itemId,
      serviceJid: call.serviceJid,
      owner: call.owner,
      node: ref.node,
      ...(previous !== undefined ? { previousPublished: previous } : {}),
    },
    deps.limits,
  );
  const { result, events } = deps.service.publishItem(call.actor, ref, {
    id: itemId,
    payload: entry.toString(),
    ...(preconditions ? { preconditions } : {}),
  });
  deps.events.notify(events);
  return buildPublishResult(ref.node, result.item.id);
};

/** The <published> of the item this publish replaces, if the sender may read it. */
function storedPublished(
  call: PubsubCall,
  ref: NodeRef,
  itemId: string,
  deps: PubsubDeps,
): string | undefined {
  try {
    const stored = deps.service.getItems(call.actor, ref, { ids: [itemId] }).result.items[0];
    return stored ? publishedOf(stored.payload) : undefined;
  } catch {
    return undefined;
  }
}

/** §7.2 retract one item; subscribers are notified when asked or when notify_retract is on. */
export const retractItem: PubsubHandler<"retract"> = (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const [id, ...more] = request.itemIds;
  if (id === undefined || more.length > 0) {
    throw new StanzaError("bad-request", "retract one <item id/> at a time", "item-required");
  }
  const { events } = deps.service.retractItem(call.actor, ref, { id, notify: request.notify });
  deps.events.notify(events);
  return undefined;
};
