/**
 * One error table. Handlers throw one of three errors: the domain's PubsubError (its own
 * conditions, no XMPP types), a codec's WireError (schemas/), or StanzaError, the protocol
 * layer's own. `toErrorElement` turns each into the `<error/>` to answer with; the domain's
 * conditions go through one Record per condition list, so the compiler checks every case.
 * Anything else is a bug: logged, answered with internal-server-error.
 */
import type { Logger } from "pino";
import {
  buildStanzaError,
  type PubsubErrorCondition,
  type StanzaErrorCondition,
  type StanzaErrorSpec,
  WireError,
} from "../../../schemas/src/errors.js";
import type { Element } from "../../../schemas/src/xml.js";
import {
  type StanzaErrorCondition as DomainCondition,
  type PubsubErrorCondition as DomainPubsubCondition,
  PubsubError,
} from "../domain/errors.js";

export type { StanzaErrorSpec };

/** An error to answer a stanza with, thrown by protocol handlers. */
export class StanzaError extends Error {
  override name = "StanzaError";
  constructor(
    readonly condition: StanzaErrorSpec["condition"],
    readonly text?: string,
    readonly pubsubCondition?: StanzaErrorSpec["pubsubCondition"],
    readonly feature?: string,
    readonly appCondition?: StanzaErrorSpec["appCondition"],
    /** The error type, when the XEP's example differs from the condition's usual type. */
    readonly type?: StanzaErrorSpec["type"],
  ) {
    super(text ?? condition);
  }

  spec(): StanzaErrorSpec {
    const { condition, text, pubsubCondition, feature, appCondition, type } = this;
    return { condition, text, pubsubCondition, feature, appCondition, ...(type ? { type } : {}) };
  }
}

/** The domain's stanza conditions as XMPP conditions. */
export const DOMAIN_CONDITIONS: Readonly<Record<DomainCondition, StanzaErrorCondition>> = {
  "bad-request": "bad-request",
  conflict: "conflict",
  "feature-not-implemented": "feature-not-implemented",
  forbidden: "forbidden",
  "item-not-found": "item-not-found",
  "jid-malformed": "jid-malformed",
  "not-acceptable": "not-acceptable",
  "not-allowed": "not-allowed",
  "not-authorized": "not-authorized",
  "payment-required": "payment-required",
  "policy-violation": "policy-violation",
  "resource-constraint": "resource-constraint",
  "unexpected-request": "unexpected-request",
  "internal-server-error": "internal-server-error",
  "service-unavailable": "service-unavailable",
};

/** The domain's pubsub conditions as XEP-0060 pubsub#errors conditions. */
export const DOMAIN_PUBSUB_CONDITIONS: Readonly<
  Record<DomainPubsubCondition, PubsubErrorCondition>
> = {
  "closed-node": "closed-node",
  "configuration-required": "configuration-required",
  "invalid-jid": "invalid-jid",
  "invalid-options": "invalid-options",
  "invalid-payload": "invalid-payload",
  "invalid-subid": "invalid-subid",
  "item-forbidden": "item-forbidden",
  "item-required": "item-required",
  "jid-required": "jid-required",
  "max-items-exceeded": "max-items-exceeded",
  "max-nodes-exceeded": "max-nodes-exceeded",
  "nodeid-required": "nodeid-required",
  "not-in-roster-group": "not-in-roster-group",
  "not-subscribed": "not-subscribed",
  "payload-too-big": "payload-too-big",
  "payload-required": "payload-required",
  "pending-subscription": "pending-subscription",
  "precondition-not-met": "precondition-not-met",
  "presence-subscription-required": "presence-subscription-required",
  "subid-required": "subid-required",
  "too-many-subscriptions": "too-many-subscriptions",
  unsupported: "unsupported",
  "unsupported-access-model": "unsupported-access-model",
};

/** What an error thrown by a handler answers with; undefined for anything unexpected. */
export function errorSpecOf(err: unknown): StanzaErrorSpec | undefined {
  if (err instanceof PubsubError) {
    return {
      condition: DOMAIN_CONDITIONS[err.condition],
      pubsubCondition: err.pubsubCondition && DOMAIN_PUBSUB_CONDITIONS[err.pubsubCondition],
      feature: err.feature,
      text: err.text,
    };
  }
  if (err instanceof StanzaError || err instanceof WireError) return err.spec();
  return undefined;
}

/** Build <error/> for a thrown error; anything unexpected is logged and becomes internal-server-error. */
export function toErrorElement(err: unknown, log?: Logger): Element {
  const spec = errorSpecOf(err);
  if (!spec) {
    log?.error({ err }, "handler failed");
    return buildStanzaError({ condition: "internal-server-error" });
  }
  return buildStanzaError(spec);
}

/** Every policy refusal is logged with its reason (the domain core has already counted it). */
export function logRefusal(log: Logger, err: unknown): void {
  if (err instanceof PubsubError && err.reason)
    log.info({ reason: err.reason, condition: err.condition }, "refused");
}
