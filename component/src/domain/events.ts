/**
 * What happened, as the core tells it. Every use case returns its result plus the events it
 * caused, computed inside the use case's transaction (recipients are read there too). The
 * protocol layer turns events into stanzas; fan-out lives there, in one place.
 */
import type { TimelineEntry } from "./timeline-types.js";
import type { Item, NodeConfig, NodeRef, SubscriptionCursor, SubscriptionState } from "./types.js";

/**
 * A subscription that gets a notification (state "subscribed", not banned, pubsub#deliver on).
 * Per-subscriber flags from its subscription options (§6.3) ride along.
 */
export interface Recipient {
  jid: string;
  subid: string;
  /** The subscriber's own pubsub#include_body; when set, it wins over the event's includeBody. */
  includeBody?: boolean;
  /** Followed by adding u@C to the roster (an IM client): told by chat messages, not headlines. */
  chat?: boolean;
}

/** An item was published (or re-published) to a node. */
export interface ItemPublished extends NodeRef {
  type: "item-published";
  item: Item;
  /** The first page of recipients (at most FANOUT_PAGE). */
  recipients: Recipient[];
  /**
   * Where the next page starts, when there may be more: the fan-out reads it when it gets there
   * (PubsubService.moreRecipients), after the commit.
   */
  more?: SubscriptionCursor;
  /** Whether notifications carry the payload (pubsub#deliver_payloads). */
  deliverPayloads: boolean;
  /** Whether notifications carry a readable <body> (the node's pubsub#include_body). */
  includeBody: boolean;
}

/** Items were removed: retracted by a publisher or trimmed by max_items. Only emitted to notify. */
export interface ItemsRetracted extends NodeRef {
  type: "items-retracted";
  itemIds: string[];
  cause: "retract" | "trim";
  recipients: Recipient[];
}

/** All items of a node were purged (one notification per subscriber, not one per item). */
export interface NodePurged extends NodeRef {
  type: "node-purged";
  recipients: Recipient[];
}

/** A node was deleted; recipients include pending subscriptions (XEP-0060 §8.4.2). */
export interface NodeDeleted extends NodeRef {
  type: "node-deleted";
  recipients: Recipient[];
}

/**
 * A subscription changed state: approved, denied, expired, removed by the owner or a ban, or
 * created/removed by its holder. `jid` should be told (§8.8.4 / §12.7); `owner` is told too when
 * `notifyOwner` (pubsub#notify_sub).
 */
export interface SubscriptionChanged extends NodeRef {
  type: "subscription-changed";
  jid: string;
  subid: string;
  state: SubscriptionState;
  owner: string;
  notifyOwner: boolean;
  cause:
    | "subscribe"
    | "unsubscribe"
    | "approved"
    | "denied"
    | "expired"
    | "owner"
    | "banned"
    | "access-model"
    | "delivery-failed";
  /** For "delivery-failed": the error the subscriber's server answered with. */
  detail?: string;
  /** The subscription was asked for by a roster subscription (an IM client's contact). */
  byPresence?: boolean;
}

/** A subscription is pending: the owner must be asked (XEP-0060 §8.6 approval form). */
export interface SubscriptionRequested extends NodeRef {
  type: "subscription-requested";
  jid: string;
  subid: string;
  owner: string;
}

/** The node configuration changed; emitted when pubsub#notify_config is on. */
export interface ConfigurationChanged extends NodeRef {
  type: "configuration-changed";
  config: NodeConfig;
  recipients: Recipient[];
  deliverPayloads: boolean;
}

/** Send the node's last published item to a new subscriber (pubsub#send_last_published_item). */
export interface LastItemForSubscriber extends NodeRef {
  type: "last-item-for-subscriber";
  item: Item;
  recipient: Recipient;
  deliverPayloads: boolean;
  includeBody: boolean;
}

/** A node was created (explicitly, or by the owner's first publish or configure). */
export interface NodeCreated extends NodeRef {
  type: "node-created";
  owner: string;
}

/** New posts entered `user`'s home timeline (oldest first); relayed to u@D when `relay`. */
export interface TimelinePosts {
  type: "timeline-posts";
  user: string;
  entries: TimelineEntry[];
  relay: boolean;
}

export type PubsubEvent =
  | ItemPublished
  | ItemsRetracted
  | NodePurged
  | NodeDeleted
  | SubscriptionChanged
  | SubscriptionRequested
  | ConfigurationChanged
  | LastItemForSubscriber
  | NodeCreated
  | TimelinePosts;

/** What every use case returns. */
export interface Outcome<T> {
  result: T;
  events: PubsubEvent[];
}
