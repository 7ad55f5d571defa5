/** XEP-0060 §7 publisher use cases: publish an item (§7.1), delete (retract) an item (§7.2). */
import { buildPublishResult } from "../../../../schemas/src/pubsub.js";
import { StanzaError } from "../stanza-error.js";
import { readConfigForm } from "./config-form.js";
import { microblogRef, type PubsubHandler } from "./context.js";
import { publishEntry, singlePayload } from "./publish-entry.js";

/**
 * §7.1 publish: check the payload and the publish-options, then publishEntry (one transaction,
 * the entry completed inside it). The IQ result goes out after the commit; the notifications
 * after it.
 */
export const publishItem: PubsubHandler<"publish"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const payload = singlePayload(request.payloads, deps.limits);
  const preconditions = request.publishOptions
    ? readConfigForm(request.publishOptions, "publish-options", deps.service.maxItemsCeiling)
    : undefined;
  const place = { serviceJid: call.serviceJid, owner: call.owner, node: ref.node };
  const { result, events } = await publishEntry(
    deps.service,
    call.actor,
    place,
    payload,
    deps.limits,
    {
      ...(request.itemId ? { itemId: request.itemId } : {}),
      ...(preconditions ? { preconditions } : {}),
    },
  );
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
