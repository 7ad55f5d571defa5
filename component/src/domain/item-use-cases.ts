/** Publisher and subscriber use cases on items: publish (§7.1), retract (§7.2), retrieve (§6.5). */
import { PubsubError } from "./errors.js";
import type { ItemsRetracted, NodeCreated, Outcome, PubsubEvent } from "./events.js";
import { bareJid } from "./jid.js";
import { unmetPreconditions, validateConfigChanges } from "./node-config.js";
import {
  asView,
  type CoreContext,
  check,
  type NodeView,
  recipientsOf,
  recipientsPage,
  requireNode,
  verdictFor,
  viewNode,
} from "./service-context.js";
import { recordOwnPost } from "./timeline-use-cases.js";
import {
  type Item,
  type ItemPage,
  type ItemQuery,
  MICROBLOG_NODE,
  type NodeConfig,
  type NodeRecord,
  type NodeRef,
} from "./types.js";

/** What the completion of a payload knows, read inside the publish's transaction. */
export interface CompletionContext {
  itemId: string;
  /** The item this publish replaces (same id), when there is one. */
  previous?: Item;
  now: number;
}

export interface PublishRequest {
  /** The item id; generated (sortable, unique) when absent or empty. */
  id?: string;
  /** The payload XML, validated by the protocol layer. */
  payload: string;
  /**
   * The pure completion of the payload (XEP-0277: ids, dates, author), run inside the publish's
   * transaction with the id chosen and the item it replaces; it may throw to refuse the item.
   * Without it the payload is stored as given.
   */
  complete?: (c: CompletionContext) => string;
  /** publish-options preconditions (§7.1.5), already parsed (see parseConfigFields). */
  preconditions?: Partial<NodeConfig>;
}

export interface PublishResult {
  item: Item;
  /** Whether this publish created the node. */
  created: boolean;
}

/** Create the node of `view` (not existing yet) with `config`; returns its view and event. */
export async function createNodeFromView(
  ctx: CoreContext,
  view: NodeView,
  config: NodeConfig,
): Promise<{ node: NodeView; event: NodeCreated }> {
  const record = {
    service: view.service,
    node: view.node,
    owner: view.owner,
    config,
    createdAt: ctx.now(),
  };
  await ctx.tx.createNode(record);
  return {
    node: asView(record),
    event: { type: "node-created", service: view.service, node: view.node, owner: view.owner },
  };
}

/** Trim to max_items; the retract event when the node notifies retractions. */
export async function trimNode(ctx: CoreContext, node: NodeView): Promise<ItemsRetracted[]> {
  const trimmed = await ctx.tx.trimItems(node, node.config.maxItems);
  if (trimmed.length === 0 || !node.config.notifyRetract) return [];
  return [
    {
      type: "items-retracted",
      service: node.service,
      node: node.node,
      itemIds: trimmed,
      cause: "trim",
      recipients: await recipientsOf(ctx, node),
    },
  ];
}

export async function publishItem(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: PublishRequest,
): Promise<Outcome<PublishResult>> {
  let node = await viewNode(ctx, ref);
  const events: PubsubEvent[] = [];
  const pre = req.preconditions ?? {};
  const created = !node.exists;
  if (node.exists) {
    await check(ctx, "publish", node, actor);
    const unmet = unmetPreconditions(node.config, pre);
    if (unmet.length > 0) {
      throw new PubsubError("conflict", {
        pubsubCondition: "precondition-not-met",
        text: `the node's ${unmet.join(", ")} differs from the publish options`,
      });
    }
  } else {
    await check(ctx, "create", node, actor);
    validateConfigChanges(pre, ctx.maxItemsCeiling);
    const creation = await createNodeFromView(ctx, node, { ...node.config, ...pre });
    node = creation.node;
    events.push(creation.event);
  }
  const item = await storeItem(ctx, node, actor, req);
  if (node.node === MICROBLOG_NODE) await recordOwnPost(ctx, node.owner, node, item);
  const { recipients, next } = await recipientsPage(ctx, node);
  events.push({
    type: "item-published",
    service: node.service,
    node: node.node,
    item,
    recipients,
    ...(next ? { more: next } : {}),
    deliverPayloads: node.config.deliverPayloads,
    includeBody: node.config.includeBody,
  });
  events.push(...(await trimNode(ctx, node)));
  return { result: { item, created }, events };
}

/** Choose the id, complete the payload with the item it replaces, and store it. */
async function storeItem(
  ctx: CoreContext,
  node: NodeView,
  actor: string,
  req: PublishRequest,
): Promise<Item> {
  const now = ctx.now();
  const id = req.id ? req.id : ctx.newItemId();
  let payload = req.payload;
  if (req.complete) {
    // A generated id is new: only a client-chosen one can replace an item.
    const previous = req.id ? (await ctx.tx.getItems(node, [id]))[0] : undefined;
    payload = req.complete({ itemId: id, now, ...(previous ? { previous } : {}) });
  }
  return ctx.tx.upsertItem(node, {
    id,
    payload,
    publisher: bareJid(actor),
    createdAt: now,
    updatedAt: now,
  });
}

export interface RetractRequest {
  id: string;
  /** The retract element's notify attribute; the node's notify_retract also turns it on. */
  notify?: boolean;
}

export async function retractItem(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: RetractRequest,
): Promise<Outcome<{ id: string }>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "retract-own", node, actor);
  if (!req.id) throw new PubsubError("bad-request", { pubsubCondition: "item-required" });
  const item = (await ctx.tx.getItems(node, [req.id]))[0];
  if (!item) throw new PubsubError("item-not-found", { text: `no item ${req.id}` });
  if (item.publisher !== bareJid(actor)) await check(ctx, "retract-any", node, actor);
  await ctx.tx.deleteItems(node, [req.id]);
  await ctx.tx.deleteTimelineItems(node.owner, node, [req.id]);
  const events: PubsubEvent[] = [];
  if (req.notify === true || node.config.notifyRetract) {
    events.push({
      type: "items-retracted",
      service: node.service,
      node: node.node,
      itemIds: [req.id],
      cause: "retract",
      recipients: await recipientsOf(ctx, node),
    });
  }
  return { result: { id: req.id }, events };
}

export interface GetItemsRequest {
  /** Only these items (§6.5.8); other parameters are ignored. */
  ids?: readonly string[];
  /** The items element's max_items: the newest N (§6.5.7). */
  maxItems?: number;
  /** XEP-0059 paging. */
  rsm?: ItemQuery;
  /**
   * Payload bytes (UTF-8) of the answer at most, by ids or by page (with `rsm.maxBytes`, the
   * smaller one): the store stops before the item that would bring the answer over it, and
   * answers one item at least (see ItemStore). The page is only shorter: `count` and the RSM
   * anchors keep their meaning.
   */
  maxBytes?: number;
}

export async function getItems(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  req: GetItemsRequest = {},
): Promise<Outcome<ItemPage>> {
  const node = asView(await requireNode(ctx, ref));
  await check(ctx, "retrieve-items", node, actor);
  const budgets = [req.maxBytes, req.rsm?.maxBytes].filter((b): b is number => b !== undefined);
  const maxBytes = budgets.length > 0 ? Math.min(...budgets) : undefined;
  if (req.ids && req.ids.length > 0) {
    const items = await ctx.tx.getItems(node, req.ids, maxBytes === undefined ? {} : { maxBytes });
    return {
      result: { items, count: items.length, ...(items.length ? { firstIndex: 0 } : {}) },
      events: [],
    };
  }
  const limits = [req.maxItems, req.rsm?.max].filter((m): m is number => m !== undefined);
  if (limits.some((m) => !Number.isInteger(m) || m < 0)) {
    throw new PubsubError("bad-request", { text: "max must be a whole number" });
  }
  const query: ItemQuery = { ...req.rsm };
  if (limits.length > 0) query.max = Math.min(...limits);
  if (maxBytes !== undefined) query.maxBytes = maxBytes;
  const page = await ctx.tx.listItems(node, query);
  if (!page)
    throw new PubsubError("item-not-found", { text: "the paging anchor item does not exist" });
  return { result: page, events: [] };
}

/** What XEP-0030 shows one asker of a node. */
export interface NodeDiscovery {
  node: NodeRecord;
  /** The newest item ids (§5.5), empty when the asker may not retrieve the items. */
  itemIds: string[];
}

/**
 * §5.3–§5.5 the node as disco shows it to `actor`, decided by the policy like any request:
 * undefined when the node does not exist or the actor may not "discover" it (banned by the
 * owner or the operator: the node looks absent); the newest `maxItemIds` item ids, read without
 * their payloads, only when the actor may "retrieve-items". A disco answer refuses nothing, so
 * nothing is counted.
 */
export async function discoverNode(
  ctx: CoreContext,
  actor: string,
  ref: NodeRef,
  maxItemIds = 0,
): Promise<Outcome<NodeDiscovery | undefined>> {
  const record = await ctx.tx.getNode(ref);
  if (!record) return { result: undefined, events: [] };
  const node = asView(record);
  if ((await verdictFor(ctx, "discover", node, actor)).kind === "refuse") {
    return { result: undefined, events: [] };
  }
  const readable = (await verdictFor(ctx, "retrieve-items", node, actor)).kind !== "refuse";
  const itemIds = readable && maxItemIds > 0 ? await ctx.tx.listItemIds(node, maxItemIds) : [];
  return { result: { node: record, itemIds }, events: [] };
}
