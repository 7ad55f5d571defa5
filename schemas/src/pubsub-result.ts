/**
 * XEP-0060 IQ results: built by the component, parsed by the CLI. Each builder returns the
 * `<pubsub/>` child of the IQ result; each parser takes that child.
 */
import { buildDataForm, type DataForm, parseDataForm } from "./data-form.js";
import { WireError } from "./errors.js";
import { NS_DATA_FORMS, NS_PUBSUB, NS_PUBSUB_OWNER } from "./ns.js";
import {
  type AffiliationInfo,
  affiliationElement,
  itemElement,
  type PubsubItem,
  readAffiliationElement,
  readItem,
  readSubscription,
  type SubscriptionInfo,
  subscriptionElement,
} from "./pubsub-types.js";
import { buildRsmResponse, findRsmSet, parseRsmResponse, type RsmResponse } from "./rsm.js";
import { type Element, xml } from "./xml.js";

export interface ItemsResult {
  node: string;
  items: PubsubItem[];
  rsm?: RsmResponse;
}

/** `<pubsub><items node>…</items><set/>?</pubsub>` (§6.5.2, with RSM §6.5.4). */
export function buildItemsResult(result: ItemsResult): Element {
  return xml(
    "pubsub",
    { xmlns: NS_PUBSUB },
    xml(
      "items",
      { node: result.node },
      result.items.map((item) => itemElement(item)),
    ),
    result.rsm && buildRsmResponse(result.rsm),
  );
}

export function parseItemsResult(pubsub: Element): ItemsResult {
  const items = requireChild(pubsub, NS_PUBSUB, "items");
  const result: ItemsResult = {
    node: items.attrs.node ?? "",
    items: items.getChildren("item").map(readItem),
  };
  const set = findRsmSet(pubsub);
  if (set) result.rsm = parseRsmResponse(set);
  return result;
}

/** `<pubsub><publish node><item id/></publish></pubsub>` (§7.1.2). */
export function buildPublishResult(node: string, itemId: string): Element {
  return xml("pubsub", { xmlns: NS_PUBSUB }, xml("publish", { node }, xml("item", { id: itemId })));
}

export function parsePublishResult(pubsub: Element): { node: string; itemId?: string } {
  const publish = requireChild(pubsub, NS_PUBSUB, "publish");
  const itemId = publish.getChild("item")?.attrs.id as string | undefined;
  const node = (publish.attrs.node as string | undefined) ?? "";
  return itemId === undefined ? { node } : { node, itemId };
}

/**
 * `<pubsub><subscription …/></pubsub>`: the answer to subscribe (§6.1.2); after a subscribe and
 * configure (§6.3.7) followed by `<options><x type='result'/></options>` with the options in force.
 */
export function buildSubscriptionResult(sub: SubscriptionInfo, options?: DataForm): Element {
  return xml(
    "pubsub",
    { xmlns: NS_PUBSUB },
    subscriptionElement(sub),
    options && xml("options", null, buildDataForm(options)),
  );
}

export function parseSubscriptionResult(pubsub: Element): SubscriptionInfo {
  return readSubscription(requireChild(pubsub, NS_PUBSUB, "subscription"));
}

export interface SubscriptionsResult {
  /** true: the owner's list of a node (#owner, §8.8.1); false: the requester's own (§5.6). */
  owner: boolean;
  node?: string;
  subscriptions: SubscriptionInfo[];
}

export function buildSubscriptionsResult(result: SubscriptionsResult): Element {
  return xml(
    "pubsub",
    { xmlns: result.owner ? NS_PUBSUB_OWNER : NS_PUBSUB },
    xml("subscriptions", { node: result.node }, result.subscriptions.map(subscriptionElement)),
  );
}

export function parseSubscriptionsResult(pubsub: Element): SubscriptionsResult {
  const owner = pubsub.getNS() === NS_PUBSUB_OWNER;
  const list = requireChild(pubsub, owner ? NS_PUBSUB_OWNER : NS_PUBSUB, "subscriptions");
  const result: SubscriptionsResult = {
    owner,
    subscriptions: list.getChildren("subscription").map(readSubscription),
  };
  if (list.attrs.node !== undefined) result.node = list.attrs.node;
  return result;
}

export interface AffiliationsResult {
  /** true: the owner's list of a node (#owner, §8.9.1); false: the requester's own (§5.7). */
  owner: boolean;
  node?: string;
  affiliations: AffiliationInfo[];
}

export function buildAffiliationsResult(result: AffiliationsResult): Element {
  return xml(
    "pubsub",
    { xmlns: result.owner ? NS_PUBSUB_OWNER : NS_PUBSUB },
    xml("affiliations", { node: result.node }, result.affiliations.map(affiliationElement)),
  );
}

export function parseAffiliationsResult(pubsub: Element): AffiliationsResult {
  const owner = pubsub.getNS() === NS_PUBSUB_OWNER;
  const list = requireChild(pubsub, owner ? NS_PUBSUB_OWNER : NS_PUBSUB, "affiliations");
  const result: AffiliationsResult = {
    owner,
    affiliations: list.getChildren("affiliation").map(readAffiliationElement),
  };
  if (list.attrs.node !== undefined) result.node = list.attrs.node;
  return result;
}

/** `<pubsub><create node/></pubsub>` (§8.1.2, the node id of an instant node). */
export function buildCreateResult(node: string): Element {
  return xml("pubsub", { xmlns: NS_PUBSUB }, xml("create", { node }));
}

/** `<pubsub xmlns=#owner><configure node><x/></configure></pubsub>` (§8.2.1). */
export function buildConfigureResult(node: string, form: DataForm): Element {
  return xml("pubsub", { xmlns: NS_PUBSUB_OWNER }, xml("configure", { node }, buildDataForm(form)));
}

/**
 * `<pubsub xmlns=#owner><default><x/></default></pubsub>` (§8.3) or the subscription-options
 * default `<pubsub><default node?><x/></default></pubsub>` (§6.4.2, with the node asked about).
 */
export function buildDefaultResult(
  form: DataForm,
  scope: "node-config" | "subscribe-options",
  node?: string,
): Element {
  const ns = scope === "node-config" ? NS_PUBSUB_OWNER : NS_PUBSUB;
  return xml("pubsub", { xmlns: ns }, xml("default", { node }, buildDataForm(form)));
}

/** `<pubsub><options node jid subid?><x/></options></pubsub>` (§6.3.2). */
export function buildOptionsResult(
  node: string,
  jid: string,
  form: DataForm,
  subid?: string,
): Element {
  return xml(
    "pubsub",
    { xmlns: NS_PUBSUB },
    xml("options", { node, jid, subid }, buildDataForm(form)),
  );
}

/** The form of a configure, default or options result. */
export function parseFormResult(pubsub: Element): { node?: string; form: DataForm } {
  const holder = pubsub.getChildElements().find((c) => c.getChild("x", NS_DATA_FORMS));
  const x = holder?.getChild("x", NS_DATA_FORMS);
  if (!holder || !x) throw new WireError("The result carries no data form.", "bad-request");
  const node = holder.attrs.node as string | undefined;
  return node === undefined ? { form: parseDataForm(x) } : { node, form: parseDataForm(x) };
}

function requireChild(pubsub: Element, ns: string, name: string): Element {
  const child = pubsub.getChild(name, ns);
  if (!child) throw new WireError(`Expected <${name}/> in the pubsub result.`, "bad-request");
  return child;
}
