/**
 * Subscriber use cases (§6.1 subscribe, §6.2 unsubscribe, §6.3 / §6.4 subscription options,
 * §5.6 / §5.7 own subscriptions and affiliations) and the authorize workflow: approve / deny
 * (§8.6), pending list (§8.7), expiry.
 */
import {
  checkRequestLimits,
  isLimitExempt,
  isPendingExpired,
  may,
  RATE_WINDOW_MS,
  resolveStanding,
} from "./capabilities.js";
import { PubsubError } from "./errors.js";
import type { Outcome, PubsubEvent } from "./events.js";
import { createNodeFromView } from "./item-use-cases.js";
import { acceptJid, bareJid, domainOf } from "./jid.js";
import {
  affiliationLookup,
  asView,
  type CoreContext,
  check,
  eachInTurn,
  findSubscription,
  lastItemFor,
  type NodeView,
  requireNode,
  subscriptionChanged,
  subscriptionsNamed,
  verdictFor,
  viewNode,
} from "./service-context.js";
import {
  defaultSubscriptionOptions,
  effectiveOptions,
  markedByPresence,
  type SubscriptionOptions,
  validateSubscriptionOptions,
  withOptions,
} from "./subscription-options.js";
import { type AffiliationEntry, MICROBLOG_NODE, type NodeRef, type Subscription } from "./types.js";

export interface SubscribeRequest {
  /** The JID to subscribe (the subscribe element's jid): bare or full, its bare part the sender's. */
  jid: string;
  /** §6.3.7 subscribe and configure: options set with the subscription (or on the existing one). */
  options?: Partial<SubscriptionOptions>;
  /** Asked for by a roster subscription (an IM client): notified by chat messages. */
  byPresence?: boolean;
}

export async function subscribe(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: SubscribeRequest,
): Promise<Outcome<Subscription>> {
  const jid = acceptJid(req.jid);
  if (bareJid(jid) !== bareJid(actor)) {
    throw new PubsubError("bad-request", { pubsubCondition: "invalid-jid", reason: "invalid-jid" });
  }
  const view = await subscribableNode(ctx, ref);
  const existing = view.exists ? await findSubscription(ctx, view, jid) : undefined;
  const verdict = await verdictFor(ctx, "subscribe", view, jid);
  if (verdict.kind === "refuse") throw verdict.error;
  if (req.options) validateSubscriptionOptions(req.options);
  if (existing) {
    const marked = req.byPresence ? markedByPresence(existing) : existing;
    const configured = req.options ? withOptions(marked, req.options) : marked;
    if (configured !== existing) await ctx.tx.putSubscription(configured);
    return { result: configured, events: [] };
  }
  const pending = verdict.kind === "pending";
  await enforceRequestLimits(ctx, view, jid, pending);
  const { node, events: creation } = await ensureNode(ctx, view);
  const created: Subscription = {
    ...ref,
    jid,
    subid: ctx.newSubId(),
    state: pending ? "pending" : "subscribed",
    createdAt: ctx.now(),
  };
  const marked = req.byPresence ? markedByPresence(created) : created;
  const sub = req.options ? withOptions(marked, req.options) : marked;
  await ctx.tx.putSubscription(sub);
  const events: PubsubEvent[] = pending
    ? [
        {
          type: "subscription-requested",
          ...ref,
          jid: sub.jid,
          subid: sub.subid,
          owner: node.owner,
        },
      ]
    : [
        subscriptionChanged(node, sub, "subscribed", "subscribe"),
        ...(await lastItemFor(ctx, node, sub)),
      ];
  return { result: sub, events: [...creation, ...events] };
}

/**
 * The node to subscribe to: the stored one, or, for a user's microblog node that was never
 * published to, the node the owner would get (every user of the users domains has a
 * microblog, posts or not: following a new account works). Anything else: item-not-found.
 */
async function subscribableNode(ctx: CoreContext, ref: NodeRef): Promise<NodeView> {
  if (ref.node !== MICROBLOG_NODE) return asView(await requireNode(ctx, ref));
  return viewNode(ctx, ref);
}

/** Create a microblog node on its first subscription (with the owner's default config). */
async function ensureNode(
  ctx: CoreContext,
  view: NodeView,
): Promise<{ node: NodeView; events: PubsubEvent[] }> {
  if (view.exists) return { node: view, events: [] };
  const { node, event } = await createNodeFromView(ctx, view, view.config);
  return { node, events: [event] };
}

/**
 * §6.3.7 subscribe and configure: the subscription with the options in force, read in the same
 * transaction as the subscribe (not asked for again afterwards).
 */
export async function subscribeWithOptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: SubscribeRequest,
): Promise<Outcome<SubscriptionWithOptions>> {
  const { result, events } = await subscribe(ctx, actor, ref, req);
  const node = await requireNode(ctx, ref);
  return {
    result: { subscription: result, options: effectiveOptions(result, node.config) },
    events,
  };
}

/** Refuse a new request over an abuse limit (nothing stored); else log it for the rate limit. */
async function enforceRequestLimits(
  ctx: CoreContext,
  node: NodeView,
  jid: string,
  pending: boolean,
): Promise<void> {
  const domain = domainOf(jid);
  const requester = bareJid(jid);
  const remote = !isLimitExempt(domain, ctx.policy);
  const now = ctx.now();
  // The last minute: requests made after now - window (the bounds below are inclusive).
  const windowStart = now - RATE_WINDOW_MS + 1;
  const error = checkRequestLimits(
    {
      remote,
      pending,
      pendingFromDomainOnNode: pending ? await ctx.tx.countPending(node, domain) : 0,
      requestsFromDomainLastMinute: remote
        ? await ctx.tx.countRequestsSince(domain, windowStart)
        : 0,
      requestsFromRequesterLastMinute: remote
        ? await ctx.tx.countRequesterRequestsSince(requester, windowStart)
        : 0,
      pendingOnNode: pending ? await ctx.tx.countPending(node) : 0,
    },
    ctx.limits,
  );
  if (error) throw error;
  if (remote) {
    await ctx.tx.pruneRequests(windowStart);
    await ctx.tx.recordRequest(domain, requester, now);
  }
}

export interface UnsubscribeRequest {
  jid: string;
  subid?: string;
}

export async function unsubscribe(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: UnsubscribeRequest,
): Promise<Outcome<Subscription>> {
  const jid = acceptJid(req.jid);
  const node = asView(await requireNode(ctx, ref));
  const self = bareJid(jid) === bareJid(actor);
  await check(ctx, self ? "unsubscribe" : "unsubscribe-other", node, actor);
  const sub = await findSubscription(ctx, node, jid);
  if (!sub) {
    throw new PubsubError("unexpected-request", { pubsubCondition: "not-subscribed" });
  }
  if (req.subid && req.subid !== sub.subid) {
    throw new PubsubError("not-acceptable", { pubsubCondition: "invalid-subid" });
  }
  await ctx.tx.deleteSubscription(node, sub.jid);
  return {
    result: { ...sub, state: "none" },
    events: [subscriptionChanged(node, sub, "none", "unsubscribe")],
  };
}

/** Whose subscription options (§6.3.1): the subscribed JID, and the SubID when the request names one. */
export interface SubscriptionOptionsRequest {
  jid: string;
  subid?: string;
}

/** A subscription with the options in force (its own choices over the node's defaults). */
export interface SubscriptionWithOptions {
  subscription: Subscription;
  options: SubscriptionOptions;
}

/**
 * The subscription whose options are read or set, in the order of §6.3.4: the node exists
 * (item-not-found); the sender may configure that JID's subscription (forbidden unless it is its
 * own bare JID or the sender owns the node); it exists (unexpected-request + not-subscribed);
 * a SubID, when given, is its SubID (not-acceptable + invalid-subid). One subscription per JID
 * and node, so a request without a SubID is never ambiguous (no subid-required).
 */
async function optionsTarget(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: SubscriptionOptionsRequest,
): Promise<{ node: NodeView; sub: Subscription }> {
  const jid = acceptJid(req.jid);
  const node = asView(await requireNode(ctx, ref));
  const self = bareJid(jid) === bareJid(actor);
  await check(ctx, self ? "configure-subscription" : "configure-subscription-other", node, actor);
  const sub = await findSubscription(ctx, node, jid);
  if (!sub) {
    throw new PubsubError("unexpected-request", {
      pubsubCondition: "not-subscribed",
      text: `${req.jid} is not subscribed to ${ref.node}`,
    });
  }
  if (req.subid !== undefined && req.subid !== sub.subid) {
    throw new PubsubError("not-acceptable", { pubsubCondition: "invalid-subid" });
  }
  return { node, sub };
}

/** §6.3 the options of a subscription (pending or active). */
export async function getSubscriptionOptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: SubscriptionOptionsRequest,
): Promise<Outcome<SubscriptionWithOptions>> {
  const { node, sub } = await optionsTarget(ctx, actor, ref, req);
  return { result: { subscription: sub, options: effectiveOptions(sub, node.config) }, events: [] };
}

/** §6.3.5 set options of a subscription; options not named keep their value. */
export async function setSubscriptionOptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: SubscriptionOptionsRequest & { options: Partial<SubscriptionOptions> },
): Promise<Outcome<SubscriptionWithOptions>> {
  const { node, sub } = await optionsTarget(ctx, actor, ref, req);
  validateSubscriptionOptions(req.options);
  const configured = withOptions(sub, req.options);
  await ctx.tx.putSubscription(configured);
  return {
    result: { subscription: configured, options: effectiveOptions(configured, node.config) },
    events: [],
  };
}

/**
 * §6.4 default subscription options: of a node (its include_body), or without a node, of any
 * node the service's owner would get (the service's default configuration).
 */
export async function getDefaultSubscriptionOptions(
  ctx: CoreContext,
  service: string,
  node?: string,
): Promise<Outcome<SubscriptionOptions>> {
  if (node !== undefined) {
    const record = await requireNode(ctx, { service, node });
    return { result: defaultSubscriptionOptions(record.config), events: [] };
  }
  const owner = ctx.ownerOf(service);
  if (owner === undefined) {
    throw new PubsubError("item-not-found", { text: `${service} is nobody's service` });
  }
  return { result: defaultSubscriptionOptions(ctx.defaultConfig(owner)), events: [] };
}

/** The sender's subscriptions at a service (all its JIDs with the sender's bare JID). */
export async function getSubscriptions(
  ctx: CoreContext,
  actor: string,
  service: string,
  node?: string,
): Promise<Outcome<Subscription[]>> {
  return { result: await ctx.tx.listSubscriptionsOf(service, bareJid(actor), node), events: [] };
}

/** The sender's affiliations at a service: "owner" of every node it owns, plus JID entries. */
export async function getAffiliations(
  ctx: CoreContext,
  actor: string,
  service: string,
  node?: string,
): Promise<Outcome<AffiliationEntry[]>> {
  const bare = bareJid(actor);
  const owned: AffiliationEntry[] = (await ctx.tx.listNodes(service))
    .filter((n) => n.owner === bare)
    .map((n) => ({ service, node: n.node, entity: bare, affiliation: "owner" }));
  const listed = await ctx.tx.listAffiliationsOf(service, bare);
  const all = [...owned, ...listed.filter((e) => !owned.some((o) => o.node === e.node))];
  return { result: node === undefined ? all : all.filter((e) => e.node === node), events: [] };
}

/** Make a pending or new subscription active; its events (changed + last item). */
export async function activate(
  ctx: CoreContext,
  node: NodeView,
  sub: Subscription,
  cause: "approved" | "owner",
): Promise<PubsubEvent[]> {
  const active: Subscription = { ...sub, state: "subscribed" };
  await ctx.tx.putSubscription(active);
  return [
    subscriptionChanged(node, active, "subscribed", cause),
    ...(await lastItemFor(ctx, node, active)),
  ];
}

/**
 * The owner answers a pending request (§8.6). `jid` is matched in any case; a bare JID answers
 * every pending request of that bare JID (the owner types "bob@x" for a request made as
 * bob@x/phone), a full JID only its own. The result is the first request answered. Approving
 * an already active subscription is a no-op; anything else without a pending request is
 * item-not-found.
 */
export async function approveSubscription(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  jid: string,
  allow: boolean,
): Promise<Outcome<Subscription>> {
  acceptJid(jid);
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "approve", node, actor);
  const named = await subscriptionsNamed(ctx, node, jid);
  const pending = named.filter((s) => s.state === "pending");
  const first = pending[0];
  if (!first) {
    const active = named.find((s) => s.state === "subscribed");
    if (allow && active) return { result: active, events: [] };
    throw new PubsubError("item-not-found", {
      text: `no pending subscription request from ${jid}`,
    });
  }
  if (allow) {
    return {
      result: { ...first, state: "subscribed" },
      events: await eachInTurn(pending, (s) => activate(ctx, node, s, "approved")),
    };
  }
  for (const s of pending) await ctx.tx.deleteSubscription(node, s.jid);
  await ctx.tx.incrementCounter("refused:denied-by-owner", pending.length);
  return {
    result: { ...first, state: "none" },
    events: pending.map((s) => subscriptionChanged(node, s, "none", "denied")),
  };
}

/**
 * Pending requests at a service, oldest first per node: of one node, or of every node the
 * sender may manage (forbidden when it manages none of the service's nodes).
 */
export async function listPending(
  ctx: CoreContext,
  actor: string,
  service: string,
  node?: string,
): Promise<Outcome<Subscription[]>> {
  const nodes =
    node === undefined
      ? (await ctx.tx.listNodes(service)).map(asView)
      : [asView(await requireNode(ctx, { service, node }))];
  const verdicts = await eachInTurn(nodes, async (n) => [
    { n, v: await verdictFor(ctx, "get-pending", n, actor) },
  ]);
  const allowed = verdicts.filter(({ v }) => v.kind !== "refuse").map(({ n }) => n);
  const refusal = verdicts[0]?.v;
  if (allowed.length === 0 && refusal?.kind === "refuse") throw refusal.error;
  return {
    result: await eachInTurn(allowed, (n) => ctx.tx.listNodeSubscriptions(n, "pending")),
    events: [],
  };
}

/** Deny every pending request older than the TTL (counted as refused:pending-expired). */
export async function expirePending(ctx: CoreContext): Promise<Outcome<Subscription[]>> {
  const now = ctx.now();
  const expired = (await ctx.tx.listPendingCreatedBefore(now - ctx.limits.pendingTtlMs + 1)).filter(
    (s) => isPendingExpired(s.createdAt, now, ctx.limits),
  );
  const events: PubsubEvent[] = [];
  for (const sub of expired) {
    const node = await ctx.tx.getNode(sub);
    await ctx.tx.deleteSubscription(sub, sub.jid);
    if (node) events.push(subscriptionChanged(asView(node), sub, "none", "expired"));
  }
  if (expired.length > 0) await ctx.tx.incrementCounter("refused:pending-expired", expired.length);
  return { result: expired.map((s) => ({ ...s, state: "none" })), events };
}

/**
 * The operator's deny and allow lists apply to existing subscriptions too, not only to new
 * requests: at start (the lists may have changed), every node's subscriptions are re-checked
 * and those the policy now refuses end as bans (the subscriber is told). Nothing to do when
 * the operator lists nothing. The result: how many subscriptions ended.
 */
export async function enforceServicePolicy(ctx: CoreContext): Promise<Outcome<number>> {
  const { deniedDomains, allowedDomains } = ctx.policy;
  if (deniedDomains.length === 0 && allowedDomains.length === 0) return { result: 0, events: [] };
  const nodes = await ctx.tx.listNodes();
  const events = await eachInTurn(nodes, (n) => reconcileSubscriptions(ctx, asView(n)));
  const ended = events.filter((e) => e.type === "subscription-changed" && e.state === "none");
  return { result: ended.length, events };
}

/**
 * Re-apply the policy to every subscription of a node after its access model or affiliations
 * changed, as if each were a new request: refused → removed ("banned" for outcasts, else
 * "access-model"); allowed while pending → approved; pending while active → kept (locking an
 * account keeps its followers).
 */
export async function reconcileSubscriptions(
  ctx: CoreContext,
  node: NodeView,
): Promise<PubsubEvent[]> {
  const lookup = await affiliationLookup(ctx, node);
  const events: PubsubEvent[] = [];
  for (const sub of await ctx.tx.listNodeSubscriptions(node)) {
    const standing = resolveStanding(sub.jid, node.owner, ctx.policy, lookup);
    const verdict = may("subscribe", {
      standing,
      accessModel: node.config.accessModel,
      publishModel: node.config.publishModel,
      subscription: "none",
    });
    if (verdict.kind === "refuse") {
      await ctx.tx.deleteSubscription(node, sub.jid);
      const cause = standing.affiliation === "outcast" ? "banned" : "access-model";
      events.push(subscriptionChanged(node, sub, "none", cause));
    } else if (verdict.kind === "allow" && sub.state === "pending") {
      events.push(...(await activate(ctx, node, sub, "approved")));
    }
  }
  return events;
}
