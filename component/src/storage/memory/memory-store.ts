/**
 * In-memory PubsubStore for fast unit tests, with the contract of the SQLite store (the
 * contract suite runs against both). Transactions are serialised like SQLite's (one after the
 * other, in call order) and copy-on-write: a transaction works on a copy of the state, which
 * replaces the state when its fn resolves and is dropped when it throws.
 */
import { bareJid as bareOf, domainOf } from "../../domain/jid.js";
import type { PubsubStore, PubsubTx } from "../../domain/ports.js";
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
} from "../../domain/types.js";
import { newestWithin, pageNewestFirst } from "../paging.js";
import { emptyTimelineState, MemoryTimelineTx, type TimelineState } from "./timeline-memory.js";

/** Everything the memory store holds (following and timelines: TimelineState). */
export interface MemoryState extends TimelineState {
  seq: number;
  nodes: Map<string, NodeRecord>;
  items: Map<string, Map<string, Item>>;
  subs: Map<string, Map<string, Subscription>>;
  affs: Map<string, Map<string, Affiliation>>;
  counters: Map<string, number>;
  requests: { domain: string; requester: string; at: number }[];
}

const key = (ref: NodeRef): string => `${ref.service}\u0000${ref.node}`;
const clone = <T>(v: T): T => structuredClone(v);
const byCreated = (a: Subscription, b: Subscription) =>
  a.createdAt - b.createdAt || (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

function emptyState(): MemoryState {
  return {
    seq: 0,
    nodes: new Map(),
    items: new Map(),
    subs: new Map(),
    affs: new Map(),
    counters: new Map(),
    requests: [],
    ...emptyTimelineState(),
  };
}

function bucket<V>(map: Map<string, Map<string, V>>, ref: NodeRef): Map<string, V> {
  const k = key(ref);
  let b = map.get(k);
  if (!b) {
    b = new Map();
    map.set(k, b);
  }
  return b;
}

export class MemoryStore implements PubsubStore {
  private state: MemoryState = emptyState();
  /** Settles when the last queued transaction has. */
  private tail: Promise<unknown> = Promise.resolve();
  private closing = false;

  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error("the store is closed"));
    const run = this.tail.then(() => this.runOne(fn));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Waits for the queued transactions (new ones are refused). */
  async close(): Promise<void> {
    this.closing = true;
    await this.tail;
  }

  /** The tx of one transaction over `state`; tests override it to make a step fail. */
  protected createTx(state: MemoryState): MemoryTx {
    return new MemoryTx(state);
  }

  private async runOne<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    const working = clone(this.state);
    const tx = this.createTx(working);
    try {
      const value = await fn(tx);
      this.state = working;
      return value;
    } finally {
      tx.finish();
    }
  }
}

/** One transaction's view of the memory store: reads and writes its working copy. */
export class MemoryTx extends MemoryTimelineTx implements PubsubTx {
  constructor(private working: MemoryState | undefined) {
    super();
  }

  /** Called by the store when the transaction ends: the tx is unusable from then on. */
  finish(): void {
    this.working = undefined;
  }

  protected override get s(): MemoryState {
    if (!this.working) throw new Error("this transaction has ended; use the tx of the current one");
    return this.working;
  }

  // ── nodes ──
  async getNode(ref: NodeRef): Promise<NodeRecord | undefined> {
    const n = this.s.nodes.get(key(ref));
    return n && clone(n);
  }
  async createNode(node: NodeRecord): Promise<void> {
    this.s.nodes.set(key(node), clone(node));
  }
  async updateNodeConfig(ref: NodeRef, config: NodeConfig): Promise<void> {
    const n = this.s.nodes.get(key(ref));
    if (n) n.config = clone(config);
  }
  async deleteNode(ref: NodeRef): Promise<void> {
    const k = key(ref);
    this.s.nodes.delete(k);
    this.s.items.delete(k);
    this.s.subs.delete(k);
    this.s.affs.delete(k);
  }
  async listNodes(service?: string): Promise<NodeRecord[]> {
    const order = (n: NodeRecord) => `${n.service}\u0000${n.node}`;
    return [...this.s.nodes.values()]
      .filter((n) => service === undefined || n.service === service)
      .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
      .map(clone);
  }

  // ── items ──
  private newestFirst(ref: NodeRef): Item[] {
    return [...(this.s.items.get(key(ref))?.values() ?? [])].sort((a, b) => b.seq - a.seq);
  }
  async upsertItem(ref: NodeRef, item: NewItem): Promise<Item> {
    const items = bucket(this.s.items, ref);
    const old = items.get(item.id);
    this.s.seq += 1;
    const stored: Item = { ...item, createdAt: old?.createdAt ?? item.createdAt, seq: this.s.seq };
    items.set(item.id, stored);
    return clone(stored);
  }
  async getItems(
    ref: NodeRef,
    ids: readonly string[],
    options: ItemReadOptions = {},
  ): Promise<Item[]> {
    const found = this.newestFirst(ref).filter((i) => ids.includes(i.id));
    return newestWithin(found, options.maxBytes).map(clone);
  }
  async listItems(ref: NodeRef, query: ItemQuery): Promise<ItemPage | undefined> {
    const page = pageNewestFirst(this.newestFirst(ref), query);
    return page && { ...page, items: page.items.map(clone) };
  }
  async listItemIds(ref: NodeRef, max: number): Promise<string[]> {
    return this.newestFirst(ref)
      .slice(0, Math.max(0, max))
      .map((i) => i.id);
  }
  async getLastItem(ref: NodeRef): Promise<Item | undefined> {
    const last = this.newestFirst(ref)[0];
    return last && clone(last);
  }
  async countItems(ref: NodeRef): Promise<number> {
    return this.s.items.get(key(ref))?.size ?? 0;
  }
  async deleteItems(ref: NodeRef, ids: readonly string[]): Promise<string[]> {
    const items = this.s.items.get(key(ref));
    if (!items) return [];
    return ids.filter((id) => items.delete(id));
  }
  async trimItems(ref: NodeRef, keep: number): Promise<string[]> {
    const doomed = this.newestFirst(ref).slice(Math.max(0, keep)).reverse();
    const items = this.s.items.get(key(ref));
    for (const i of doomed) items?.delete(i.id);
    return doomed.map((i) => i.id);
  }
  async purgeItems(ref: NodeRef): Promise<number> {
    const n = this.s.items.get(key(ref))?.size ?? 0;
    this.s.items.delete(key(ref));
    return n;
  }

  // ── subscriptions ──
  async getSubscription(ref: NodeRef, jid: string): Promise<Subscription | undefined> {
    const sub = this.s.subs.get(key(ref))?.get(jid);
    return sub && clone(sub);
  }
  async putSubscription(sub: Subscription): Promise<void> {
    bucket(this.s.subs, sub).set(sub.jid, clone(sub));
  }
  async deleteSubscription(ref: NodeRef, jid: string): Promise<boolean> {
    return this.s.subs.get(key(ref))?.delete(jid) ?? false;
  }
  async listNodeSubscriptions(
    ref: NodeRef,
    state?: Subscription["state"],
  ): Promise<Subscription[]> {
    return this.nodeSubscriptions(ref, state).map(clone);
  }
  async pageNodeSubscriptions(
    ref: NodeRef,
    state: Subscription["state"],
    after: SubscriptionCursor | undefined,
    limit: number,
  ): Promise<Subscription[]> {
    const later = (s: Subscription) =>
      !after ||
      s.createdAt > after.createdAt ||
      (s.createdAt === after.createdAt && s.jid > after.jid);
    return this.nodeSubscriptions(ref, state).filter(later).slice(0, limit).map(clone);
  }
  private nodeSubscriptions(ref: NodeRef, state?: Subscription["state"]): Subscription[] {
    return [...(this.s.subs.get(key(ref))?.values() ?? [])]
      .filter((s) => state === undefined || s.state === state)
      .sort(byCreated);
  }
  private allSubscriptions(): Subscription[] {
    return [...this.s.subs.values()].flatMap((m) => [...m.values()]);
  }
  async listSubscriptionsOf(
    service: string,
    bareJid: string,
    node?: string,
  ): Promise<Subscription[]> {
    return this.allSubscriptions()
      .filter((s) => s.service === service && (node === undefined || s.node === node))
      .filter((s) => bareOf(s.jid) === bareJid)
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : byCreated(a, b)))
      .map(clone);
  }
  async countPending(ref: NodeRef, domain?: string): Promise<number> {
    return this.nodeSubscriptions(ref, "pending").filter(
      (s) => domain === undefined || domainOf(s.jid) === domain,
    ).length;
  }
  async listPendingCreatedBefore(createdBefore: number): Promise<Subscription[]> {
    return this.allSubscriptions()
      .filter((s) => s.state === "pending" && s.createdAt < createdBefore)
      .sort(byCreated)
      .map(clone);
  }

  // ── affiliations ──
  async getAffiliation(ref: NodeRef, entity: string): Promise<Affiliation> {
    return this.affiliationOf(ref, entity);
  }
  private affiliationOf(ref: NodeRef, entity: string): Affiliation {
    return this.s.affs.get(key(ref))?.get(entity) ?? "none";
  }
  async setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): Promise<void> {
    if (affiliation === "none") this.s.affs.get(key(ref))?.delete(entity);
    else bucket(this.s.affs, ref).set(entity, affiliation);
  }
  async listNodeAffiliations(ref: NodeRef): Promise<AffiliationEntry[]> {
    return [...(this.s.affs.get(key(ref))?.entries() ?? [])]
      .map(([entity, affiliation]) => ({
        service: ref.service,
        node: ref.node,
        entity,
        affiliation,
      }))
      .sort((a, b) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0));
  }
  async listAffiliationsOf(service: string, entity: string): Promise<AffiliationEntry[]> {
    return [...this.s.nodes.values()]
      .filter((n) => n.service === service)
      .map((n) => ({ service, node: n.node, entity, affiliation: this.affiliationOf(n, entity) }))
      .filter((e) => e.affiliation !== "none")
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  // ── counters and request log ──
  async incrementCounter(name: string, by = 1): Promise<void> {
    this.s.counters.set(name, (this.s.counters.get(name) ?? 0) + by);
  }
  async getCounters(): Promise<Record<string, number>> {
    return Object.fromEntries(this.s.counters);
  }
  async recordRequest(domain: string, requester: string, at: number): Promise<void> {
    this.s.requests.push({ domain, requester, at });
  }
  async countRequesterRequestsSince(requester: string, since: number): Promise<number> {
    return this.s.requests.filter((r) => r.requester === requester && r.at >= since).length;
  }
  async countRequestsSince(domain: string, since: number): Promise<number> {
    return this.s.requests.filter((r) => r.domain === domain && r.at >= since).length;
  }
  async pruneRequests(before: number): Promise<void> {
    this.s.requests = this.s.requests.filter((r) => r.at >= before);
  }
}
