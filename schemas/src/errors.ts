/**
 * Stanza errors (RFC 6120 §8.3) with the XEP-0060 pubsub-specific conditions (§7, §12).
 * `WireError` is the one error type every codec in schemas/ throws: it carries the XMPP condition
 * the caller should answer with, so the protocol layer maps it with a single `buildStanzaError`.
 */
import { NS_PUBSUB_ERRORS, NS_STANZAS } from "./ns.js";
import { type Element, xml } from "./xml.js";

export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "gone"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "payment-required"
  | "policy-violation"
  | "recipient-unavailable"
  | "redirect"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "subscription-required"
  | "undefined-condition"
  | "unexpected-request";

/**
 * The error type for each condition. RFC 6120 §8.3.3 where XEP-0060 is silent; where the XEP-0060
 * examples differ they win: gone→modify (§6.1.3.11), policy-violation→wait (§6.1.3.9,
 * too-many-subscriptions), unexpected-request→cancel (§6.2.3.2, not-subscribed),
 * payment-required→auth (§6.1.3.5, from RFC 3920).
 */
export const ERROR_TYPE_BY_CONDITION: Readonly<Record<StanzaErrorCondition, StanzaErrorType>> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "modify",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "payment-required": "auth",
  "policy-violation": "wait",
  "recipient-unavailable": "wait",
  redirect: "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "cancel",
};

/** XEP-0060 §12 (schema of http://jabber.org/protocol/pubsub#errors). */
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

const STANZA_CONDITIONS = new Set<string>(Object.keys(ERROR_TYPE_BY_CONDITION));
const PUBSUB_CONDITIONS = new Set<string>(PUBSUB_ERROR_CONDITIONS);

/** Everything an `<error/>` says. `type` defaults to ERROR_TYPE_BY_CONDITION[condition]. */
export interface StanzaErrorSpec {
  condition: StanzaErrorCondition;
  type?: StanzaErrorType;
  pubsubCondition?: PubsubErrorCondition;
  /** With pubsubCondition "unsupported" (XEP-0060 §10 feature name, e.g. "retrieve-items"). */
  feature?: string;
  /** Human-readable `<text/>`. */
  text?: string;
  /** The alternate address carried by `gone` / `redirect`. */
  uri?: string;
  by?: string;
  /** Another application-specific condition, e.g. XEP-0050's <bad-sessionid/>. */
  appCondition?: { name: string; xmlns: string };
}

/** What parseStanzaError reads back: the type is always known. */
export interface ParsedStanzaError extends StanzaErrorSpec {
  type: StanzaErrorType;
  /** A pubsub#errors child we do not know, by name (kept rather than dropped). */
  otherCondition?: string;
}

/** The one error every codec throws: the caller answers with `buildStanzaError(err.spec())`. */
export class WireError extends Error {
  readonly condition: StanzaErrorCondition;
  readonly pubsubCondition?: PubsubErrorCondition;
  readonly feature?: string;

  constructor(
    message: string,
    condition: StanzaErrorCondition,
    pubsubCondition?: PubsubErrorCondition,
    feature?: string,
  ) {
    super(message);
    this.name = "WireError";
    this.condition = condition;
    if (pubsubCondition !== undefined) this.pubsubCondition = pubsubCondition;
    if (feature !== undefined) this.feature = feature;
  }

  /** The error as a spec for buildStanzaError, with the message as `<text/>`. */
  spec(): StanzaErrorSpec {
    return {
      condition: this.condition,
      pubsubCondition: this.pubsubCondition,
      feature: this.feature,
      text: this.message,
    };
  }
}

/** `<error type='…'><condition xmlns=stanzas/><pubsub-condition/>?<text/>?</error>` */
export function buildStanzaError(spec: StanzaErrorSpec): Element {
  const type = spec.type ?? ERROR_TYPE_BY_CONDITION[spec.condition];
  return xml(
    "error",
    { type, by: spec.by },
    // RFC 6120 §8.3.2 order: defined condition, text, application-specific condition.
    xml(spec.condition, { xmlns: NS_STANZAS }, spec.uri),
    spec.text !== undefined && xml("text", { xmlns: NS_STANZAS }, spec.text),
    spec.pubsubCondition &&
      xml(spec.pubsubCondition, { xmlns: NS_PUBSUB_ERRORS, feature: spec.feature }),
    spec.appCondition && xml(spec.appCondition.name, { xmlns: spec.appCondition.xmlns }),
  );
}

/** Read an `<error/>` element (or the stanza that carries one). Unknown conditions read as undefined-condition. */
export function parseStanzaError(el: Element): ParsedStanzaError {
  const error = el.is("error") ? el : el.getChild("error");
  if (!error) throw new WireError("The stanza carries no <error/> element.", "bad-request");
  let condition: StanzaErrorCondition = "undefined-condition";
  const result: ParsedStanzaError = { condition, type: "cancel" };
  for (const child of error.getChildElements()) {
    const name = child.getName();
    const ns = child.getNS();
    if (ns === NS_STANZAS && name === "text") result.text = child.getText();
    else if (ns === NS_STANZAS && STANZA_CONDITIONS.has(name)) {
      condition = name as StanzaErrorCondition;
      const uri = child.getText().trim();
      if (uri) result.uri = uri;
    } else if (ns === NS_PUBSUB_ERRORS) readPubsubCondition(child, result);
  }
  result.condition = condition;
  const type = error.attrs.type;
  result.type = isErrorType(type) ? type : ERROR_TYPE_BY_CONDITION[condition];
  if (error.attrs.by) result.by = error.attrs.by;
  return result;
}

function readPubsubCondition(child: Element, into: ParsedStanzaError): void {
  const name = child.getName();
  if (PUBSUB_CONDITIONS.has(name)) into.pubsubCondition = name as PubsubErrorCondition;
  else into.otherCondition = name;
  if (child.attrs.feature) into.feature = child.attrs.feature;
}

function isErrorType(value: string | undefined): value is StanzaErrorType {
  return (
    value === "auth" ||
    value === "cancel" ||
    value === "continue" ||
    value === "modify" ||
    value === "wait"
  );
}

/** A one-line description of an error for a human ("forbidden (closed-node): text"). */
export function describeStanzaError(err: ParsedStanzaError): string {
  const extra = err.pubsubCondition ?? err.otherCondition;
  const head = extra
    ? `${err.condition} (${extra}${err.feature ? ` ${err.feature}` : ""})`
    : err.condition;
  return err.text ? `${head}: ${err.text}` : head;
}
