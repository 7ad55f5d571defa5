/**
 * The one error the pubsub core raises. The protocol layer maps `condition` (RFC 6120 stanza
 * error) and `pubsubCondition` (XEP-0060 pubsub#errors) to XML in one table.
 */

/** RFC 6120 §8.3.3 stanza error conditions the core uses. */
export const STANZA_ERROR_CONDITIONS = [
  "bad-request",
  "conflict",
  "feature-not-implemented",
  "forbidden",
  "item-not-found",
  "jid-malformed",
  "not-acceptable",
  "not-allowed",
  "not-authorized",
  "payment-required",
  "policy-violation",
  "resource-constraint",
  "unexpected-request",
  "internal-server-error",
  "service-unavailable",
] as const;

export type StanzaErrorCondition = (typeof STANZA_ERROR_CONDITIONS)[number];

/** XEP-0060 http://jabber.org/protocol/pubsub#errors conditions. */
export const PUBSUB_ERROR_CONDITIONS = [
  "closed-node",
  "configuration-required",
  "invalid-jid",
  "invalid-options",
  "invalid-payload",
  "invalid-subid",
  "item-forbidden",
  "item-required",
  "jid-required",
  "max-items-exceeded",
  "max-nodes-exceeded",
  "nodeid-required",
  "not-in-roster-group",
  "not-subscribed",
  "payload-too-big",
  "payload-required",
  "pending-subscription",
  "precondition-not-met",
  "presence-subscription-required",
  "subid-required",
  "too-many-subscriptions",
  "unsupported",
  "unsupported-access-model",
] as const;

export type PubsubErrorCondition = (typeof PUBSUB_ERROR_CONDITIONS)[number];

/**
 * Why a request was refused, as a countable code. Every refusal the policy makes carries one;
 * the service adds 1 to the counter `refused:<reason>` (see PubsubService.getRefusalCounts).
 */
export const REFUSAL_REASONS = [
  "insufficient-privileges",
  "outcast-jid",
  "outcast-domain",
  "service-denied-domain",
  "service-not-allowed-domain",
  "not-on-whitelist",
  "not-subscribed",
  "pending-subscription",
  "invalid-jid",
  "limit-pending-per-domain",
  "limit-requests-per-minute",
  "limit-requests-per-requester",
  "limit-pending-per-node",
  "denied-by-owner",
  "pending-expired",
  "unrequested-subscription",
  "affiliation-not-grantable",
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface PubsubErrorOptions {
  pubsubCondition?: PubsubErrorCondition;
  /** For pubsubCondition "unsupported": the XEP-0060 feature name, e.g. "publish". */
  feature?: string;
  /** Human-readable text for the <text/> element. */
  text?: string;
  /** Set on policy refusals: the counted reason. */
  reason?: RefusalReason;
}

export class PubsubError extends Error {
  override name = "PubsubError";
  readonly condition: StanzaErrorCondition;
  readonly pubsubCondition: PubsubErrorCondition | undefined;
  readonly feature: string | undefined;
  readonly text: string | undefined;
  readonly reason: RefusalReason | undefined;

  constructor(condition: StanzaErrorCondition, options: PubsubErrorOptions = {}) {
    const detail = options.pubsubCondition ? ` (${options.pubsubCondition})` : "";
    super(options.text ?? `${condition}${detail}`);
    this.condition = condition;
    this.pubsubCondition = options.pubsubCondition;
    this.feature = options.feature;
    this.text = options.text;
    this.reason = options.reason;
  }
}

/** Shorthand used by the core: `fail("item-not-found", { text: "no such node" })`. */
export function pubsubError(
  condition: StanzaErrorCondition,
  options?: PubsubErrorOptions,
): PubsubError {
  return new PubsubError(condition, options);
}
