/**
 * Owner use cases (XEP-0060 §8): create, configure, node subscriptions and affiliations,
 * purge, delete. A node that does not exist yet is created by its owner's configure (Warble's
 * contract), and its owner reads the default configuration before that.
 */
import { may, mayGrantAffiliation, maySetSubscription } from "./capabilities.js";
import { PubsubError } from "./errors.js";
import type { Outcome, PubsubEvent } from "./events.js";
import { createNodeFromView, trimNode } from "./item-use-cases.js";
import { acceptJid, bareJid } from "./jid.js";
import { validateConfigChanges } from "./node-config.js";
import {
  asView,
  type CoreContext,
  check,
  findSubscription,
  type NodeView,
  recipientsOf,
  requireNode,
  standingOf,
  subscriptionChanged,
  viewNode,
} from "./service-context.js";
import { activate, reconcileSubscriptions } from "./subscription-use-cases.js";
import {
  AFFILIATIONS,
  type Affiliation,
  type AffiliationEntry,
  type NodeConfig,
  type NodeRecord,
  type NodeRef,
  SUBSCRIPTION_STATES,
  type Subscription,
  type SubscriptionState,
} from "./types.js";

export async function createNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  config: Partial<NodeConfig> = {},
): Promise<Outcome<NodeRecord>> {
  const view = await viewNode(ctx, ref);
  await check(ctx, "create", view, actor);
  if (view.exists) throw new PubsubError("conflict", { text: `node ${ref.node} exists` });
  validateConfigChanges(config, ctx.maxItemsCeiling);
  const { node, event } = await createNodeFromView(ctx, view, { ...view.config, ...config });
  return { result: await requireNode(ctx, node), events: [event] };
}

/** The node's configuration; its owner gets the defaults before the node exists. */
export async function getNodeConfig(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Promise<Outcome<NodeConfig>> {
  const view = await viewNode(ctx, ref);
  await check(ctx, "get-configuration", view, actor);
  return { result: view.config, events: [] };
}

export async function configureNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: Partial<NodeConfig>,
): Promise<Outcome<NodeConfig>> {
  let node = await viewNode(ctx, ref);
  await check(ctx, node.exists ? "configure" : "create", node, actor);
  validateConfigChanges(changes, ctx.maxItemsCeiling);
  const config: NodeConfig = { ...node.config, ...changes };
  const events: PubsubEvent[] = [];
  if (node.exists) {
    await ctx.tx.updateNodeConfig(node, config);
    node = { ...node, config };
  } else {
    const created = await createNodeFromView(ctx, node, config);
    node = created.node;
    events.push(created.event);
  }
  events.push(...(await reconcileSubscriptions(ctx, node)), ...(await trimNode(ctx, node)));
  if (config.notifyConfig) {
    events.push({
      type: "configuration-changed",
      ...ref,
      config,
      recipients: await recipientsOf(ctx, node),
      deliverPayloads: config.deliverPayloads,
    });
  }
  return { result: config, events };
}

export async function getNodeSubscriptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Promise<Outcome<Subscription[]>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "get-subscriptions", node, actor);
  return { result: await ctx.tx.listNodeSubscriptions(node), events: [] };
}

export interface SubscriptionChange {
  jid: string;
  state: SubscriptionState;
}

/**
 * The owner changes subscriptions (§8.8.2): "none" removes, "subscribed" approves a pending
 * request (or keeps an active subscription); nothing else (maySetSubscription: nobody is
 * subscribed without asking). All-or-nothing: one invalid entry (unknown state, a change the
 * policy refuses, a JID it would not let subscribe, e.g. banned or off the whitelist) fails the
 * whole request with not-acceptable, a JID listed twice with bad-request; nothing changes.
 */
export async function setNodeSubscriptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: readonly SubscriptionChange[],
): Promise<Outcome<Subscription[]>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "set-subscriptions", node, actor);
  const normalized = changes.map((c) => ({ ...c, jid: acceptJid(c.jid) }));
  await validateSubscriptionChanges(ctx, node, normalized);
  const events: PubsubEvent[] = [];
  for (const change of normalized)
    events.push(...(await applySubscriptionChange(ctx, node, change)));
  return { result: await ctx.tx.listNodeSubscriptions(node), events };
}

async function validateSubscriptionChanges(
  ctx: CoreContext,
  node: NodeView,
  changes: readonly SubscriptionChange[],
): Promise<void> {
  const seen = new Set<string>();
  for (const { jid, state } of changes) {
    if (seen.has(jid)) throw new PubsubError("bad-request", { text: `${jid} is listed twice` });
    seen.add(jid);
    if (!SUBSCRIPTION_STATES.includes(state)) {
      throw new PubsubError("not-acceptable", { text: `unknown subscription state "${state}"` });
    }
    const current = (await findSubscription(ctx, node, jid))?.state ?? "none";
    const change = maySetSubscription(current, state);
    if (change.kind === "refuse") {
      throw new PubsubError(change.error.condition, {
        ...(change.error.reason ? { reason: change.error.reason } : {}),
        text: `${jid}: ${change.error.message}`,
      });
    }
    if (state === "none") continue;
    const verdict = may("subscribe", {
      standing: await standingOf(ctx, node, jid),
      accessModel: node.config.accessModel,
      publishModel: node.config.publishModel,
      subscription: "none",
    });
    if (verdict.kind === "refuse") {
      throw new PubsubError("not-acceptable", {
        text: `${jid} may not subscribe: ${verdict.error.message}`,
      });
    }
  }
}

async function applySubscriptionChange(
  ctx: CoreContext,
  node: NodeView,
  change: SubscriptionChange,
): Promise<PubsubEvent[]> {
  const existing = await findSubscription(ctx, node, change.jid);
  if (change.state === "none") {
    if (!existing) return [];
    await ctx.tx.deleteSubscription(node, existing.jid);
    return [subscriptionChanged(node, existing, "none", "owner")];
  }
  // The policy let only approvals through: an existing pending or active subscription.
  if (!existing || existing.state === change.state) return [];
  return await activate(ctx, node, existing, "owner");
}

/** The node's affiliations; the owner first (implicit, always present). */
export async function getNodeAffiliations(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Promise<Outcome<AffiliationEntry[]>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "get-affiliations", node, actor);
  const owner: AffiliationEntry = { ...ref, entity: node.owner, affiliation: "owner" };
  const rest = (await ctx.tx.listNodeAffiliations(node)).filter((e) => e.entity !== node.owner);
  return { result: [owner, ...rest], events: [] };
}

export interface AffiliationChange {
  /** A bare JID, or a domain: a domain entry covers every JID of it (and of its subdomains). */
  entity: string;
  affiliation: Affiliation;
}

/**
 * The owner changes affiliations (§8.9.2), all-or-nothing. The service owner cannot lose
 * ownership (not-acceptable). Then every subscription is re-checked: bans remove subscriptions
 * and pending requests, member-or-better approves pending requests (§8.7 note).
 */
export async function setNodeAffiliations(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: readonly AffiliationChange[],
  createMissing = false,
): Promise<Outcome<AffiliationEntry[]>> {
  let node = createMissing ? await viewNode(ctx, ref) : asView(await requireNode(ctx, ref));
  await check(ctx, node.exists ? "set-affiliations" : "create", node, actor);
  const normalized = changes.map((c) => ({ ...c, entity: bareJid(acceptJid(c.entity)) }));
  await validateAffiliationChanges(ctx, node, normalized);
  const events: PubsubEvent[] = [];
  if (!node.exists) {
    const created = await createNodeFromView(ctx, node, node.config);
    node = created.node;
    events.push(created.event);
  }
  for (const c of normalized) await ctx.tx.setAffiliation(node, c.entity, c.affiliation);
  events.push(...(await reconcileSubscriptions(ctx, node)));
  return { result: (await getNodeAffiliations(ctx, actor, ref)).result, events };
}

async function validateAffiliationChanges(
  ctx: CoreContext,
  node: NodeView,
  changes: readonly AffiliationChange[],
): Promise<void> {
  const seen = new Set<string>();
  for (const { entity, affiliation } of changes) {
    if (seen.has(entity))
      throw new PubsubError("bad-request", { text: `${entity} is listed twice` });
    seen.add(entity);
    if (!AFFILIATIONS.includes(affiliation)) {
      throw new PubsubError("not-acceptable", { text: `unknown affiliation "${affiliation}"` });
    }
    if (entity === node.owner && affiliation !== "owner") {
      throw new PubsubError("not-acceptable", { text: "the node's owner cannot stop owning it" });
    }
    if (entity === node.owner) continue;
    const verdict = mayGrantAffiliation(entity, affiliation, ctx.policy);
    if (verdict.kind === "refuse") throw verdict.error;
  }
}

export async function purgeNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Promise<Outcome<{ purged: number }>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "purge", node, actor);
  const purged = await ctx.tx.purgeItems(node);
  await ctx.tx.deleteTimelineNode(node.owner, node);
  const events: PubsubEvent[] = node.config.notifyRetract
    ? [{ type: "node-purged", ...ref, recipients: await recipientsOf(ctx, node) }]
    : [];
  return { result: { purged }, events };
}

export async function deleteNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Promise<Outcome<NodeRecord>> {
  const record = await requireNode(ctx, ref);
  const node = asView(record);
  await check(ctx, "delete", node, actor);
  const recipients = await recipientsOf(ctx, node, "delete");
  await ctx.tx.deleteNode(node);
  await ctx.tx.deleteTimelineNode(node.owner, node);
  const events: PubsubEvent[] = node.config.notifyDelete
    ? [{ type: "node-deleted", ...ref, recipients }]
    : [];
  return { result: record, events };
}
