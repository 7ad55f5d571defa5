/**
 * XEP-0060 §5 and §6 use cases of any entity: retrieve items (§6.5), subscribe (§6.1),
 * unsubscribe (§6.2), own subscriptions (§5.6) and affiliations (§5.7). Subscription options
 * (§6.3, §6.4) are not offered: feature-not-implemented + unsupported "subscription-options".
 */
import {
  buildAffiliationsResult,
  buildItemsResult,
  buildSubscriptionResult,
  buildSubscriptionsResult,
  type SubscriptionInfo,
} from "../../../../schemas/src/pubsub.js";
import type { ItemQuery, Subscription } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";
import { microblogRef, type PubsubHandler } from "./context.js";
import { DEFAULT_PAGE_SIZE, itemsAnswer } from "./items-result.js";

export function subscriptionInfo(sub: Subscription): SubscriptionInfo {
  return { node: sub.node, jid: sub.jid, subscription: sub.state, subid: sub.subid };
}

/** §6.5 items: all (a default page), by id, the newest max_items, or an RSM page; newest first. */
export const retrieveItems: PubsubHandler<"items"> = (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const set = request.rsm;
  if (set?.index !== undefined) {
    throw new StanzaError(
      "feature-not-implemented",
      "RSM <index/> is not supported here; page with <after/> and <before/>",
    );
  }
  const byIds = request.itemIds.length > 0;
  const defaultLimited = !byIds && request.maxItems === undefined && set?.max === undefined;
  const rsm: ItemQuery = {};
  if (set?.max !== undefined) rsm.max = set.max;
  if (set?.after !== undefined) rsm.after = set.after;
  if (set?.before !== undefined) rsm.before = set.before;
  if (defaultLimited) rsm.max = DEFAULT_PAGE_SIZE;
  const { result } = deps.service.getItems(call.actor, ref, {
    ...(byIds ? { ids: request.itemIds } : {}),
    ...(request.maxItems !== undefined ? { maxItems: request.maxItems } : {}),
    rsm,
  });
  const answer = itemsAnswer(result, { paged: set !== undefined && !byIds, defaultLimited });
  return buildItemsResult({ node: ref.node, ...answer });
};

/** §6.1 subscribe: subscribed (open, or whitelisted), pending (authorize); an existing one is returned. */
export const subscribe: PubsubHandler<"subscribe"> = (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { result, events } = deps.service.subscribe(call.actor, ref, { jid: request.jid });
  deps.events.notify(events);
  return buildSubscriptionResult(subscriptionInfo(result));
};

/** §6.2 unsubscribe (also withdraws a pending request). */
export const unsubscribe: PubsubHandler<"unsubscribe"> = (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { result, events } = deps.service.unsubscribe(call.actor, ref, {
    jid: request.jid,
    ...(request.subid ? { subid: request.subid } : {}),
  });
  deps.events.notify(events);
  return buildSubscriptionResult(subscriptionInfo(result));
};

/** §5.6 the sender's subscriptions at u@C (optionally at one node). */
export const retrieveSubscriptions: PubsubHandler<"subscriptions"> = (call, request, deps) => {
  const { result } = deps.service.getSubscriptions(call.actor, call.serviceJid, request.node);
  return buildSubscriptionsResult({
    owner: false,
    ...(request.node ? { node: request.node } : {}),
    subscriptions: result.map(subscriptionInfo),
  });
};

/** §5.7 the sender's affiliations at u@C (optionally at one node). */
export const retrieveAffiliations: PubsubHandler<"affiliations"> = (call, request, deps) => {
  const { result } = deps.service.getAffiliations(call.actor, call.serviceJid, request.node);
  return buildAffiliationsResult({
    owner: false,
    affiliations: result.map((e) => ({ node: e.node, affiliation: e.affiliation })),
  });
};

function subscriptionOptionsUnsupported(): never {
  throw new StanzaError(
    "feature-not-implemented",
    "subscription options are not supported",
    "unsupported",
    "subscription-options",
  );
}

/** §6.3 subscription options: not offered. */
export const getSubscriptionOptions: PubsubHandler<"options-get"> = () =>
  subscriptionOptionsUnsupported();

/** §6.3.5 submitting subscription options: not offered. */
export const setSubscriptionOptions: PubsubHandler<"options-set"> = () =>
  subscriptionOptionsUnsupported();

export { subscriptionOptionsUnsupported };
