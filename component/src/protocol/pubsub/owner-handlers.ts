/**
 * XEP-0060 §8 owner use cases: create (§8.1), configure (§8.2), default configuration (§8.3,
 * and the §6.4 default subscription options, parsed as the same request kind), delete (§8.4),
 * purge (§8.5), manage subscriptions (§8.8) and affiliations (§8.9).
 *
 * Create (§8.1): only urn:xmpp:microblog:0 can exist at u@C. A create without a node asks for an
 * instant node, which is not supported: not-acceptable + nodeid-required (§8.1.1). A create of
 * any other node name is refused the same way the service refuses a node it cannot make,
 * not-acceptable, with a text naming the one node there is (feature-not-implemented would say that
 * node creation as such is unsupported, which is untrue for the microblog node).
 */
import {
  buildAffiliationsResult,
  buildConfigureResult,
  buildDefaultResult,
  buildSubscriptionsResult,
} from "../../../../schemas/src/pubsub.js";
import { defaultNodeConfig, MICROBLOG_NODE } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";
import { configToForm, readConfigForm } from "./config-form.js";
import { microblogRef, type PubsubHandler } from "./context.js";
import { optionsToForm } from "./options-form.js";
import { subscriptionInfo } from "./subscriber-handlers.js";

/** §8.1 create the microblog node (optionally with a configuration form, §8.1.3). */
export const createNode: PubsubHandler<"create"> = async (call, request, deps) => {
  if (!request.node) {
    throw new StanzaError(
      "not-acceptable",
      `instant nodes are not supported; the node here is ${MICROBLOG_NODE}`,
      "nodeid-required",
    );
  }
  if (request.node !== MICROBLOG_NODE) {
    throw new StanzaError(
      "not-acceptable",
      `only the node ${MICROBLOG_NODE} can be created at ${call.serviceJid}`,
    );
  }
  const ref = microblogRef(call, request.node);
  const config = request.configure
    ? readConfigForm(request.configure, "configure", deps.service.maxItemsCeiling)
    : {};
  const { events } = await deps.service.createNode(call.actor, ref, config);
  return { events };
};

/**
 * §8.3 default node configuration (#owner), or §6.4 default subscription options (pubsub
 * namespace): of the node named (item-not-found when it does not exist), or of the service.
 */
export const retrieveDefault: PubsubHandler<"default"> = async (call, request, deps) => {
  if (request.scope === "node-config") {
    return buildDefaultResult(configToForm(defaultNodeConfig(call.owner)), "node-config");
  }
  const node = request.node === undefined ? undefined : microblogRef(call, request.node).node;
  const { result } = await deps.service.getDefaultSubscriptionOptions(call.serviceJid, node);
  return buildDefaultResult(optionsToForm(result, "result"), "subscribe-options", node);
};

/** §8.2 the configuration form, with the current values (the defaults before the first publish). */
export const getNodeConfiguration: PubsubHandler<"configure-get"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { result } = await deps.service.getNodeConfig(call.actor, ref);
  return buildConfigureResult(ref.node, configToForm(result));
};

/** §8.2.4 submit the form (a cancelled form changes nothing); creates the node for its owner. */
export const configureNode: PubsubHandler<"configure-set"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  if (request.form.type === "cancel") {
    await deps.service.getNodeConfig(call.actor, ref);
    return undefined;
  }
  const changes = readConfigForm(request.form, "configure", deps.service.maxItemsCeiling);
  const { events } = await deps.service.configureNode(call.actor, ref, changes);
  return { events };
};

/** §8.8.1 the node's subscriptions: subscribed and unconfigured (pending ones are §8.7's). */
export const getNodeSubscriptions: PubsubHandler<"owner-subscriptions-get"> = async (
  call,
  request,
  deps,
) => {
  const ref = microblogRef(call, request.node);
  const { result } = await deps.service.getNodeSubscriptions(call.actor, ref);
  return buildSubscriptionsResult({
    owner: true,
    node: ref.node,
    subscriptions: result
      .filter((s) => s.state !== "pending" && s.state !== "none")
      .map((s) => ({ ...subscriptionInfo(s), node: undefined })),
  });
};

/** §8.8.2 change subscriptions (a delta; all-or-nothing). */
export const setNodeSubscriptions: PubsubHandler<"owner-subscriptions-set"> = async (
  call,
  request,
  deps,
) => {
  const ref = microblogRef(call, request.node);
  const changes = request.subscriptions.map((s) => ({ jid: s.jid, state: s.subscription }));
  const { events } = await deps.service.setNodeSubscriptions(call.actor, ref, changes);
  return { events };
};

/** §8.9.1 the node's affiliations, the owner first. */
export const getNodeAffiliations: PubsubHandler<"owner-affiliations-get"> = async (
  call,
  request,
  deps,
) => {
  const ref = microblogRef(call, request.node);
  const { result } = await deps.service.getNodeAffiliations(call.actor, ref);
  return buildAffiliationsResult({
    owner: true,
    node: ref.node,
    affiliations: result.map((e) => ({ jid: e.entity, affiliation: e.affiliation })),
  });
};

/** §8.9.2 change affiliations (a delta; JIDs or whole domains; all-or-nothing). */
export const setNodeAffiliations: PubsubHandler<"owner-affiliations-set"> = async (
  call,
  request,
  deps,
) => {
  const ref = microblogRef(call, request.node);
  const changes = request.affiliations.map((a) => ({
    entity: a.jid ?? "",
    affiliation: a.affiliation,
  }));
  const { events } = await deps.service.setNodeAffiliations(call.actor, ref, changes);
  return { events };
};

/** §8.5 purge all items; subscribers get one purge notification each. */
export const purgeNode: PubsubHandler<"purge"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { events } = await deps.service.purgeNode(call.actor, ref);
  return { events };
};

/** §8.4 delete the node with its items, subscriptions and affiliations; subscribers are told (with the redirect). */
export const deleteNode: PubsubHandler<"delete"> = async (call, request, deps) => {
  const ref = microblogRef(call, request.node);
  const { events } = await deps.service.deleteNode(call.actor, ref);
  const redirect = request.redirect;
  return {
    events: redirect
      ? events.map((e) => (e.type === "node-deleted" ? { ...e, redirect } : e))
      : events,
  };
};
