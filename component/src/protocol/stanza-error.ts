import type { Logger } from "pino";
import { NS_PUBSUB_ERRORS, NS_STANZAS } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";

export interface StanzaErrorSpec {
  condition: string;
  /** XEP-0060 application condition (pubsub#errors), e.g. "nodeid-required". */
  pubsubCondition?: string;
  /** For pubsubCondition "unsupported": the feature name. */
  feature?: string;
  text?: string;
}

/** An error to answer a stanza with, thrown by protocol handlers. */
export class StanzaError extends Error implements StanzaErrorSpec {
  override name = "StanzaError";
  constructor(
    readonly condition: string,
    readonly text?: string,
    readonly pubsubCondition?: string,
    readonly feature?: string,
  ) {
    super(text ?? condition);
  }
}

/** RFC 6120 §8.3.3 error types, as XEP-0060's examples use them. */
const ERROR_TYPES: Record<string, string> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "cancel",
  "internal-server-error": "wait",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "payment-required": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "cancel",
};

function isSpec(err: unknown): err is StanzaErrorSpec {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as StanzaErrorSpec).condition === "string" &&
    (err as StanzaErrorSpec).condition in ERROR_TYPES
  );
}

/** Build <error/> for a thrown error; anything unexpected is logged and becomes internal-server-error. */
export function toErrorElement(err: unknown, log?: Logger): Element {
  const spec: StanzaErrorSpec = isSpec(err) ? err : { condition: "internal-server-error" };
  if (!isSpec(err)) log?.error({ err }, "handler failed");
  const el = xml(
    "error",
    { type: ERROR_TYPES[spec.condition] ?? "cancel" },
    xml(spec.condition, { xmlns: NS_STANZAS }),
  );
  // RFC 6120 §8.3.2: defined condition, then text, then the application-specific condition.
  if (spec.text) el.append(xml("text", { xmlns: NS_STANZAS, "xml:lang": "en" }, spec.text));
  if (spec.pubsubCondition) {
    el.append(xml(spec.pubsubCondition, { xmlns: NS_PUBSUB_ERRORS, feature: spec.feature }));
  }
  return el;
}
