/**
 * The pubsub core: one method per XEP-0060 use case. Each runs in one store transaction and
 * returns its result plus the events it caused (`Outcome`); a refusal throws `PubsubError`,
 * nothing is written, and a policy refusal adds 1 to its counter `refused:<reason>`.
 *
 * `actor` is always the sender's JID (full or bare) as the protocol layer received it.
 */
import { type AbuseLimits, DEFAULT_LIMITS, type ServicePolicy } from "./capabilities.js";
import { PubsubError, REFUSAL_REASONS, type RefusalReason } from "./errors.js";
import type { Outcome, Recipient } from "./events.js";
import { createItemIdGenerator, type ItemIdGenerator } from "./item-id.js";
import {
  discoverNode,
  type GetItemsRequest,
  getItems,
  type NodeDiscovery,
  type PublishRequest,
  type PublishResult,
  publishItem,
  type RetractRequest,
  retractItem,
} from "./item-use-cases.js";
import { bareJid } from "./jid.js";
import {
  type AffiliationChange,
  configureNode,
  createNode,
  deleteNode,
  getNodeAffiliations,
  getNodeConfig,
  getNodeSubscriptions,
  purgeNode,
  type SubscriptionChange,
  setNodeAffiliations,
  setNodeSubscriptions,
} from "./owner-use-cases.js";
import type { PubsubStore } from "./ports.js";
import { type CoreContext, type CoreDeps, recipientsPage, viewNode } from "./service-context.js";
import type { SubscriptionOptions } from "./subscription-options.js";
import {
  approveSubscription,
  enforceServicePolicy,
  expirePending,
  getAffiliations,
  getDefaultSubscriptionOptions,
  getSubscriptionOptions,
  getSubscriptions,
  listPending,
  type SubscribeRequest,
  type SubscriptionOptionsRequest,
  type SubscriptionWithOptions,
  setSubscriptionOptions,
  subscribe,
  subscribeWithOptions,
  type UnsubscribeRequest,
  unsubscribe,
} from "./subscription-use-cases.js";
import { DEFAULT_TIMELINE_LIMITS, type TimelineLimits } from "./timeline-use-cases.js";
import {
  type AffiliationEntry,
  defaultNodeConfig,
  type ItemPage,
  MAX_ITEMS_CEILING,
  type NodeConfig,
  type NodeRecord,
  type NodeRef,
  type Subscription,
  type SubscriptionCursor,
} from "./types.js";

export interface PubsubServiceOptions {
  store: PubsubStore;
  /**
   * The owner of a per-user service: "u@C" → "u@D"; undefined when the service is nobody's
   * (then its nodes cannot be created). Given by the caller, who knows C and the users domains.
   */
  ownerOf: (service: string) => string | undefined;
  /** Operator policy; usersDomains default to none, deny/allow lists to empty. */
  policy?: Partial<ServicePolicy>;
  limits?: Partial<AbuseLimits>;
  /** Upper bound of pubsub#max_items (default MAX_ITEMS_CEILING). */
  maxItemsCeiling?: number;
  /** Bounds of following and timelines (default DEFAULT_TIMELINE_LIMITS). */
  timeline?: Partial<TimelineLimits>;
  /** Changes to the default configuration of new nodes (default: defaultNodeConfig). */
  defaultConfig?: Partial<NodeConfig>;
  /** Clock in ms (default Date.now); injectable for expiry and rate-limit tests. */
  now?: () => number;
  newItemId?: ItemIdGenerator;
  newSubId?: () => string;
}

export class PubsubService {
  private readonly deps: CoreDeps;
  private readonly store: PubsubStore;

  constructor(options: PubsubServiceOptions) {
    const now = options.now ?? Date.now;
    const subIds = createItemIdGenerator(now);
    const overrides = options.defaultConfig ?? {};
    this.store = options.store;
    this.deps = {
      now,
      newItemId: options.newItemId ?? createItemIdGenerator(now),
      newSubId: options.newSubId ?? subIds,
      ownerOf: (service) => {
        const owner = options.ownerOf(service);
        return owner === undefined ? undefined : bareJid(owner);
      },
      defaultConfig: (owner) => ({ ...defaultNodeConfig(owner), ...overrides }),
      policy: {
        usersDomains: options.policy?.usersDomains ?? [],
        deniedDomains: options.policy?.deniedDomains ?? [],
        allowedDomains: options.policy?.allowedDomains ?? [],
        trustedDomains: options.policy?.trustedDomains ?? [],
      },
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      maxItemsCeiling: options.maxItemsCeiling ?? MAX_ITEMS_CEILING,
      timeline: { ...DEFAULT_TIMELINE_LIMITS, ...options.timeline },
    };
  }

  /** The ceiling of pubsub#max_items, for parseConfigFields. */
  get maxItemsCeiling(): number {
    return this.deps.maxItemsCeiling;
  }

  /**
   * Run a use case in one transaction: load, decide, write. A policy refusal rolls it back and
   * is counted afterwards, in a transaction of its own.
   */
  async run<T>(useCase: (ctx: CoreContext) => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await this.store.transaction((tx) => useCase({ ...this.deps, tx }));
    } catch (err) {
      if (err instanceof PubsubError && err.reason) await this.countRefusal(err.reason);
      throw err;
    }
  }

  private countRefusal(reason: RefusalReason): Promise<void> {
    return this.incrementCounter(`refused:${reason}`);
  }

  // ── publisher (§7) ──

  /** §7.1 publish; creates the node on its owner's first publish; publish-options preconditions. */
  publishItem(
    actor: string,
    ref: NodeRef,
    request: PublishRequest,
  ): Promise<Outcome<PublishResult>> {
    return this.run((ctx) => publishItem(ctx, actor, ref, request));
  }

  /** §7.2 retract one item; notifies when asked to or when pubsub#notify_retract is on. */
  retractItem(
    actor: string,
    ref: NodeRef,
    request: RetractRequest,
  ): Promise<Outcome<{ id: string }>> {
    return this.run((ctx) => retractItem(ctx, actor, ref, request));
  }

  // ── subscriber (§6) and entity (§5) ──

  /** §6.5 retrieve items newest first: by ids, newest N (max_items), or RSM pages. */
  getItems(actor: string, ref: NodeRef, request: GetItemsRequest = {}): Promise<Outcome<ItemPage>> {
    return this.run((ctx) => getItems(ctx, actor, ref, request));
  }

  /**
   * §5.3–§5.5 the node as XEP-0030 shows `actor`: undefined when absent or when the actor is
   * banned; the newest `maxItemIds` item ids (no payloads) only when it may retrieve items.
   */
  discoverNode(
    actor: string,
    ref: NodeRef,
    maxItemIds = 0,
  ): Promise<Outcome<NodeDiscovery | undefined>> {
    return this.run((ctx) => discoverNode(ctx, actor, ref, maxItemIds));
  }

  /**
   * §6.1 subscribe: subscribed, or pending under authorize; an existing subscription is returned.
   * With options (§6.3.7) they are set on the new or existing subscription.
   */
  subscribe(
    actor: string,
    ref: NodeRef,
    request: SubscribeRequest,
  ): Promise<Outcome<Subscription>> {
    return this.run((ctx) => subscribe(ctx, actor, ref, request));
  }

  /** §6.3.7 subscribe and configure: the subscription and the options in force, in one go. */
  subscribeWithOptions(
    actor: string,
    ref: NodeRef,
    request: SubscribeRequest,
  ): Promise<Outcome<SubscriptionWithOptions>> {
    return this.run((ctx) => subscribeWithOptions(ctx, actor, ref, request));
  }

  /** §6.2 unsubscribe (also withdraws a pending request); the owner may unsubscribe others. */
  unsubscribe(
    actor: string,
    ref: NodeRef,
    request: UnsubscribeRequest,
  ): Promise<Outcome<Subscription>> {
    return this.run((ctx) => unsubscribe(ctx, actor, ref, request));
  }

  /** §6.3 the options of a subscription (the sender's own, or any for the node's owner). */
  getSubscriptionOptions(
    actor: string,
    ref: NodeRef,
    request: SubscriptionOptionsRequest,
  ): Promise<Outcome<SubscriptionWithOptions>> {
    return this.run((ctx) => getSubscriptionOptions(ctx, actor, ref, request));
  }

  /** §6.3.5 set the options of a subscription (validated: bad-request + invalid-options). */
  setSubscriptionOptions(
    actor: string,
    ref: NodeRef,
    request: SubscriptionOptionsRequest & { options: Partial<SubscriptionOptions> },
  ): Promise<Outcome<SubscriptionWithOptions>> {
    return this.run((ctx) => setSubscriptionOptions(ctx, actor, ref, request));
  }

  /** §6.4 default subscription options of a node, or of the service (no node). */
  getDefaultSubscriptionOptions(
    service: string,
    node?: string,
  ): Promise<Outcome<SubscriptionOptions>> {
    return this.run((ctx) => getDefaultSubscriptionOptions(ctx, service, node));
  }

  /** §5.6 the sender's subscriptions at a service (optionally one node). */
  getSubscriptions(
    actor: string,
    service: string,
    node?: string,
  ): Promise<Outcome<Subscription[]>> {
    return this.run((ctx) => getSubscriptions(ctx, actor, service, node));
  }

  /** §5.7 the sender's affiliations at a service (optionally one node). */
  getAffiliations(
    actor: string,
    service: string,
    node?: string,
  ): Promise<Outcome<AffiliationEntry[]>> {
    return this.run((ctx) => getAffiliations(ctx, actor, service, node));
  }

  // ── owner (§8) ──

  /** §8.1 create a node (conflict when it exists). */
  createNode(
    actor: string,
    ref: NodeRef,
    config?: Partial<NodeConfig>,
  ): Promise<Outcome<NodeRecord>> {
    return this.run((ctx) => createNode(ctx, actor, ref, config));
  }

  /** §8.2 the configuration (defaults for the owner before the node exists). */
  getNodeConfig(actor: string, ref: NodeRef): Promise<Outcome<NodeConfig>> {
    return this.run((ctx) => getNodeConfig(ctx, actor, ref));
  }

  /** §8.2 configure (creates the node for its owner); re-checks subscriptions and trims. */
  configureNode(
    actor: string,
    ref: NodeRef,
    changes: Partial<NodeConfig>,
  ): Promise<Outcome<NodeConfig>> {
    return this.run((ctx) => configureNode(ctx, actor, ref, changes));
  }

  /** §8.8.1 all subscriptions of a node. */
  getNodeSubscriptions(actor: string, ref: NodeRef): Promise<Outcome<Subscription[]>> {
    return this.run((ctx) => getNodeSubscriptions(ctx, actor, ref));
  }

  /** §8.8.2 change subscriptions (all-or-nothing); returns the node's subscriptions after. */
  setNodeSubscriptions(
    actor: string,
    ref: NodeRef,
    changes: readonly SubscriptionChange[],
  ): Promise<Outcome<Subscription[]>> {
    return this.run((ctx) => setNodeSubscriptions(ctx, actor, ref, changes));
  }

  /** §8.9.1 all affiliations of a node, the owner first. */
  getNodeAffiliations(actor: string, ref: NodeRef): Promise<Outcome<AffiliationEntry[]>> {
    return this.run((ctx) => getNodeAffiliations(ctx, actor, ref));
  }

  /**
   * §8.9.2 change affiliations (JIDs or whole domains), all-or-nothing; bans drop subscriptions.
   * With `createMissing` the owner's node is created first when it does not exist yet (the
   * block command: an owner may block before posting), in the same transaction.
   */
  setNodeAffiliations(
    actor: string,
    ref: NodeRef,
    changes: readonly AffiliationChange[],
    createMissing = false,
  ): Promise<Outcome<AffiliationEntry[]>> {
    return this.run((ctx) => setNodeAffiliations(ctx, actor, ref, changes, createMissing));
  }

  /** §8.5 purge all items. */
  purgeNode(actor: string, ref: NodeRef): Promise<Outcome<{ purged: number }>> {
    return this.run((ctx) => purgeNode(ctx, actor, ref));
  }

  /** §8.4 delete the node with its items, subscriptions and affiliations. */
  deleteNode(actor: string, ref: NodeRef): Promise<Outcome<NodeRecord>> {
    return this.run((ctx) => deleteNode(ctx, actor, ref));
  }

  /** §8.6 the owner approves (allow = true) or denies a pending request. */
  approveSubscription(
    actor: string,
    ref: NodeRef,
    jid: string,
    allow: boolean,
  ): Promise<Outcome<Subscription>> {
    return this.run((ctx) => approveSubscription(ctx, actor, ref, jid, allow));
  }

  /** §8.7 pending requests at a service (one node, or all nodes the sender owns). */
  listPending(actor: string, service: string, node?: string): Promise<Outcome<Subscription[]>> {
    return this.run((ctx) => listPending(ctx, actor, service, node));
  }

  // ── housekeeping ──

  /** Deny pending requests older than limits.pendingTtlMs (default 7 days). Call periodically. */
  expirePending(): Promise<Outcome<Subscription[]>> {
    return this.run((ctx) => expirePending(ctx));
  }

  /** End the subscriptions the operator's deny / allow lists refuse (call at start); how many. */
  enforceServicePolicy(): Promise<Outcome<number>> {
    return this.run((ctx) => enforceServicePolicy(ctx));
  }

  /** All named counters ("refused:<reason>", …). */
  getCounters(): Promise<Record<string, number>> {
    return this.store.transaction((tx) => tx.getCounters());
  }

  /**
   * The next page of a publish's recipients (ItemPublished.more), read now: who is subscribed
   * and allowed when the fan-out gets there. None when the node is gone.
   */
  moreRecipients(
    ref: NodeRef,
    after: SubscriptionCursor,
  ): Promise<{ recipients: Recipient[]; next?: SubscriptionCursor }> {
    return this.store.transaction(async (tx) => {
      const ctx = { ...this.deps, tx };
      return recipientsPage(ctx, await viewNode(ctx, ref), after);
    });
  }

  /** Add to a named counter, e.g. "dropped:unfollowed-event" (protocol-layer statistics). */
  incrementCounter(name: string, by = 1): Promise<void> {
    return this.store.transaction((tx) => tx.incrementCounter(name, by));
  }

  /** Refusals so far, by reason (every reason present, 0 when never refused). */
  async getRefusalCounts(): Promise<Record<RefusalReason, number>> {
    const counters = await this.getCounters();
    return Object.fromEntries(
      REFUSAL_REASONS.map((r) => [r, counters[`refused:${r}`] ?? 0]),
    ) as Record<RefusalReason, number>;
  }
}
