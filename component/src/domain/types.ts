/**
 * The vocabulary of the pubsub core: addresses, node configuration, items, subscriptions,
 * affiliations. No XMPP types and no SQL: JIDs are strings, payloads are opaque XML strings.
 */

/** A node at a pubsub service: service = the JID "u@C", node = e.g. "urn:xmpp:microblog:0". */
export interface NodeRef {
  service: string;
  node: string;
}

/** The XEP-0277 microblog node name. */
export const MICROBLOG_NODE = "urn:xmpp:microblog:0";

/** Supported node access models (XEP-0060 §4.5). "presence" and "roster" may come later. */
export type AccessModel = "open" | "authorize" | "whitelist";
export const ACCESS_MODELS: readonly AccessModel[] = ["open", "authorize", "whitelist"];

/** Who may publish (pubsub#publish_model). */
export type PublishModel = "publishers" | "subscribers" | "open";
export const PUBLISH_MODELS: readonly PublishModel[] = ["publishers", "subscribers", "open"];

/** XEP-0060 §4.1 affiliations. */
export type Affiliation = "owner" | "publisher" | "publish-only" | "member" | "none" | "outcast";
export const AFFILIATIONS: readonly Affiliation[] = [
  "owner",
  "publisher",
  "publish-only",
  "member",
  "none",
  "outcast",
];

/** XEP-0060 §4.2 subscription states. */
export type SubscriptionState = "none" | "pending" | "unconfigured" | "subscribed";
export const SUBSCRIPTION_STATES: readonly SubscriptionState[] = [
  "none",
  "pending",
  "unconfigured",
  "subscribed",
];

export type SendLastPublishedItem = "never" | "on_sub" | "on_sub_and_presence";
export const SEND_LAST_PUBLISHED_ITEM_VALUES: readonly SendLastPublishedItem[] = [
  "never",
  "on_sub",
  "on_sub_and_presence",
];

/** A node's configuration (the subset of pubsub#node_config Warble implements). */
export interface NodeConfig {
  accessModel: AccessModel;
  /** Items kept; publishing beyond it drops the oldest (publish_full_node = retract-oldest). */
  maxItems: number;
  title: string;
  /** Notify subscribers when items are retracted (also when trimmed by maxItems). */
  notifyRetract: boolean;
  notifyDelete: boolean;
  /** Notify the owner about new and removed subscriptions. */
  notifySub: boolean;
  notifyConfig: boolean;
  sendLastPublishedItem: SendLastPublishedItem;
  /** Add a readable <body> to notifications (for IM clients). */
  includeBody: boolean;
  deliverPayloads: boolean;
  publishModel: PublishModel;
}

/**
 * Default number of items a node keeps: 1000. A microblog is read newest first and paged with
 * RSM; a thousand posts is years of history for most people while keeping a node bounded.
 * The service-wide ceiling for pubsub#max_items is {@link MAX_ITEMS_CEILING} unless configured.
 */
export const DEFAULT_MAX_ITEMS = 1000;
export const MAX_ITEMS_CEILING = 10000;

/** The default configuration of a new node owned by `ownerBareJid` ("u's microblog"). */
export function defaultNodeConfig(ownerBareJid: string): NodeConfig {
  const at = ownerBareJid.indexOf("@");
  const user = at === -1 ? ownerBareJid : ownerBareJid.slice(0, at);
  return {
    accessModel: "open",
    maxItems: DEFAULT_MAX_ITEMS,
    title: `${user}'s microblog`,
    notifyRetract: true,
    notifyDelete: true,
    notifySub: false,
    notifyConfig: false,
    sendLastPublishedItem: "on_sub",
    includeBody: true,
    deliverPayloads: true,
    publishModel: "publishers",
  };
}

/** A stored node. `owner` is the bare JID of the user that owns the service ("u@D"). */
export interface NodeRecord extends NodeRef {
  owner: string;
  config: NodeConfig;
  createdAt: number;
}

/** A stored item. `seq` is a store-wide monotonic number: higher = published later. */
export interface Item {
  id: string;
  /** The payload as an XML string, opaque to the core (already validated by the protocol layer). */
  payload: string;
  /** Bare JID of the publisher. */
  publisher: string;
  /** First publication, ms since epoch. */
  createdAt: number;
  /** Last (re)publication, ms since epoch. */
  updatedAt: number;
  seq: number;
}

/** An item to store; the store assigns `seq` (and keeps `createdAt` of a replaced item). */
export type NewItem = Omit<Item, "seq">;

/** A subscription of `jid` (bare or full) to a node. One per (node, jid). */
export interface Subscription extends NodeRef {
  jid: string;
  subid: string;
  state: SubscriptionState;
  createdAt: number;
  /** Subscription options (pubsub#subscribe_options), opaque key → value. */
  options?: Record<string, string>;
}

/** Where a page of a node's subscriptions ends (they are ordered by creation, then JID). */
export interface SubscriptionCursor {
  createdAt: number;
  jid: string;
}

/**
 * An affiliation entry. `entity` is a bare JID ("eve@rogue.example") or a whole domain
 * ("rogue.example"): a domain entry applies to every JID of that domain; a JID entry wins over
 * the entry of its domain.
 */
export interface AffiliationEntry extends NodeRef {
  entity: string;
  affiliation: Affiliation;
}

/** RSM-style query over a node's items, newest first (XEP-0059). */
export interface ItemQuery {
  /** Page size. */
  max?: number;
  /** Items older than this id (the next page). */
  after?: string;
  /** Items newer than this id (the previous page); "" = the last page (the oldest items). */
  before?: string;
  /**
   * Payload bytes (UTF-8) of the page at most: the page is cut before the item that would bring
   * it over, but always has one item when any is in range. The cut is on the side away from the
   * anchor (see ItemStore.listItems), so `after`/`before` on the page's ends skip nothing.
   */
  maxBytes?: number;
}

/** Options of ItemStore.getItems. */
export interface ItemReadOptions {
  /** Payload bytes (UTF-8) at most, newest first, always at least one item (see ItemQuery). */
  maxBytes?: number;
}

/** One page of items, newest first, with RSM `count` (all items) and the index of the first. */
export interface ItemPage {
  items: Item[];
  count: number;
  /** Index (0 = newest) of items[0] in the whole list; undefined when the page is empty. */
  firstIndex?: number;
}
