/** XEP-0060 §7 publisher use cases: publish an item (§7.1), delete (retract) an item (§7.2). */
import { buildPublishResult } from "../../../../schemas/src/pubsub.js";
import type { CompletionContext } from "../../domain/item-use-cases.js";
import { StanzaError } from "../stanza-error.js";
import { readConfigForm } from "./config-form.js";
import { microblogRef, type PubsubHandler } from "./context.js";
import { prepareEntry, publishedOf, singlePayload } from "./publish-entry.js";

/**
 * §7.1 publish: check the payload, then publish it in one transaction: the domain chooses the
 * item id, reads the item it replaces and completes the entry (completeEntry, pure) inside it;
 * the node is created on its owner's first publish; publish-options are preconditions. The IQ
 * result goes out after the commit; the notifications after it.
 */
export const publishItem: PubsubHandler<"publish"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const payload = singlePayload(request.payloads, deps.limits);
  const preconditions = request.publishOptions
    ? readConfigForm(request.publishOptions, "publish-options", deps.service.maxItemsCeiling)
    : undefined;
  const complete = (c: CompletionContext) => {
    const previous = c.previous ? publishedOf(c.previous.payload) : undefined;
    const target = {
      itemId: c.itemId,
      serviceJid: call.serviceJid,
      owner: call.owner,
      node: ref.node,
      now: new Date(c.now),
      ...(previous !== undefined ? { previousPublished: previous } : {}),
    };
    return prepareEntry(payload, target, deps.limits).toString();
  };
  const { result, events } = await deps.service.publishItem(call.actor, ref, {
    ...(request.itemId ? { id: request.itemId } : {}),
    payload: payload.toString(),
    complete,
    ...(preconditions ? { preconditions } : {}),
  });
  return { payload: buildPublishResult(ref.node, result.item.id), events };
};

/** §7.2 retract one item; subscribers are notified when asked or when notify_retract is on. */
export const retractItem: PubsubHandler<"retract"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const [id, ...more] = request.itemIds;
  if (id === undefined || more.length > 0) {
    throw new StanzaError("bad-request", "retract one <item id/> at a time", "item-required");
  }
  const { events } = await deps.service.retractItem(call.actor, ref, {
    id,
    notify: request.notify,
  });
  return { events };
};
