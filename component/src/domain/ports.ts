/**
 * Storage ports of the pubsub core (after Idavoll's iidavoll.py). Synchronous on purpose:
 * better-sqlite3 is synchronous, and a use case's whole effect runs inside one `transaction`.
 * Adapters: storage/sqlite (production) and storage/memory (unit tests); both pass the one
 * contract suite in test/unit/storage/store-contract.ts.
 *
 * Conventions: JIDs are stored as given (the core passes them normalised, see normalizeJid:
 * affiliation entities bare, subscription JIDs may be full; rows written before that may have
 * capitals, and the bare-JID queries find them by their lower-case bare JID); "none" is never
 * stored (setting it deletes); lists have a stable order.
 */
import type {
  Affiliation,
  AffiliationEntry,
  Item,
  ItemPage,
  ItemQuery,
  NewItem,
  NodeConfig,
  NodeRecord,
  NodeRef,
  Subscription,
} from "./types.js";

export interface NodeStore {
  getNode(ref: NodeRef): NodeRecord | undefined;
  /** Create a node; the caller checked it does not exist. */
  createNode(node: NodeRecord): void;
  updateNodeConfig(ref: NodeRef, config: NodeConfig): void;
  /** Delete a node with its items, subscriptions and affiliations. */
  deleteNode(ref: NodeRef): void;
  /** Nodes of a service, by node name; without a service, every node, by service then name. */
  listNodes(service?: string): NodeRecord[];
}

export interface ItemStore {
  /**
   * Insert the item, or replace the item with the same id (re-publication): the replacement
   * gets a new `seq` (it becomes the newest) and keeps the original `createdAt`.
   */
  upsertItem(ref: NodeRef, item: NewItem): Item;
  /** Items with these ids, newest first; unknown ids are skipped. */
  getItems(ref: NodeRef, ids: readonly string[]): Item[];
  /** A page newest first; `undefined` when `after`/`before` names an unknown item. */
  listItems(ref: NodeRef, query: ItemQuery): ItemPage | undefined;
  /** The ids of the newest `max` items, newest first, without reading payloads (disco#items). */
  listItemIds(ref: NodeRef, max: number): string[];
  /** The newest item. */
  getLastItem(ref: NodeRef): Item | undefined;
  countItems(ref: NodeRef): number;
  /** Delete these items; returns the ids that existed. */
  deleteItems(ref: NodeRef, ids: readonly string[]): string[];
  /** Keep the newest `keep` items; returns the deleted ids, oldest first. */
  trimItems(ref: NodeRef, keep: number): string[];
  /** Delete all items; returns how many there were. */
  purgeItems(ref: NodeRef): number;
}

export interface SubscriptionStore {
  getSubscription(ref: NodeRef, jid: string): Subscription | undefined;
  /** Insert or replace the subscription of (ref, jid). */
  putSubscription(sub: Subscription): void;
  /** Returns whether a subscription existed. */
  deleteSubscription(ref: NodeRef, jid: string): boolean;
  /** A node's subscriptions, optionally of one state, oldest first. */
  listNodeSubscriptions(ref: NodeRef, state?: Subscription["state"]): Subscription[];
  /**
   * Subscriptions at `service` (any node, or `node` only) whose JID's bare part, in lower case,
   * is `bareJid` (given in lower case).
   */
  listSubscriptionsOf(service: string, bareJid: string, node?: string): Subscription[];
  /** Pending subscriptions to a node, optionally only those of JIDs at `domain`. */
  countPending(ref: NodeRef, domain?: string): number;
  /** Pending subscriptions created before `createdBefore` at any service, oldest first. */
  listPendingCreatedBefore(createdBefore: number): Subscription[];
}

export interface AffiliationStore {
  /** The stored affiliation of `entity` (bare JID or domain), "none" when there is none. */
  getAffiliation(ref: NodeRef, entity: string): Affiliation;
  /** Set the affiliation; "none" removes the entry. */
  setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): void;
  /** A node's entries, by entity. */
  listNodeAffiliations(ref: NodeRef): AffiliationEntry[];
  /** The entries of `entity` at `service`, by node. */
  listAffiliationsOf(service: string, entity: string): AffiliationEntry[];
}

/** Named counters (refusals by reason, dropped events, …). */
export interface CounterStore {
  incrementCounter(name: string, by?: number): void;
  getCounters(): Record<string, number>;
}

/** Bookkeeping of new subscription requests, for the per-domain and per-requester rate limits. */
export interface RequestLogStore {
  /** A request from `requester` (a bare JID) of `domain` at `at`. */
  recordRequest(domain: string, requester: string, at: number): void;
  countRequestsSince(domain: string, since: number): number;
  countRequesterRequestsSince(requester: string, since: number): number;
  /** Forget requests older than `before`. */
  pruneRequests(before: number): void;
}

/** Everything the core needs from storage. */
export interface PubsubStore
  extends NodeStore,
    ItemStore,
    SubscriptionStore,
    AffiliationStore,
    CounterStore,
    RequestLogStore {
  /**
   * Run `fn` atomically: all of its writes commit, or (if it throws) none do. Nested calls join
   * the outer transaction (an inner throw that is caught rolls back only the inner part).
   */
  transaction<T>(fn: () => T): T;
}
