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

export function createNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  config: Partial<NodeConfig> = {},
): Outcome<NodeRecord> {
  const view = viewNode(ctx, ref);
  check(ctx, "create", view, actor);
  if (view.exists) throw new PubsubError("conflict", { text: `node ${ref.node} exists` });
  validateConfigChanges(config, ctx.maxItemsCeiling);
  const { node, event } = createNodeFromView(ctx, view, { ...view.config, ...config });
  return { result: requireNode(ctx, node), events: [event] };
}

/** The node's configuration; its owner gets the defaults before the node exists. */
export function getNodeConfig(ctx: CoreContext, actor: string, ref: NodeRef): Outcome<NodeConfig> {
  const view = viewNode(ctx, ref);
  check(ctx, "get-configuration", view, actor);
  return { result: view.config, events: [] };
}

export function configureNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: Partial<NodeConfig>,
): Outcome<NodeConfig> {
  let node = viewNode(ctx, ref);
  check(ctx, node.exists ? "configure" : "create", node, actor);
  validateConfigChanges(changes, ctx.maxItemsCeiling);
  const config: NodeConfig = { ...node.config, ...changes };
  const events: PubsubEvent[] = [];
  if (node.exists) {
    ctx.store.updateNodeConfig(node, config);
    node = { ...node, config };
  } else {
    const created = createNodeFromView(ctx, node, config);
    node = created.node;
    events.push(created.event);
  }
  events.push(...reconcileSubscriptions(ctx, node), ...trimNode(ctx, node));
  if (config.notifyConfig) {
    events.push({
      type: "configuration-changed",
      ...ref,
      config,
      recipients: recipientsOf(ctx, node),
      deliverPayloads: config.deliverPayloads,
    });
  }
  return { result: config, events };
}

export function getNodeSubscriptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Outcome<Subscription[]> {
  const node = asView(requireNode(ctx, ref));
  check(ctx, "get-subscriptions", node, actor);
  return { result: ctx.store.listNodeSubscriptions(node), events: [] };
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
export function setNodeSubscriptions(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: readonly SubscriptionChange[],
): Outcome<Subscription[]> {
  const node = asView(requireNode(ctx, ref));
  check(ctx, "set-subscriptions", node, actor);
  const normalized = changes.map((c) => ({ ...c, jid: acceptJid(c.jid) }));
  validateSubscriptionChanges(ctx, node, normalized);
  const events: PubsubEvent[] = [];
  for (const change of normalized) events.push(...applySubscriptionChange(ctx, node, change));
  return { result: ctx.store.listNodeSubscriptions(node), events };
}

function validateSubscriptionChanges(
  ctx: CoreContext,
  node: NodeView,
  changes: readonly SubscriptionChange[],
): void {
  const seen = new Set<string>();
  for (const { jid, state } of changes) {
    if (seen.has(jid)) throw new PubsubError("bad-request", { text: `${jid} is listed twice` });
    seen.add(jid);
    if (!SUBSCRIPTION_STATES.includes(state)) {
      throw new PubsubError("not-acceptable", { text: `unknown subscription state "${state}"` });
    }
    const current = findSubscription(ctx, node, jid)?.state ?? "none";
    const change = maySetSubscription(current, state);
    if (change.kind === "refuse") {
      throw new PubsubError(change.error.condition, {
        ...(change.error.reason ? { reason: change.error.reason } : {}),
        text: `${jid}: ${change.error.message}`,
      });
    }
    if (state === "none") continue;
    const verdict = may("subscribe", {
      standing: standingOf(ctx, node, jid),
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

function applySubscriptionChange(
  ctx: CoreContext,
  node: NodeView,
  change: SubscriptionChange,
): PubsubEvent[] {
  const existing = findSubscription(ctx, node, change.jid);
  if (change.state === "none") {
    if (!existing) return [];
    ctx.store.deleteSubscription(node, existing.jid);
    return [subscriptionChanged(node, existing, "none", "owner")];
  }
  // The policy let only approvals through: an existing pending or active subscription.
  if (!existing || existing.state === change.state) return [];
  return activate(ctx, node, existing, "owner");
}

/** The node's affiliations; the owner first (implicit, always present). */
export function getNodeAffiliations(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Outcome<AffiliationEntry[]> {
  const node = asView(requireNode(ctx, ref));
  check(ctx, "get-affiliations", node, actor);
  const owner: AffiliationEntry = { ...ref, entity: node.owner, affiliation: "owner" };
  const rest = ctx.store.listNodeAffiliations(node).filter((e) => e.entity !== node.owner);
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
export function setNodeAffiliations(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  changes: readonly AffiliationChange[],
  createMissing = false,
): Outcome<AffiliationEntry[]> {
  let node = createMissing ? viewNode(ctx, ref) : asView(requireNode(ctx, ref));
  check(ctx, node.exists ? "set-affiliations" : "create", node, actor);
  const normalized = changes.map((c) => ({ ...c, entity: bareJid(acceptJid(c.entity)) }));
  validateAffiliationChanges(ctx, node, normalized);
  const events: PubsubEvent[] = [];
  if (!node.exists) {
    const created = createNodeFromView(ctx, node, node.config);
    node = created.node;
    events.push(created.event);
  }
  for (const c of normalized) ctx.store.setAffiliation(node, c.entity, c.affiliation);
  events.push(...reconcileSubscriptions(ctx, node));
  return { result: getNodeAffiliations(ctx, actor, ref).result, events };
}

function validateAffiliationChanges(
  ctx: CoreContext,
  node: NodeView,
  changes: readonly AffiliationChange[],
): void {
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

export function purgeNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
): Outcome<{ purged: number }> {
  const node = asView(requireNode(ctx, ref));
  check(ctx, "purge", node, actor);
  const purged = ctx.store.purgeItems(node);
  const events: PubsubEvent[] = node.config.notifyRetract
    ? [{ type: "node-purged", ...ref, recipients: recipientsOf(ctx, node) }]
    : [];
  return { result: { purged }, events };
}

export function deleteNode(ctx: CoreContext, actor: string, ref: NodeRef): Outcome<NodeRecord> {
  const record = requireNode(ctx, ref);
  const node = asView(record);
  check(ctx, "delete", node, actor);
  const recipients = recipientsOf(ctx, node, "delete");
  ctx.store.deleteNode(node);
  const events: PubsubEvent[] = node.config.notifyDelete
    ? [{ type: "node-deleted", ...ref, recipients }]
    : [];
  return { result: record, events };
}
