/**
 * PubsubStore on SQLite (better-sqlite3): prepared statements made once, schema in
 * schemas/sql/002_pubsub.sql. `transaction` is better-sqlite3's (nested calls are savepoints).
 */
import type Database from "better-sqlite3";
import { bareJid, domainOf } from "../../domain/jid.js";
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
import { prepareStatements, type Statements } from "./statements.js";

interface NodeRow {
  service: string;
  node: string;
  owner: string;
  config: string;
  created: number;
}
interface ItemRow {
  seq: number;
  item_id: string;
  payload: string;
  publisher: string;
  created: number;
  updated: number;
}
interface SubRow {
  service: string;
  node: string;
  jid: string;
  subid: string;
  state: Subscription["state"];
  created: number;
  options: string | null;
}
interface AffRow {
  service: string;
  node: string;
  entity: string;
  affiliation: Affiliation;
}

const toNode = (r: NodeRow): NodeRecord => ({
  service: r.service,
  node: r.node,
  owner: r.owner,
  config: JSON.parse(r.config) as NodeConfig,
  createdAt: r.created,
});
const toItem = (r: ItemRow): Item => ({
  id: r.item_id,
  payload: r.payload,
  publisher: r.publisher,
  createdAt: r.created,
  updatedAt: r.updated,
  seq: r.seq,
});
const toSub = (r: SubRow): Subscription => ({
  service: r.service,
  node: r.node,
  jid: r.jid,
  subid: r.subid,
  state: r.state,
  createdAt: r.created,
  ...(r.options === null ? {} : { options: JSON.parse(r.options) as Record<string, string> }),
});
const toAff = (r: AffRow): AffiliationEntry => ({ ...r });

/** SQLite's "no limit". */
const NO_LIMIT = -1;

export class SqliteStore implements PubsubStore {
  private readonly q: Statements;

  /** `db` must be migrated (openDatabase does it). The store does not close it. */
  constructor(private readonly db: Database.Database) {
    this.q = prepareStatements(db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ── nodes ──
  getNode(ref: NodeRef): NodeRecord | undefined {
    const row = this.q.getNode.get(ref.service, ref.node) as NodeRow | undefined;
    return row && toNode(row);
  }
  createNode(n: NodeRecord): void {
    this.q.insertNode.run(n.service, n.node, n.owner, JSON.stringify(n.config), n.createdAt);
  }
  updateNodeConfig(ref: NodeRef, config: NodeConfig): void {
    this.q.updateNodeConfig.run(JSON.stringify(config), ref.service, ref.node);
  }
  deleteNode(ref: NodeRef): void {
    this.q.deleteNode.run(ref.service, ref.node);
  }
  listNodes(service?: string): NodeRecord[] {
    const rows = service === undefined ? this.q.listAllNodes.all() : this.q.listNodes.all(service);
    return (rows as NodeRow[]).map(toNode);
  }

  // ── items ──
  upsertItem(ref: NodeRef, item: NewItem): Item {
    return this.transaction(() => {
      const old = this.q.getItemCreated.get(ref.service, ref.node, item.id) as
        | { created: number }
        | undefined;
      if (old) this.q.deleteItem.run(ref.service, ref.node, item.id);
      const created = old?.created ?? item.createdAt;
      const { lastInsertRowid } = this.q.insertItem.run(
        ref.service,
        ref.node,
        item.id,
        item.payload,
        item.publisher,
        created,
        item.updatedAt,
      );
      return { ...item, createdAt: created, seq: Number(lastInsertRowid) };
    });
  }
  getItems(ref: NodeRef, ids: readonly string[]): Item[] {
    if (ids.length === 0) return [];
    const rows = this.q.getItemsByIds.all(ref.service, ref.node, JSON.stringify(ids)) as ItemRow[];
    return rows.map(toItem);
  }
  listItems(ref: NodeRef, query: ItemQuery): ItemPage | undefined {
    const { service, node } = ref;
    const max = query.max ?? NO_LIMIT;
    let rows: ItemRow[];
    if (query.after !== undefined) {
      const anchor = this.seqOf(ref, query.after);
      if (anchor === undefined) return undefined;
      rows = this.q.listOlder.all(service, node, anchor, max) as ItemRow[];
    } else if (query.before !== undefined) {
      const anchor = query.before === "" ? 0 : this.seqOf(ref, query.before);
      if (anchor === undefined) return undefined;
      rows = (this.q.listNewerAscending.all(service, node, anchor, max) as ItemRow[]).reverse();
    } else {
      rows = this.q.listNewest.all(service, node, max) as ItemRow[];
    }
    const count = this.countItems(ref);
    const first = rows[0];
    if (!first) return { items: [], count };
    const { n } = this.q.countNewerThan.get(service, node, first.seq) as { n: number };
    return { items: rows.map(toItem), count, firstIndex: n };
  }
  listItemIds(ref: NodeRef, max: number): string[] {
    const rows = this.q.listNewestIds.all(ref.service, ref.node, Math.max(0, max)) as {
      item_id: string;
    }[];
    return rows.map((r) => r.item_id);
  }
  private seqOf(ref: NodeRef, id: string): number | undefined {
    const row = this.q.getItemSeq.get(ref.service, ref.node, id) as { seq: number } | undefined;
    return row?.seq;
  }
  getLastItem(ref: NodeRef): Item | undefined {
    const row = this.q.listNewest.get(ref.service, ref.node, 1) as ItemRow | undefined;
    return row && toItem(row);
  }
  countItems(ref: NodeRef): number {
    return (this.q.countItems.get(ref.service, ref.node) as { n: number }).n;
  }
  deleteItems(ref: NodeRef, ids: readonly string[]): string[] {
    return this.transaction(() =>
      ids.filter((id) => this.q.deleteItem.run(ref.service, ref.node, id).changes > 0),
    );
  }
  trimItems(ref: NodeRef, keep: number): string[] {
    return this.transaction(() => {
      const doomed = this.q.listBeyond.all(ref.service, ref.node, Math.max(0, keep)) as {
        item_id: string;
      }[];
      for (const d of doomed) this.q.deleteItem.run(ref.service, ref.node, d.item_id);
      return doomed.map((d) => d.item_id).reverse();
    });
  }
  purgeItems(ref: NodeRef): number {
    return this.q.purgeItems.run(ref.service, ref.node).changes;
  }

  // ── subscriptions ──
  getSubscription(ref: NodeRef, jid: string): Subscription | undefined {
    const row = this.q.getSub.get(ref.service, ref.node, jid) as SubRow | undefined;
    return row && toSub(row);
  }
  putSubscription(s: Subscription): void {
    const options = s.options === undefined ? null : JSON.stringify(s.options);
    const bare = bareJid(s.jid);
    this.q.putSub.run(
      s.service,
      s.node,
      s.jid,
      bare,
      domainOf(bare),
      s.subid,
      s.state,
      s.createdAt,
      options,
    );
  }
  deleteSubscription(ref: NodeRef, jid: string): boolean {
    return this.q.deleteSub.run(ref.service, ref.node, jid).changes > 0;
  }
  listNodeSubscriptions(ref: NodeRef, state?: Subscription["state"]): Subscription[] {
    const rows = state
      ? this.q.listSubsInState.all(ref.service, ref.node, state)
      : this.q.listSubs.all(ref.service, ref.node);
    return (rows as SubRow[]).map(toSub);
  }
  listSubscriptionsOf(service: string, bare: string, node?: string): Subscription[] {
    const rows =
      node === undefined
        ? this.q.listSubsOf.all(service, bare)
        : this.q.listSubsOfAtNode.all(service, bare, node);
    return (rows as SubRow[]).map(toSub);
  }
  countPending(ref: NodeRef, domain?: string): number {
    const row =
      domain === undefined
        ? this.q.countPending.get(ref.service, ref.node)
        : this.q.countPendingFromDomain.get(ref.service, ref.node, domain);
    return (row as { n: number }).n;
  }
  listPendingCreatedBefore(createdBefore: number): Subscription[] {
    return (this.q.listPendingBefore.all(createdBefore) as SubRow[]).map(toSub);
  }

  // ── affiliations ──
  getAffiliation(ref: NodeRef, entity: string): Affiliation {
    const row = this.q.getAff.get(ref.service, ref.node, entity) as AffRow | undefined;
    return row?.affiliation ?? "none";
  }
  setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): void {
    if (affiliation === "none") this.q.deleteAff.run(ref.service, ref.node, entity);
    else this.q.putAff.run(ref.service, ref.node, entity, affiliation);
  }
  listNodeAffiliations(ref: NodeRef): AffiliationEntry[] {
    return (this.q.listAffs.all(ref.service, ref.node) as AffRow[]).map(toAff);
  }
  listAffiliationsOf(service: string, entity: string): AffiliationEntry[] {
    return (this.q.listAffsOf.all(service, entity) as AffRow[]).map(toAff);
  }

  // ── counters and request log ──
  incrementCounter(name: string, by = 1): void {
    this.q.incrementCounter.run(name, by);
  }
  getCounters(): Record<string, number> {
    const rows = this.q.listCounters.all() as { name: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
  recordRequest(domain: string, requester: string, at: number): void {
    this.q.insertRequest.run(domain, requester, at);
  }
  countRequesterRequestsSince(requester: string, since: number): number {
    return (this.q.countRequesterRequestsSince.get(requester, since) as { n: number }).n;
  }
  countRequestsSince(domain: string, since: number): number {
    return (this.q.countRequestsSince.get(domain, since) as { n: number }).n;
  }
  pruneRequests(before: number): void {
    this.q.pruneRequests.run(before);
  }
}
