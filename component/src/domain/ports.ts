/**
 * Storage ports of the pubsub core (after Idavoll's iidavoll.py): asynchronous, with the
 * transaction passed explicitly. A use case runs inside `store.transaction(async (tx) => …)`,
 * reads and writes through `tx` only, and awaits nothing else: load, decide, write. Adapters:
 * storage/sqlite (the embedded default: transactions serialised on its one connection),
 * storage/postgres (several processes on one database), storage/memory (unit tests); all pass
 * the one contract suite in test/unit/storage/store-contract.ts.
 *
 * Conventions: JIDs are stored as given (the core passes them normalised, see normalizeJid:
 * affiliation entities bare, subscription JIDs may be full; rows written before that may have
 * capitals, and the bare-JID queries find them by their lower-case bare JID); "none" is never
 * stored (setting it deletes); lists have a stable order.
 */

import type {
  Follow,
  FollowCursor,
  NewOutboxEntry,
  NewTimelineEntry,
  OutboxEntry,
  TimelineEntry,
  TimelineRange,
  TimelineWrite,
  UserSettings,
} from "./timeline-types.js";
import type {
  Affiliation,
  AffiliationEntry,
  Item,
  ItemPage,
  ItemQuery,
  ItemReadOptions,
  NewItem,
  NodeConfig,
  NodeRecord,
  NodeRef,
  Subscription,
  SubscriptionCursor,
} from "./types.js";

export interface NodeStore {
  getNode(ref: NodeRef): Promise<NodeRecord | undefined>;
  /** Create a node; the caller checked it does not exist (an existing one: the call throws). */
  createNode(node: NodeRecord): Promise<void>;
  updateNodeConfig(ref: NodeRef, config: NodeConfig): Promise<void>;
  /** Delete a node with its items, subscriptions and affiliations. */
  deleteNode(ref: NodeRef): Promise<void>;
  /** Nodes of a service, by node name; without a service, every node, by service then name. */
  listNodes(service?: string): Promise<NodeRecord[]>;
}

export interface ItemStore {
  /**
   * Insert the item, or replace the item with the same id (re-publication): the replacement
   * gets a new `seq` (it becomes the newest) and keeps the original `createdAt`.
   */
  upsertItem(ref: NodeRef, item: NewItem): Promise<Item>;
  /**
   * Items with these ids, newest first; unknown ids are skipped. With `maxBytes`, the newest of
   * them until the next one would bring the UTF-8 bytes of the payloads returned over it, at
   * least one; the payloads of the items left out are not read (or not kept) by the store.
   */
  getItems(ref: NodeRef, ids: readonly string[], options?: ItemReadOptions): Promise<Item[]>;
  /**
   * A page newest first; `undefined` when `after`/`before` names an unknown item.
   *
   * With `query.maxBytes` the page is the one without it, cut where the next item would bring
   * the UTF-8 bytes of the payloads returned over maxBytes, but never below one item; the store
   * does not read (or does not keep) the payloads of the items cut. The items kept are those
   * next to the anchor: the newest of the page (cut on the older side) without an anchor and
   * with `after`, the oldest of the page (cut on the newer side) with `before`, so that paging on
   * from the page's `last` with `after` (or from its `first` with `before`) skips nothing.
   * `count` and `firstIndex` keep their meaning: all items of the node, and the index of the
   * page's first (newest) item returned.
   */
  listItems(ref: NodeRef, query: ItemQuery): Promise<ItemPage | undefined>;
  /** The ids of the newest `max` items, newest first, without reading payloads (disco#items). */
  listItemIds(ref: NodeRef, max: number): Promise<string[]>;
  /** The newest item. */
  getLastItem(ref: NodeRef): Promise<Item | undefined>;
  countItems(ref: NodeRef): Promise<number>;
  /** Delete these items; returns the ids that existed. */
  deleteItems(ref: NodeRef, ids: readonly string[]): Promise<string[]>;
  /** Keep the newest `keep` items; returns the deleted ids, oldest first. */
  trimItems(ref: NodeRef, keep: number): Promise<string[]>;
  /** Delete all items; returns how many there were. */
  purgeItems(ref: NodeRef): Promise<number>;
}

export interface SubscriptionStore {
  getSubscription(ref: NodeRef, jid: string): Promise<Subscription | undefined>;
  /** Insert or replace the subscription of (ref, jid). */
  putSubscription(sub: Subscription): Promise<void>;
  /** Returns whether a subscription existed. */
  deleteSubscription(ref: NodeRef, jid: string): Promise<boolean>;
  /** A node's subscriptions, optionally of one state, oldest first. */
  listNodeSubscriptions(ref: NodeRef, state?: Subscription["state"]): Promise<Subscription[]>;
  /**
   * A page of a node's subscriptions in `state`, oldest first (created, then JID), after
   * `after` when given: at most `limit`. A fan-out reads a large node a page at a time.
   */
  pageNodeSubscriptions(
    ref: NodeRef,
    state: Subscription["state"],
    after: SubscriptionCursor | undefined,
    limit: number,
  ): Promise<Subscription[]>;
  /**
   * Subscriptions at `service` (any node, or `node` only) whose JID's bare part, in lower case,
   * is `bareJid` (given in lower case).
   */
  listSubscriptionsOf(service: string, bareJid: string, node?: string): Promise<Subscription[]>;
  /** Pending subscriptions to a node, optionally only those of JIDs at `domain`. */
  countPending(ref: NodeRef, domain?: string): Promise<number>;
  /** Pending subscriptions created before `createdBefore` at any service, oldest first. */
  listPendingCreatedBefore(createdBefore: number): Promise<Subscription[]>;
}

export interface AffiliationStore {
  /** The stored affiliation of `entity` (bare JID or domain), "none" when there is none. */
  getAffiliation(ref: NodeRef, entity: string): Promise<Affiliation>;
  /** Set the affiliation; "none" removes the entry. */
  setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): Promise<void>;
  /** A node's entries, by entity. */
  listNodeAffiliations(ref: NodeRef): Promise<AffiliationEntry[]>;
  /** The entries of `entity` at `service`, by node. */
  listAffiliationsOf(service: string, entity: string): Promise<AffiliationEntry[]>;
}

/** Named counters (refusals by reason, dropped events, …). */
export interface CounterStore {
  incrementCounter(name: string, by?: number): Promise<void>;
  getCounters(): Promise<Record<string, number>>;
}

/** Bookkeeping of new subscription requests, for the per-domain and per-requester rate limits. */
export interface RequestLogStore {
  /** A request from `requester` (a bare JID) of `domain` at `at`. */
  recordRequest(domain: string, requester: string, at: number): Promise<void>;
  countRequestsSince(domain: string, since: number): Promise<number>;
  countRequesterRequestsSince(requester: string, since: number): Promise<number>;
  /** Forget requests older than `before`. */
  pruneRequests(before: number): Promise<void>;
}

/** Whom each user follows. One row per (user, service, node). */
export interface FollowStore {
  getFollow(user: string, ref: NodeRef): Promise<Follow | undefined>;
  /** Insert or replace the follow of (user, service, node). */
  putFollow(follow: Follow): Promise<void>;
  /** Returns whether it existed. */
  deleteFollow(user: string, ref: NodeRef): Promise<boolean>;
  /** A user's follows, oldest first. */
  listFollows(user: string): Promise<Follow[]>;
  countFollows(user: string): Promise<number>;
  /**
   * A page of the follows of nodes at services of `domain` (every follow when undefined), in key
   * order (user, service, node), after `after` when given: at most `limit`. Catch-up reads all
   * follows this way, a page at a time.
   */
  pageFollowsAt(
    domain: string | undefined,
    after: FollowCursor | undefined,
    limit: number,
  ): Promise<Follow[]>;
}

/**
 * Users' home timelines. Entries are ordered by `seq` (arrival); MAM ids are seqs. Lists are
 * always returned oldest first (ascending seq).
 */
export interface TimelineStore {
  /**
   * Insert the entry, or, when (user, service, node, itemId) is there: "unchanged" when the
   * payload is the same, else replace payload, author and publishedAt keeping seq and
   * receivedAt ("replaced"). Returns the stored entry.
   */
  upsertTimelineEntry(
    entry: NewTimelineEntry,
  ): Promise<{ entry: TimelineEntry; write: TimelineWrite }>;
  getTimelineEntry(user: string, seq: number): Promise<TimelineEntry | undefined>;
  /** The entry of one item in the user's timeline. */
  findTimelineItem(user: string, ref: NodeRef, itemId: string): Promise<TimelineEntry | undefined>;
  /** One node's newest entry (highest seq) in the user's timeline: an index probe. */
  newestNodeEntry(user: string, ref: NodeRef): Promise<TimelineEntry | undefined>;
  /** How many entries the user's timeline has (kept by the store: no count of the rows). */
  timelineSize(user: string): Promise<number>;
  /**
   * Up to `max` entries of `range`: the oldest of it (`from` "oldest") or the newest of it
   * (`from` "newest"); ascending either way.
   */
  listTimeline(
    user: string,
    range: TimelineRange,
    max: number,
    from: "oldest" | "newest",
  ): Promise<TimelineEntry[]>;
  countTimeline(user: string, range: TimelineRange): Promise<number>;
  /** Delete these items of one node from the user's timeline; returns how many there were. */
  deleteTimelineItems(user: string, ref: NodeRef, itemIds: readonly string[]): Promise<number>;
  /** Delete every entry of one node from the user's timeline (unfollow); returns how many. */
  deleteTimelineNode(user: string, ref: NodeRef): Promise<number>;
  /**
   * Keep the newest `keep` entries of the user's timeline; returns how many were deleted. Costs
   * the entries deleted, not the entries kept.
   */
  trimTimeline(user: string, keep: number): Promise<number>;
}

export interface SettingsStore {
  getUserSettings(user: string): Promise<UserSettings | undefined>;
  putUserSettings(user: string, settings: UserSettings): Promise<void>;
}

/** Notifications waiting to be sent again (store-and-forward). */
export interface OutboxStore {
  /** Store it; `id` is assigned (ascending: the order of sending). */
  enqueueOutbox(entry: NewOutboxEntry): Promise<OutboxEntry>;
  getOutboxByMessageId(messageId: string): Promise<OutboxEntry | undefined>;
  /** Change an entry's schedule; `sentAt` null clears it. */
  updateOutbox(
    id: number,
    change: {
      attempts?: number;
      nextAttemptAt?: number;
      sentAt?: number | null;
      lastError?: string;
    },
  ): Promise<void>;
  /** Every waiting entry (no sentAt) of `domain` gets this nextAttemptAt. Returns how many. */
  rescheduleOutboxDomain(domain: string, nextAttemptAt: number): Promise<number>;
  deleteOutbox(ids: readonly number[]): Promise<void>;
  /** Waiting entries (no sentAt) due at `now` (nextAttemptAt <= now), by id, at most `limit`. */
  listDueOutbox(now: number, limit: number): Promise<OutboxEntry[]>;
  /** Entries sent again at or before `sentBefore` (sentAt set), by id, at most `limit`. */
  listOutboxSentBefore(sentBefore: number, limit: number): Promise<OutboxEntry[]>;
  /** Entries whose deadline is before `now`, by id, at most `limit`. */
  listOutboxExpired(now: number, limit: number): Promise<OutboxEntry[]>;
  /** Domains with waiting entries, and the earliest nextAttemptAt of each. */
  listOutboxDomains(): Promise<{ domain: string; nextAttemptAt: number; count: number }[]>;
  countOutbox(): Promise<number>;
}

/** What a use case reads and writes, inside one transaction. */
export interface PubsubTx
  extends NodeStore,
    ItemStore,
    SubscriptionStore,
    AffiliationStore,
    CounterStore,
    RequestLogStore,
    FollowStore,
    TimelineStore,
    SettingsStore,
    OutboxStore {}

/** Everything the core needs from storage. */
export interface PubsubStore {
  /**
   * Run `fn` atomically: all of its writes commit, or (if it throws) none do; resolves with its
   * result after the commit is durable. `fn` may be run again when the database asks for a
   * retry (a serialisation failure on PostgreSQL): it must do nothing but use `tx`, and what it
   * caused leaves only as its return value (ids and clocks read inside it are read again).
   * `tx` is valid only while `fn` runs; a `transaction` call inside `fn` would wait for itself
   * (stores do not check: that costs every promise of the process an async hook); a `tx` call
   * that failed ends the transaction (PostgreSQL refuses every statement after it): let it throw.
   */
  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T>;
  /** Finish what is running and close the database. */
  close(): Promise<void>;
}
