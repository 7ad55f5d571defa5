/**
 * XEP-0060 §5 and §6 use cases of any entity: retrieve items (§6.5), subscribe (§6.1, with
 * options §6.3.7), unsubscribe (§6.2), subscription options (§6.3; the §6.4 defaults are answered
 * with the §8.3 ones in owner-handlers.ts), own subscriptions (§5.6) and affiliations (§5.7).
 */
import {
  buildAffiliationsResult,
  buildItemsResult,
  buildOptionsResult,
  buildSubscriptionResult,
  buildSubscriptionsResult,
  type SubscriptionInfo,
} from "../../../../schemas/src/pubsub.js";
import { PubsubError } from "../../domain/errors.js";
import type { ItemQuery, Subscription } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";
import { microblogRef, type PubsubHandler } from "./context.js";
import { DEFAULT_PAGE_SIZE, itemsAnswer, MAX_PAGE_SIZE, PAGE_BYTE_BUDGET } from "./items-result.js";
import { optionsToForm, readOptionsForm } from "./options-form.js";

export function subscriptionInfo(sub: Subscription): SubscriptionInfo {
  return { node: sub.node, jid: sub.jid, subscription: sub.state, subid: sub.subid };
}

/**
 * §6.5 items: all (a default page), by id, the newest max_items, or an RSM page; newest first.
 * The store is asked for one answer's worth at most: MAX_PAGE_SIZE items (or ids), and
 * PAGE_BYTE_BUDGET payload bytes, so that it reads no payload the answer would drop. A larger
 * max_items or RSM max, or a page cut by the byte budget, gets an RSM set whose <last/> and
 * <count/> let the client page on with <after/>.
 */
export const retrieveItems: PubsubHandler<"items"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const set = request.rsm;
  if (set?.index !== undefined) {
    throw new StanzaError(
      "feature-not-implemented",
      "RSM <index/> is not supported here; page with <after/> and <before/>",
    );
  }
  const byIds = request.itemIds.length > 0;
  const asked = [request.maxItems, set?.max].filter((m): m is number => m !== undefined);
  const rsm: ItemQuery = {};
  if (!byIds)
    rsm.max = Math.min(asked.length === 0 ? DEFAULT_PAGE_SIZE : Math.min(...asked), MAX_PAGE_SIZE);
  if (set?.after !== undefined) rsm.after = set.after;
  if (set?.before !== undefined) rsm.before = set.before;
  const ids = request.itemIds.slice(0, MAX_PAGE_SIZE);
  const { result } = await deps.service.getItems(call.actor, ref, {
    ...(byIds ? { ids } : {}),
    rsm,
    maxBytes: PAGE_BYTE_BUDGET,
  });
  const wanted = byIds ? ids.length : asked.length === 0 ? undefined : Math.min(...asked);
  const answer = itemsAnswer(result, {
    paged: set !== undefined && !byIds,
    ...(wanted !== undefined ? { wanted } : {}),
    backward: !byIds && rsm.before !== undefined,
  });
  return buildItemsResult({ node: ref.node, ...answer });
};

/**
 * §6.1 subscribe: subscribed (open, or whitelisted), pending (authorize); an existing one is
 * returned. With `<options/>` (§6.3.7) the options are set too, and the result carries the
 * options in force as a result form.
 */
export const subscribe: PubsubHandler<"subscribe"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const options = request.options ? readOptionsForm(request.options) : undefined;
  if (!options) {
    const { result, events } = await deps.service.subscribe(call.actor, ref, { jid: request.jid });
    return { payload: buildSubscriptionResult(subscriptionInfo(result)), events };
  }
  const { result, events } = await deps.service.subscribeWithOptions(call.actor, ref, {
    jid: request.jid,
    options,
  });
  const form = optionsToForm(result.options, "result");
  return { payload: buildSubscriptionResult(subscriptionInfo(result.subscription), form), events };
};

/** §6.2 unsubscribe (also withdraws a pending request). */
export const unsubscribe: PubsubHandler<"unsubscribe"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { result, events } = await deps.service.unsubscribe(call.actor, ref, {
    jid: request.jid,
    ...(request.subid ? { subid: request.subid } : {}),
  });
  return { payload: buildSubscriptionResult(subscriptionInfo(result)), events };
};

/** §5.6 the sender's subscriptions at u@C (optionally at one node). */
export const retrieveSubscriptions: PubsubHandler<"subscriptions"> = async (
  call,
  request,
  deps,
) => {
  const { result } = await deps.service.getSubscriptions(call.actor, call.serviceJid, request.node);
  return buildSubscriptionsResult({
    owner: false,
    ...(request.node ? { node: request.node } : {}),
    subscriptions: result.map(subscriptionInfo),
  });
};

/** §5.7 the sender's affiliations at u@C (optionally at one node). */
export const retrieveAffiliations: PubsubHandler<"affiliations"> = async (call, request, deps) => {
  const { result } = await deps.service.getAffiliations(call.actor, call.serviceJid, request.node);
  return buildAffiliationsResult({
    owner: false,
    affiliations: result.map((e) => ({ node: e.node, affiliation: e.affiliation })),
  });
};

/**
 * §6.3.4.2 answers a subscriber that is not subscribed with unexpected-request of type "modify"
 * (where §6.2.3.2, for unsubscribe, has "cancel", the type used elsewhere).
 */
function asOptionsError(err: unknown): unknown {
  if (err instanceof PubsubError && err.pubsubCondition === "not-subscribed") {
    return new StanzaError(
      err.condition,
      err.text,
      "not-subscribed",
      undefined,
      undefined,
      "modify",
    );
  }
  return err;
}

/** §6.3.1 the options form of a subscription, with the values in force (§6.3.2). */
export const getSubscriptionOptions: PubsubHandler<"options-get"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  try {
    const { result } = await deps.service.getSubscriptionOptions(call.actor, ref, {
      jid: request.jid,
      ...(request.subid !== undefined ? { subid: request.subid } : {}),
    });
    return buildOptionsResult(ref.node, request.jid, optionsToForm(result.options), request.subid);
  } catch (err) {
    throw asOptionsError(err);
  }
};

/** §6.3.5 submit the options form; an empty result on success (§6.3.6). */
export const setSubscriptionOptions: PubsubHandler<"options-set"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const options = readOptionsForm(request.form);
  try {
    await deps.service.setSubscriptionOptions(call.actor, ref, {
      jid: request.jid,
      ...(request.subid !== undefined ? { subid: request.subid } : {}),
      options,
    });
  } catch (err) {
    throw asOptionsError(err);
  }
  return undefined;
};
