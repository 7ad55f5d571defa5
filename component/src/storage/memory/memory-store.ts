/**
 * In-memory PubsubStore for fast unit tests. Same contract as the SQLite store (the contract
 * suite runs against both). Transactions snapshot the state and restore it on a throw.
 */
import { bareJid as bareOf, domainOf } from "../../domain/jid.js";
import type { PubsubStore } from "../../domain/ports.js";
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
} from "../../domain/types.js";
import { pageNewestFirst } from "../paging.js";

interface State {
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

function emptyState(): State {
  return {
    seq: 0,
    nodes: new Map(),
    items: new Map(),
    subs: new Map(),
    affs: new Map(),
    counters: new Map(),
    requests: [],
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
  private s: State = emptyState();

  transaction<T>(fn: () => T): T {
    const snapshot = clone(this.s);
    try {
      return fn();
    } catch (err) {
      this.s = snapshot;
      throw err;
    }
  }

  // ── nodes ──
  getNode(ref: NodeRef): NodeRecord | undefined {
    const n = this.s.nodes.get(key(ref));
    return n && clone(n);
  }
  createNode(node: NodeRecord): void {
    this.s.nodes.set(key(node), clone(node));
  }
  updateNodeConfig(ref: NodeRef, config: NodeConfig): void {
    const n = this.s.nodes.get(key(ref));
    if (n) n.config = clone(config);
  }
  deleteNode(ref: NodeRef): void {
    const k = key(ref);
    this.s.nodes.delete(k);
    this.s.items.delete(k);
    this.s.subs.delete(k);
    this.s.affs.delete(k);
  }
  listNodes(service?: string): NodeRecord[] {
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
  upsertItem(ref: NodeRef, item: NewItem): Item {
    const items = bucket(this.s.items, ref);
    const old = items.get(item.id);
    this.s.seq += 1;
    const stored: Item = { ...item, createdAt: old?.createdAt ?? item.createdAt, seq: this.s.seq };
    items.set(item.id, stored);
    return clone(stored);
  }
  getItems(ref: NodeRef, ids: readonly string[]): Item[] {
    return this.newestFirst(ref)
      .filter((i) => ids.includes(i.id))
      .map(clone);
  }
  listItems(ref: NodeRef, query: ItemQuery): ItemPage | undefined {
    const page = pageNewestFirst(this.newestFirst(ref), query);
    return page && { ...page, items: page.items.map(clone) };
  }
  listItemIds(ref: NodeRef, max: number): string[] {
    return this.newestFirst(ref)
      .slice(0, Math.max(0, max))
      .map((i) => i.id);
  }
  getLastItem(ref: NodeRef): Item | undefined {
    const last = this.newestFirst(ref)[0];
    return last && clone(last);
  }
  countItems(ref: NodeRef): number {
    return this.s.items.get(key(ref))?.size ?? 0;
  }
  deleteItems(ref: NodeRef, ids: readonly string[]): string[] {
    const items = this.s.items.get(key(ref));
    if (!items) return [];
    return ids.filter((id) => items.delete(id));
  }
  trimItems(ref: NodeRef, keep: number): string[] {
    const doomed = this.newestFirst(ref).slice(Math.max(0, keep)).reverse();
    const items = this.s.items.get(key(ref));
    for (const i of doomed) items?.delete(i.id);
    return doomed.map((i) => i.id);
  }
  purgeItems(ref: NodeRef): number {
    const n = this.countItems(ref);
    this.s.items.delete(key(ref));
    return n;
  }

  // ── subscriptions ──
  getSubscription(ref: NodeRef, jid: string): Subscription | undefined {
    const sub = this.s.subs.get(key(ref))?.get(jid);
    return sub && clone(sub);
  }
  putSubscription(sub: Subscription): void {
    bucket(this.s.subs, sub).set(sub.jid, clone(sub));
  }
  deleteSubscription(ref: NodeRef, jid: string): boolean {
    return this.s.subs.get(key(ref))?.delete(jid) ?? false;
  }
  listNodeSubscriptions(ref: NodeRef, state?: Subscription["state"]): Subscription[] {
    return [...(this.s.subs.get(key(ref))?.values() ?? [])]
      .filter((s) => state === undefined || s.state === state)
      .sort(byCreated)
      .map(clone);
  }
  private allSubscriptions(): Subscription[] {
    return [...this.s.subs.values()].flatMap((m) => [...m.values()]);
  }
  listSubscriptionsOf(service: string, bareJid: string, node?: string): Subscription[] {
    return this.allSubscriptions()
      .filter((s) => s.service === service && (node === undefined || s.node === node))
      .filter((s) => bareOf(s.jid) === bareJid)
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : byCreated(a, b)))
      .map(clone);
  }
  countPending(ref: NodeRef, domain?: string): number {
    return this.listNodeSubscriptions(ref, "pending").filter(
      (s) => domain === undefined || domainOf(s.jid) === domain,
    ).length;
  }
  listPendingCreatedBefore(createdBefore: number): Subscription[] {
    return this.allSubscriptions()
      .filter((s) => s.state === "pending" && s.createdAt < createdBefore)
      .sort(byCreated)
      .map(clone);
  }

  // ── affiliations ──
  getAffiliation(ref: NodeRef, entity: string): Affiliation {
    return this.s.affs.get(key(ref))?.get(entity) ?? "none";
  }
  setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): void {
    if (affiliation === "none") this.s.affs.get(key(ref))?.delete(entity);
    else bucket(this.s.affs, ref).set(entity, affiliation);
  }
  listNodeAffiliations(ref: NodeRef): AffiliationEntry[] {
    return [...(this.s.affs.get(key(ref))?.entries() ?? [])]
      .map(([entity, affiliation]) => ({
        service: ref.service,
        node: ref.node,
        entity,
        affiliation,
      }))
      .sort((a, b) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0));
  }
  listAffiliationsOf(service: string, entity: string): AffiliationEntry[] {
    return [...this.s.nodes.values()]
      .filter((n) => n.service === service)
      .map((n) => ({ service, node: n.node, entity, affiliation: this.getAffiliation(n, entity) }))
      .filter((e) => e.affiliation !== "none")
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  // ── counters and request log ──
  incrementCounter(name: string, by = 1): void {
    this.s.counters.set(name, (this.s.counters.get(name) ?? 0) + by);
  }
  getCounters(): Record<string, number> {
    return Object.fromEntries(this.s.counters);
  }
  recordRequest(domain: string, requester: string, at: number): void {
    this.s.requests.push({ domain, requester, at });
  }
  countRequesterRequestsSince(requester: string, since: number): number {
    return this.s.requests.filter((r) => r.requester === requester && r.at >= since).length;
  }
  countRequestsSince(domain: string, since: number): number {
    return this.s.requests.filter((r) => r.domain === domain && r.at >= since).length;
  }
  pruneRequests(before: number): void {
    this.s.requests = this.s.requests.filter((r) => r.at >= before);
  }
}
