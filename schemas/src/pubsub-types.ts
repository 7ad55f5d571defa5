/** XEP-0060 vocabulary shared by the request, result and event codecs. */
import { clone } from "ltx";
import { WireError } from "./errors.js";
import { type Element, xml } from "./xml.js";

/** XEP-0060 §4.2. */
export type SubscriptionState = "none" | "pending" | "unconfigured" | "subscribed";
/** XEP-0060 §4.1. */
export type AffiliationKind =
  | "owner"
  | "publisher"
  | "publish-only"
  | "member"
  | "none"
  | "outcast";

const SUBSCRIPTION_STATES: readonly string[] = ["none", "pending", "unconfigured", "subscribed"];
const AFFILIATIONS: readonly string[] = [
  "owner",
  "publisher",
  "publish-only",
  "member",
  "none",
  "outcast",
];

/** A `<subscription/>` as results, owner lists and events carry it. */
export interface SubscriptionInfo {
  node?: string;
  jid: string;
  subscription: SubscriptionState;
  subid?: string;
  /** XEP-0060 §6.1.5: `<subscribe-options/>` child; `required` when configuration is required. */
  subscribeOptions?: { required: boolean };
  expiry?: string;
}

/** An `<affiliation/>`: with node in the user's own list, with jid in the owner's list. */
export interface AffiliationInfo {
  node?: string;
  jid?: string;
  affiliation: AffiliationKind;
}

/** An `<item/>` in a result or an event; no payload when payloads are not delivered. */
export interface PubsubItem {
  id?: string;
  publisher?: string;
  payload?: Element;
}

export function readSubscriptionState(value: string | undefined): SubscriptionState {
  if (value !== undefined && SUBSCRIPTION_STATES.includes(value)) return value as SubscriptionState;
  throw new WireError(`Unknown subscription state '${value ?? ""}'.`, "bad-request");
}

export function readAffiliation(value: string | undefined): AffiliationKind {
  if (value !== undefined && AFFILIATIONS.includes(value)) return value as AffiliationKind;
  throw new WireError(`Unknown affiliation '${value ?? ""}'.`, "bad-request");
}

/** Read a `<subscription/>` element. */
export function readSubscription(el: Element): SubscriptionInfo {
  const jid = el.attrs.jid as string | undefined;
  if (!jid) throw new WireError("A <subscription/> needs a jid.", "bad-request", "jid-required");
  const sub: SubscriptionInfo = { jid, subscription: readSubscriptionState(el.attrs.subscription) };
  if (el.attrs.node !== undefined) sub.node = el.attrs.node;
  if (el.attrs.subid !== undefined) sub.subid = el.attrs.subid;
  if (el.attrs.expiry !== undefined) sub.expiry = el.attrs.expiry;
  const options = el.getChild("subscribe-options");
  if (options) sub.subscribeOptions = { required: options.getChild("required") !== undefined };
  return sub;
}

/** Read an `<affiliation/>` element. */
export function readAffiliationElement(el: Element): AffiliationInfo {
  const info: AffiliationInfo = { affiliation: readAffiliation(el.attrs.affiliation) };
  if (el.attrs.node !== undefined) info.node = el.attrs.node;
  if (el.attrs.jid !== undefined) info.jid = el.attrs.jid;
  return info;
}

/** Read an `<item/>`: its first child element is the payload. */
export function readItem(el: Element): PubsubItem {
  const item: PubsubItem = {};
  if (el.attrs.id !== undefined) item.id = el.attrs.id;
  if (el.attrs.publisher !== undefined) item.publisher = el.attrs.publisher;
  const payload = el.getChildElements()[0];
  if (payload) item.payload = payload;
  return item;
}

/** `<subscription node? jid subscription subid? expiry?>` with `<subscribe-options/>` when given. */
export function subscriptionElement(sub: SubscriptionInfo): Element {
  return xml(
    "subscription",
    {
      node: sub.node,
      jid: sub.jid,
      subscription: sub.subscription,
      subid: sub.subid,
      expiry: sub.expiry,
    },
    sub.subscribeOptions &&
      xml("subscribe-options", null, sub.subscribeOptions.required && xml("required")),
  );
}

export function affiliationElement(info: AffiliationInfo): Element {
  return xml("affiliation", { node: info.node, jid: info.jid, affiliation: info.affiliation });
}

/** `<item id publisher?>payload</item>`; the payload is copied, never moved out of its tree. */
export function itemElement(item: PubsubItem, withPayload = true): Element {
  return xml(
    "item",
    { id: item.id, publisher: item.publisher },
    withPayload && item.payload && clone(item.payload),
  );
}
