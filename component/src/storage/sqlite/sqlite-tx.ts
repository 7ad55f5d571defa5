/**
 * The PubsubTx of the SQLite store: the prepared statements of statements.ts, run inside the
 * BEGIN IMMEDIATE … COMMIT that SqliteStore opened for it. better-sqlite3 is synchronous, so
 * each method does its work at once and returns a settled promise. A tx is good for one
 * transaction only: once it has ended, every method rejects.
 */
import type Database from "better-sqlite3";
import { bareJid, domainOf } from "../../domain/jid.js";
import type { PubsubTx } from "../../domain/ports.js";
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
import * as Rows from "../rows.js";
import { type Count, type ItemRow, toItem } from "../rows.js";
import type { Statements } from "./statements.js";
import { SqliteTimelineTx } from "./timeline-tx.js";

type NodeRow = Rows.NodeRow<string>;
type SubRow = Rows.SubRow<string>;
interface AffRow {
  service: string;
  node: string;
  entity: string;
  affiliation: Affiliation;
}

const { toNode, toSub } = Rows.rowMappers((column: string) => JSON.parse(column));
const toAff = (r: AffRow): AffiliationEntry => ({ ...r });

/**
 * The item rows of `statement`, in its order. With a budget the statement is iterated and left
 * as soon as the next row would bring the payloads' UTF-8 bytes over `maxBytes` (at least one
 * row is kept): leaving the loop resets the statement, so no row after that one is read.
 * It reads one payload beyond the page at most. Measured on 100-row pages of a 1,000-item
 * node against selecting octet_length(payload) first and then only the payloads kept: 0.9 vs
 * 0.7 ms with 60 KB payloads (reading the whole page: 23 ms), even at 8 KB, 10–40% faster at
 * 1 KB and below (one statement instead of two).
 */
function readRows(
  statement: Database.Statement,
  params: unknown[],
  maxBytes: number | undefined,
): ItemRow[] {
  if (maxBytes === undefined) return statement.all(...params) as ItemRow[];
  const kept: ItemRow[] = [];
  let bytes = 0;
  for (const row of statement.iterate(...params) as IterableIterator<ItemRow>) {
    bytes += Buffer.byteLength(row.payload, "utf8");
    if (kept.length > 0 && bytes > maxBytes) break;
    kept.push(row);
  }
  return kept;
}

/** SQLite's "no limit". */
const NO_LIMIT = -1;

/** One transaction's view of the SQLite store (following and timelines: SqliteTimelineTx). */
export class SqliteTx extends SqliteTimelineTx implements PubsubTx {
  private statements: Statements | undefined;

  constructor(statements: Statements) {
    super();
    this.statements = statements;
  }

  /** Called by the store when the transaction commits or rolls back. */
  finish(): void {
    this.statements = undefined;
  }

  protected override get q(): Statements {
    if (!this.statements)
      throw new Error("this transaction has ended; use the tx of the current one");
    return this.statements;
  }

  // ── nodes ──
  async getNode(ref: NodeRef): Promise<NodeRecord | undefined> {
    const row = this.q.getNode.get(ref.service, ref.node) as NodeRow | undefined;
    return row && toNode(row);
  }
  async createNode(n: NodeRecord): Promise<void> {
    this.q.insertNode.run(n.service, n.node, n.owner, JSON.stringify(n.config), n.createdAt);
  }
  async updateNodeConfig(ref: NodeRef, config: NodeConfig): Promise<void> {
    this.q.updateNodeConfig.run(JSON.stringify(config), ref.service, ref.node);
  }
  async deleteNode(ref: NodeRef): Promise<void> {
    this.q.deleteNode.run(ref.service, ref.node);
  }
  async listNodes(service?: string): Promise<NodeRecord[]> {
    const rows = service === undefined ? this.q.listAllNodes.all() : this.q.listNodes.all(service);
    return (rows as NodeRow[]).map(toNode);
  }

  // ── items ──
  async upsertItem(ref: NodeRef, item: NewItem): Promise<Item> {
    const { service, node } = ref;
    const old = this.q.getItemCreated.get(service, node, item.id) as
      | { created: number }
      | undefined;
    // Delete and re-insert: AUTOINCREMENT gives the replacement a new, highest seq.
    if (old) this.q.deleteItem.run(service, node, item.id);
    const created = old?.created ?? item.createdAt;
    const { payload, publisher, updatedAt } = item;
    const { lastInsertRowid } = this.q.insertItem.run(
      service,
      node,
      item.id,
      payload,
      publisher,
      created,
      updatedAt,
    );
    return { ...item, createdAt: created, seq: Number(lastInsertRowid) };
  }
  async getItems(
    ref: NodeRef,
    ids: readonly string[],
    options: ItemReadOptions = {},
  ): Promise<Item[]> {
    if (ids.length === 0) return [];
    const rows = readRows(
      this.q.getItemsByIds,
      [ref.service, ref.node, JSON.stringify(ids)],
      options.maxBytes,
    );
    return rows.map(toItem);
  }
  async listItems(ref: NodeRef, query: ItemQuery): Promise<ItemPage | undefined> {
    const rows = this.pageRows(ref, query);
    if (!rows) return undefined;
    const count = this.countOf(ref);
    const first = rows[0];
    if (!first) return { items: [], count };
    const { n } = this.q.countNewerThan.get(ref.service, ref.node, first.seq) as Count;
    return { items: rows.map(toItem), count, firstIndex: n };
  }
  /**
   * The rows of one page, newest first; undefined for an unknown anchor. The statement is read
   * from the anchor outwards (newest first, or oldest first for `before`) and left as soon as
   * the byte budget is reached, so at most one payload beyond the page is read.
   */
  private pageRows(ref: NodeRef, query: ItemQuery): ItemRow[] | undefined {
    const { service, node } = ref;
    const max = query.max ?? NO_LIMIT;
    const budget = query.maxBytes;
    if (query.after !== undefined) {
      const anchor = this.seqOf(ref, query.after);
      if (anchor === undefined) return undefined;
      return readRows(this.q.listOlder, [service, node, anchor, max], budget);
    }
    if (query.before !== undefined) {
      const anchor = query.before === "" ? 0 : this.seqOf(ref, query.before);
      if (anchor === undefined) return undefined;
      return readRows(this.q.listNewerAscending, [service, node, anchor, max], budget).reverse();
    }
    return readRows(this.q.listNewest, [service, node, max], budget);
  }
  private seqOf(ref: NodeRef, id: string): number | undefined {
    const row = this.q.getItemSeq.get(ref.service, ref.node, id) as { seq: number } | undefined;
    return row?.seq;
  }
  private countOf(ref: NodeRef): number {
    return (this.q.countItems.get(ref.service, ref.node) as Count).n;
  }
  async listItemIds(ref: NodeRef, max: number): Promise<string[]> {
    const rows = this.q.listNewestIds.all(ref.service, ref.node, Math.max(0, max)) as {
      item_id: string;
    }[];
    return rows.map((r) => r.item_id);
  }
  async getLastItem(ref: NodeRef): Promise<Item | undefined> {
    const row = this.q.listNewest.get(ref.service, ref.node, 1) as ItemRow | undefined;
    return row && toItem(row);
  }
  async countItems(ref: NodeRef): Promise<number> {
    return this.countOf(ref);
  }
  async deleteItems(ref: NodeRef, ids: readonly string[]): Promise<string[]> {
    return ids.filter((id) => this.q.deleteItem.run(ref.service, ref.node, id).changes > 0);
  }
  async trimItems(ref: NodeRef, keep: number): Promise<string[]> {
    const doomed = this.q.listBeyond.all(ref.service, ref.node, Math.max(0, keep)) as {
      item_id: string;
    }[];
    for (const d of doomed) this.q.deleteItem.run(ref.service, ref.node, d.item_id);
    return doomed.map((d) => d.item_id).reverse();
  }
  async purgeItems(ref: NodeRef): Promise<number> {
    return this.q.purgeItems.run(ref.service, ref.node).changes;
  }

  // ── subscriptions ──
  async getSubscription(ref: NodeRef, jid: string): Promise<Subscription | undefined> {
    const row = this.q.getSub.get(ref.service, ref.node, jid) as SubRow | undefined;
    return row && toSub(row);
  }
  async putSubscription(s: Subscription): Promise<void> {
    const options = s.options === undefined ? null : JSON.stringify(s.options);
    const bare = bareJid(s.jid);
    const { service, node, jid, subid, state, createdAt } = s;
    this.q.putSub.run(service, node, jid, bare, domainOf(bare), subid, state, createdAt, options);
  }
  async deleteSubscription(ref: NodeRef, jid: string): Promise<boolean> {
    return this.q.deleteSub.run(ref.service, ref.node, jid).changes > 0;
  }
  async listNodeSubscriptions(
    ref: NodeRef,
    state?: Subscription["state"],
  ): Promise<Subscription[]> {
    const rows = state
      ? this.q.listSubsInState.all(ref.service, ref.node, state)
      : this.q.listSubs.all(ref.service, ref.node);
    return (rows as SubRow[]).map(toSub);
  }
  async pageNodeSubscriptions(
    ref: NodeRef,
    state: Subscription["state"],
    after: SubscriptionCursor | undefined,
    limit: number,
  ): Promise<Subscription[]> {
    const rows = after
      ? this.q.pageSubsInStateAfter.all(
          ref.service,
          ref.node,
          state,
          after.createdAt,
          after.jid,
          limit,
        )
      : this.q.pageSubsInState.all(ref.service, ref.node, state, limit);
    return (rows as SubRow[]).map(toSub);
  }
  async listSubscriptionsOf(service: string, bare: string, node?: string): Promise<Subscription[]> {
    const rows =
      node === undefined
        ? this.q.listSubsOf.all(service, bare)
        : this.q.listSubsOfAtNode.all(service, bare, node);
    return (rows as SubRow[]).map(toSub);
  }
  async countPending(ref: NodeRef, domain?: string): Promise<number> {
    const row =
      domain === undefined
        ? this.q.countPending.get(ref.service, ref.node)
        : this.q.countPendingFromDomain.get(ref.service, ref.node, domain);
    return (row as Count).n;
  }
  async listPendingCreatedBefore(createdBefore: number): Promise<Subscription[]> {
    return (this.q.listPendingBefore.all(createdBefore) as SubRow[]).map(toSub);
  }

  // ── affiliations ──
  async getAffiliation(ref: NodeRef, entity: string): Promise<Affiliation> {
    const row = this.q.getAff.get(ref.service, ref.node, entity) as AffRow | undefined;
    return row?.affiliation ?? "none";
  }
  async setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): Promise<void> {
    if (affiliation === "none") this.q.deleteAff.run(ref.service, ref.node, entity);
    else this.q.putAff.run(ref.service, ref.node, entity, affiliation);
  }
  async listNodeAffiliations(ref: NodeRef): Promise<AffiliationEntry[]> {
    return (this.q.listAffs.all(ref.service, ref.node) as AffRow[]).map(toAff);
  }
  async listAffiliationsOf(service: string, entity: string): Promise<AffiliationEntry[]> {
    return (this.q.listAffsOf.all(service, entity) as AffRow[]).map(toAff);
  }

  // ── counters and request log ──
  async incrementCounter(name: string, by = 1): Promise<void> {
    this.q.incrementCounter.run(name, by);
  }
  async getCounters(): Promise<Record<string, number>> {
    const rows = this.q.listCounters.all() as { name: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
  async recordRequest(domain: string, requester: string, at: number): Promise<void> {
    this.q.insertRequest.run(domain, requester, at);
  }
  async countRequesterRequestsSince(requester: string, since: number): Promise<number> {
    return (this.q.countRequesterRequestsSince.get(requester, since) as Count).n;
  }
  async countRequestsSince(domain: string, since: number): Promise<number> {
    return (this.q.countRequestsSince.get(domain, since) as Count).n;
  }
  async pruneRequests(before: number): Promise<void> {
    this.q.pruneRequests.run(before);
  }
}
