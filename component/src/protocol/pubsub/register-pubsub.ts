/**
 * XEP-0060 at u@C: `{pubsub}pubsub` and `{pubsub#owner}pubsub`, get and set, parsed once into a
 * request kind and dispatched through one table (after Prosody's handlers[type_action]).
 */
import { NS_PUBSUB, NS_PUBSUB_OWNER } from "../../../../schemas/src/ns.js";
import { type PubsubRequest, parsePubsubRequest } from "../../../../schemas/src/pubsub.js";
import type { Element } from "../../../../schemas/src/xml.js";
import type { IqAnswer, IqRequest, StanzaRouter } from "../router.js";
import {
  type PubsubDeps,
  type PubsubHandler,
  type PubsubHandlers,
  resolveCall,
} from "./context.js";
import {
  configureNode,
  createNode,
  deleteNode,
  getNodeAffiliations,
  getNodeConfiguration,
  getNodeSubscriptions,
  purgeNode,
  retrieveDefault,
  setNodeAffiliations,
  setNodeSubscriptions,
} from "./owner-handlers.js";
import { publishItem, retractItem } from "./publisher-handlers.js";
import {
  getSubscriptionOptions,
  retrieveAffiliations,
  retrieveItems,
  retrieveSubscriptions,
  setSubscriptionOptions,
  subscribe,
  unsubscribe,
} from "./subscriber-handlers.js";

/** Request kind → use case. The mapped type makes the compiler check that every kind has one. */
export const PUBSUB_HANDLERS: PubsubHandlers = {
  publish: publishItem,
  retract: retractItem,
  items: retrieveItems,
  subscribe,
  unsubscribe,
  subscriptions: retrieveSubscriptions,
  affiliations: retrieveAffiliations,
  "options-get": getSubscriptionOptions,
  "options-set": setSubscriptionOptions,
  create: createNode,
  default: retrieveDefault,
  "configure-get": getNodeConfiguration,
  "configure-set": configureNode,
  "owner-subscriptions-get": getNodeSubscriptions,
  "owner-subscriptions-set": setNodeSubscriptions,
  "owner-affiliations-get": getNodeAffiliations,
  "owner-affiliations-set": setNodeAffiliations,
  purge: purgeNode,
  delete: deleteNode,
};

/** Handle one pubsub IQ addressed to u@C. Throws the error to answer with. */
export function handlePubsubIq(
  req: IqRequest,
  deps: PubsubDeps,
): Promise<IqAnswer | Element | undefined> {
  const call = resolveCall(req, deps.addresses);
  const request = parsePubsubRequest(req.child, req.type);
  req.log.debug({ kind: request.kind, node: "node" in request ? request.node : undefined });
  const handler = PUBSUB_HANDLERS[request.kind] as PubsubHandler<PubsubRequest["kind"]>;
  return handler(call, request, deps);
}

/** Register the pubsub handlers at the per-user addresses u@C. */
export function registerPubsub(router: StanzaRouter, deps: PubsubDeps): void {
  const handle = (req: IqRequest) => handlePubsubIq(req, deps);
  for (const ns of [NS_PUBSUB, NS_PUBSUB_OWNER]) {
    router.on("get", ns, "pubsub", "user", handle);
    router.on("set", ns, "pubsub", "user", handle);
  }
}
