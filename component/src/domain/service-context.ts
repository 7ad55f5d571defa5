/**
 * What every use case shares: the dependencies of the core and the few helpers that turn the
 * store's rows into policy decisions (standing, may, recipients). Internal to the domain.
 */
import {
  type AbuseLimits,
  type Action,
  may,
  resolveStanding,
  type ServicePolicy,
  type Standing,
  type Verdict,
} from "./capabilities.js";
import { PubsubError } from "./errors.js";
import type { LastItemForSubscriber, Recipient, SubscriptionChanged } from "./events.js";
import type { ItemIdGenerator } from "./item-id.js";
import { bareJid, normalizeJid } from "./jid.js";
import type { PubsubTx } from "./ports.js";
import { byPresence, chosenOptions } from "./subscription-options.js";
import type { TimelineLimits } from "./timeline-use-cases.js";
import type {
  Affiliation,
  NodeConfig,
  NodeRecord,
  NodeRef,
  Subscription,
  SubscriptionCursor,
  SubscriptionState,
} from "./types.js";

/** What the core is given once (policy, clock, ids); a use case gets it with its transaction. */
export interface CoreDeps {
  now: () => number;
  newItemId: ItemIdGenerator;
  newSubId: () => string;
  /** Bare JID of the user owning `service`, undefined when the service belongs to nobody. */
  ownerOf: (service: string) => string | undefined;
  defaultConfig: (owner: string) => NodeConfig;
  policy: ServicePolicy;
  limits: AbuseLimits;
  maxItemsCeiling: number;
  timeline: TimelineLimits;
}

/** One use case's view: the core's dependencies and the transaction it runs in. */
export interface CoreContext extends CoreDeps {
  tx: PubsubTx;
}

/** A node as the policy sees it: it may not exist yet (auto-create on the owner's publish). */
export interface NodeView extends NodeRef {
  owner: string;
  config: NodeConfig;
  exists: boolean;
}

export function nodeNotFound(ref: NodeRef): PubsubError {
  return new PubsubError("item-not-found", { text: `no node ${ref.node} at ${ref.service}` });
}

/** The stored node, or item-not-found. */
export async function requireNode(ctx: CoreContext, ref: NodeRef): Promise<NodeRecord> {
  const node = await ctx.tx.getNode(ref);
  if (!node) throw nodeNotFound(ref);
  return node;
}

/** The stored node, or the node the service's owner would get; item-not-found for no owner. */
export async function viewNode(ctx: CoreContext, ref: NodeRef): Promise<NodeView> {
  const node = await ctx.tx.getNode(ref);
  if (node) return { ...ref, owner: node.owner, config: node.config, exists: true };
  const owner = ctx.ownerOf(ref.service);
  if (owner === undefined) throw nodeNotFound(ref);
  const o = bareJid(owner);
  return { ...ref, owner: o, config: ctx.defaultConfig(o), exists: false };
}

/** Affiliation lookup over a node's entries, read once (not once per domain label). */
export async function affiliationLookup(
  ctx: CoreContext,
  node: NodeView,
): Promise<(entity: string) => Affiliation> {
  if (!node.exists) return () => "none";
  const map = new Map<string, Affiliation>();
  for (const e of await ctx.tx.listNodeAffiliations(node)) map.set(e.entity, e.affiliation);
  return (entity) => map.get(entity) ?? "none";
}

export async function standingOf(ctx: CoreContext, node: NodeView, jid: string): Promise<Standing> {
  return resolveStanding(jid, node.owner, ctx.policy, await affiliationLookup(ctx, node));
}

/**
 * The subscription of `jid` (normalised here) at the node: the one stored under that JID, or
 * one stored before JIDs were normalised under the same JID in other capitals.
 */
export async function findSubscription(
  ctx: CoreContext,
  node: NodeRef,
  jid: string,
): Promise<Subscription | undefined> {
  const wanted = normalizeJid(jid);
  const exact = await ctx.tx.getSubscription(node, wanted);
  if (exact) return exact;
  const same = await ctx.tx.listSubscriptionsOf(node.service, bareJid(wanted), node.node);
  return same.find((s) => normalizeJid(s.jid) === wanted);
}

/**
 * The subscriptions an owner's answer names (approve, deny): for a bare JID, every subscription
 * of that bare JID (a request made as bob@x/phone is answered as "bob@x"); for a full JID, its own.
 */
export async function subscriptionsNamed(
  ctx: CoreContext,
  node: NodeRef,
  jid: string,
): Promise<Subscription[]> {
  const wanted = normalizeJid(jid);
  if (wanted === bareJid(wanted)) {
    return ctx.tx.listSubscriptionsOf(node.service, wanted, node.node);
  }
  const sub = await findSubscription(ctx, node, wanted);
  return sub ? [sub] : [];
}

const STATE_RANK: Record<SubscriptionState, number> = {
  none: 0,
  pending: 1,
  unconfigured: 2,
  subscribed: 3,
};

/**
 * The subscription state of `jid` at the node: of that exact JID when it has one, else the
 * best state among the subscriptions of its bare JID (a user subscribed as "bob@x" reads from
 * "bob@x/phone"); "none" when there is none.
 */
export async function subscriptionStateOf(
  ctx: CoreContext,
  node: NodeView,
  jid: string,
): Promise<SubscriptionState> {
  if (!node.exists) return "none";
  const exact = await findSubscription(ctx, node, jid);
  if (exact) return exact.state;
  return (
    await ctx.tx.listSubscriptionsOf(node.service, bareJid(jid), node.node)
  ).reduce<SubscriptionState>(
    (best, s) => (STATE_RANK[s.state] > STATE_RANK[best] ? s.state : best),
    "none",
  );
}

/** The policy verdict for `actor` doing `action` on `node`. */
export async function verdictFor(
  ctx: CoreContext,
  action: Action,
  node: NodeView,
  actor: string,
): Promise<Verdict> {
  return may(action, {
    standing: await standingOf(ctx, node, actor),
    accessModel: node.config.accessModel,
    publishModel: node.config.publishModel,
    subscription: await subscriptionStateOf(ctx, node, actor),
  });
}

/** Throw the refusal when `actor` may not do `action`; "pending" counts as allowed. */
export async function check(
  ctx: CoreContext,
  action: Action,
  node: NodeView,
  actor: string,
): Promise<void> {
  const verdict = await verdictFor(ctx, action, node, actor);
  if (verdict.kind === "refuse") throw verdict.error;
}

export function asView(node: NodeRecord): NodeView {
  return { ...node, exists: true };
}

/**
 * Who gets a notification: subscriptions in state "subscribed" whose holder may still be
 * notified (not banned by the owner or the operator, on the whitelist if there is one) and has
 * not turned pubsub#deliver off. For a node deletion (§8.4.2, `purpose` "delete"), pending
 * subscriptions too, and every subscription whatever its options: the subscription ends with it.
 * Each recipient carries the subscriber's own pubsub#include_body when it chose one.
 */
export async function recipientsOf(
  ctx: CoreContext,
  node: NodeView,
  purpose: "notify" | "delete" = "notify",
): Promise<Recipient[]> {
  if (!node.exists) return [];
  const deleting = purpose === "delete";
  const lookup = await affiliationLookup(ctx, node);
  // A fan-out reads only the subscribed (an index gives them in order); a deletion, pending too.
  const subs = deleting
    ? (await ctx.tx.listNodeSubscriptions(node)).filter(
        (s) => s.state === "subscribed" || s.state === "pending",
      )
    : await ctx.tx.listNodeSubscriptions(node, "subscribed");
  return toRecipients(ctx, node, subs, lookup, deleting);
}

/** Subscriptions in one page of a fan-out (FANOUT_PAGE): a large node is not read at once. */
export const FANOUT_PAGE = 1000;

/**
 * One page of a node's recipients of a publish (as recipientsOf "notify"), after `after`; `next`
 * when there may be more. The fan-out reads the next page when it gets to it, so a node of any
 * size costs a page of memory and a page of work at a time; a subscription that ended meanwhile
 * gets nothing more.
 */
export async function recipientsPage(
  ctx: CoreContext,
  node: NodeView,
  after?: SubscriptionCursor,
  limit = FANOUT_PAGE,
): Promise<{ recipients: Recipient[]; next?: SubscriptionCursor }> {
  if (!node.exists) return { recipients: [] };
  const lookup = await affiliationLookup(ctx, node);
  const subs = await ctx.tx.pageNodeSubscriptions(node, "subscribed", after, limit);
  const last = subs.at(-1);
  const recipients = toRecipients(ctx, node, subs, lookup, false);
  return subs.length === limit && last
    ? { recipients, next: { createdAt: last.createdAt, jid: last.jid } }
    : { recipients };
}

function toRecipients(
  ctx: CoreContext,
  node: NodeView,
  subs: readonly Subscription[],
  lookup: Awaited<ReturnType<typeof affiliationLookup>>,
  deleting: boolean,
): Recipient[] {
  return subs
    .filter((s) => {
      const standing = resolveStanding(s.jid, node.owner, ctx.policy, lookup);
      const verdict = may("be-notified", {
        standing,
        accessModel: node.config.accessModel,
        publishModel: node.config.publishModel,
        subscription: s.state,
      });
      return verdict.kind !== "refuse";
    })
    .filter((s) => deleting || chosenOptions(s).deliver !== false)
    .map((s) => recipientOf(s));
}

/** The subscription as a recipient, with its own include_body when it chose one. */
function recipientOf(sub: Subscription): Recipient {
  const { includeBody } = chosenOptions(sub);
  const recipient: Recipient = { jid: sub.jid, subid: sub.subid };
  if (includeBody !== undefined) recipient.includeBody = includeBody;
  if (byPresence(sub)) recipient.chat = true;
  return recipient;
}

export function subscriptionChanged(
  node: NodeView,
  sub: Subscription,
  state: SubscriptionState,
  cause: SubscriptionChanged["cause"],
): SubscriptionChanged {
  return {
    type: "subscription-changed",
    service: node.service,
    node: node.node,
    jid: sub.jid,
    subid: sub.subid,
    state,
    owner: node.owner,
    notifyOwner: node.config.notifySub,
    cause,
    ...(byPresence(sub) ? { byPresence: true } : {}),
  };
}

/**
 * The last published item for a new subscriber, when the node sends it on subscription and the
 * subscriber did not turn pubsub#deliver off.
 */
export async function lastItemFor(
  ctx: CoreContext,
  node: NodeView,
  sub: Subscription,
): Promise<LastItemForSubscriber[]> {
  if (!node.exists || node.config.sendLastPublishedItem === "never") return [];
  if (chosenOptions(sub).deliver === false) return [];
  const item = await ctx.tx.getLastItem(node);
  if (!item) return [];
  return [
    {
      type: "last-item-for-subscriber",
      service: node.service,
      node: node.node,
      item,
      recipient: recipientOf(sub),
      deliverPayloads: node.config.deliverPayloads,
      includeBody: node.config.includeBody,
    },
  ];
}

/**
 * `flatMap` with an asynchronous step, one element after the other: the steps share one
 * transaction, and a transaction runs its statements in order.
 */
export async function eachInTurn<T, R>(
  list: readonly T[],
  step: (item: T) => Promise<readonly R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (const item of list) out.push(...(await step(item)));
  return out;
}
