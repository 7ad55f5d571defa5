/**
 * The PubsubTx of the PostgreSQL store: the statements of statements.ts on the one client that
 * PostgresStore opened a SERIALIZABLE transaction on (one job of a batch, inside the job's
 * savepoint). A tx is good for one attempt of one job only: once the job has ended, every
 * method rejects. It keeps the first error a statement failed with (`failure`): after it
 * PostgreSQL refuses the rest of the transaction, so the store rolls the job back to its
 * savepoint even when its fn caught that error and returned.
 */
import type { PoolClient, QueryResult, QueryResultRow } from "pg";
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
import { SQL, type StatementName } from "./statements.js";
import { PostgresTimelineTx } from "./timeline-tx.js";

// BIGINT columns and COUNT(*) arrive as numbers (the pool's type parser); JSONB as objects.
type NodeRow = Rows.NodeRow<NodeConfig>;
type SubRow = Rows.SubRow<Record<string, string>>;
const { toNode, toSub } = Rows.rowMappers((column: unknown) => column);

/** One attempt of one transaction on PostgreSQL (following and timelines: PostgresTimelineTx). */
export class PostgresTx extends PostgresTimelineTx implements PubsubTx {
  private client: PoolClient | undefined;
  /** The first error a statement of this tx failed with, if any. */
  failure: unknown;

  constructor(client: PoolClient) {
    super();
    this.client = client;
  }

  /** Called by the store when the job has ended (before its savepoint is released). */
  finish(): void {
    this.client = undefined;
  }

  protected override async rows<R extends QueryResultRow>(
    name: StatementName,
    values: unknown[],
  ): Promise<R[]> {
    return (await this.query<R>(name, values)).rows;
  }
  protected override async run(name: StatementName, values: unknown[]): Promise<number> {
    return (await this.query(name, values)).rowCount ?? 0;
  }
  private async query<R extends QueryResultRow>(
    name: StatementName,
    values: unknown[],
  ): Promise<QueryResult<R>> {
    if (!this.client) throw new Error("this transaction has ended; use the tx of the current one");
    try {
      return await this.client.query<R>({ name, text: SQL[name], values });
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }
  protected override async count(name: StatementName, values: unknown[]): Promise<number> {
    const [row] = await this.rows<Count>(name, values);
    return row?.n ?? 0;
  }

  // ── nodes ──
  async getNode(ref: NodeRef): Promise<NodeRecord | undefined> {
    const [row] = await this.rows<NodeRow>("getNode", [ref.service, ref.node]);
    return row && toNode(row);
  }
  async createNode(n: NodeRecord): Promise<void> {
    await this.run("insertNode", [
      n.service,
      n.node,
      n.owner,
      JSON.stringify(n.config),
      n.createdAt,
    ]);
  }
  async updateNodeConfig(ref: NodeRef, config: NodeConfig): Promise<void> {
    await this.run("updateNodeConfig", [ref.service, ref.node, JSON.stringify(config)]);
  }
  async deleteNode(ref: NodeRef): Promise<void> {
    await this.run("deleteNode", [ref.service, ref.node]);
  }
  async listNodes(service?: string): Promise<NodeRecord[]> {
    const rows =
      service === undefined
        ? await this.rows<NodeRow>("listAllNodes", [])
        : await this.rows<NodeRow>("listNodes", [service]);
    return rows.map(toNode);
  }

  // ── items ──
  async upsertItem(ref: NodeRef, item: NewItem): Promise<Item> {
    const { id, payload, publisher, createdAt, updatedAt } = item;
    const [row] = await this.rows<{ seq: number; created: number }>("upsertItem", [
      ref.service,
      ref.node,
      id,
      payload,
      publisher,
      createdAt,
      updatedAt,
    ]);
    if (!row) throw new Error("the item upsert returned no row");
    return { ...item, createdAt: row.created, seq: row.seq };
  }
  async getItems(
    ref: NodeRef,
    ids: readonly string[],
    options: ItemReadOptions = {},
  ): Promise<Item[]> {
    if (ids.length === 0) return [];
    const values = [ref.service, ref.node, [...ids]];
    const rows =
      options.maxBytes === undefined
        ? await this.rows<ItemRow>("getItemsByIds", values)
        : await this.rows<ItemRow>("getItemsByIdsWithin", [...values, options.maxBytes]);
    return rows.map(toItem);
  }
  async listItems(ref: NodeRef, query: ItemQuery): Promise<ItemPage | undefined> {
    const rows = await this.pageRows(ref, query);
    if (!rows) return undefined;
    const first = rows[0];
    const [counts] = await this.rows<{ n: number; newer: number }>("countAndNewer", [
      ref.service,
      ref.node,
      first?.seq ?? 0,
    ]);
    const count = counts?.n ?? 0;
    if (!first) return { items: [], count };
    return { items: rows.map(toItem), count, firstIndex: counts?.newer ?? 0 };
  }
  /**
   * The rows of one page, newest first; undefined for an unknown anchor. With a byte budget, one
   * statement reads the page's payload sizes and then the payloads of the rows kept only (from
   * the anchor outwards: newest first, or oldest first for `before`).
   */
  private async pageRows(ref: NodeRef, query: ItemQuery): Promise<ItemRow[] | undefined> {
    const at = [ref.service, ref.node];
    const max = query.max ?? null;
    const budget = query.maxBytes;
    const page = (name: "listNewest" | "listOlder" | "listNewerAscending", values: unknown[]) =>
      budget === undefined
        ? this.rows<ItemRow>(name, values)
        : this.rows<ItemRow>(`${name}Within` as const, [...values, budget]);
    if (query.after !== undefined) {
      const anchor = await this.seqOf(ref, query.after);
      if (anchor === undefined) return undefined;
      return page("listOlder", [...at, anchor, max]);
    }
    if (query.before !== undefined) {
      const anchor = query.before === "" ? 0 : await this.seqOf(ref, query.before);
      if (anchor === undefined) return undefined;
      return (await page("listNewerAscending", [...at, anchor, max])).reverse();
    }
    return page("listNewest", [...at, max]);
  }
  private async seqOf(ref: NodeRef, id: string): Promise<number | undefined> {
    const [row] = await this.rows<{ seq: number }>("getItemSeq", [ref.service, ref.node, id]);
    return row?.seq;
  }
  async listItemIds(ref: NodeRef, max: number): Promise<string[]> {
    const limit = Math.max(0, max);
    const rows = await this.rows<{ item_id: string }>("listNewestIds", [
      ref.service,
      ref.node,
      limit,
    ]);
    return rows.map((r) => r.item_id);
  }
  async getLastItem(ref: NodeRef): Promise<Item | undefined> {
    const [row] = await this.rows<ItemRow>("listNewest", [ref.service, ref.node, 1]);
    return row && toItem(row);
  }
  async countItems(ref: NodeRef): Promise<number> {
    return this.count("countItems", [ref.service, ref.node]);
  }
  async deleteItems(ref: NodeRef, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.rows<{ item_id: string }>("deleteItems", [
      ref.service,
      ref.node,
      [...ids],
    ]);
    // In the order asked, each id once (as the SQLite store answers).
    const deleted = new Set(rows.map((r) => r.item_id));
    return ids.filter((id) => deleted.delete(id));
  }
  async trimItems(ref: NodeRef, keep: number): Promise<string[]> {
    const rows = await this.rows<{ item_id: string; seq: number }>("trimItems", [
      ref.service,
      ref.node,
      Math.max(0, keep),
    ]);
    return rows.sort((a, b) => a.seq - b.seq).map((r) => r.item_id);
  }
  async purgeItems(ref: NodeRef): Promise<number> {
    return this.run("purgeItems", [ref.service, ref.node]);
  }

  // ── subscriptions ──
  async getSubscription(ref: NodeRef, jid: string): Promise<Subscription | undefined> {
    const [row] = await this.rows<SubRow>("getSub", [ref.service, ref.node, jid]);
    return row && toSub(row);
  }
  async putSubscription(s: Subscription): Promise<void> {
    const options = s.options === undefined ? null : JSON.stringify(s.options);
    const bare = bareJid(s.jid);
    const { service, node, jid, subid, state, createdAt } = s;
    await this.run("putSub", [
      service,
      node,
      jid,
      bare,
      domainOf(bare),
      subid,
      state,
      createdAt,
      options,
    ]);
  }
  async deleteSubscription(ref: NodeRef, jid: string): Promise<boolean> {
    return (await this.run("deleteSub", [ref.service, ref.node, jid])) > 0;
  }
  async listNodeSubscriptions(
    ref: NodeRef,
    state?: Subscription["state"],
  ): Promise<Subscription[]> {
    const rows = state
      ? await this.rows<SubRow>("listSubsInState", [ref.service, ref.node, state])
      : await this.rows<SubRow>("listSubs", [ref.service, ref.node]);
    return rows.map(toSub);
  }
  async pageNodeSubscriptions(
    ref: NodeRef,
    state: Subscription["state"],
    after: SubscriptionCursor | undefined,
    limit: number,
  ): Promise<Subscription[]> {
    const { service, node } = ref;
    const rows = after
      ? await this.rows<SubRow>("pageSubsInStateAfter", [
          service,
          node,
          state,
          after.createdAt,
          after.jid,
          limit,
        ])
      : await this.rows<SubRow>("pageSubsInState", [service, node, state, limit]);
    return rows.map(toSub);
  }
  async listSubscriptionsOf(service: string, bare: string, node?: string): Promise<Subscription[]> {
    const rows =
      node === undefined
        ? await this.rows<SubRow>("listSubsOf", [service, bare])
        : await this.rows<SubRow>("listSubsOfAtNode", [service, bare, node]);
    return rows.map(toSub);
  }
  async countPending(ref: NodeRef, domain?: string): Promise<number> {
    return domain === undefined
      ? this.count("countPending", [ref.service, ref.node])
      : this.count("countPendingFromDomain", [ref.service, ref.node, domain]);
  }
  async listPendingCreatedBefore(createdBefore: number): Promise<Subscription[]> {
    return (await this.rows<SubRow>("listPendingBefore", [createdBefore])).map(toSub);
  }

  // ── affiliations ──
  async getAffiliation(ref: NodeRef, entity: string): Promise<Affiliation> {
    const [row] = await this.rows<{ affiliation: Affiliation }>("getAff", [
      ref.service,
      ref.node,
      entity,
    ]);
    return row?.affiliation ?? "none";
  }
  async setAffiliation(ref: NodeRef, entity: string, affiliation: Affiliation): Promise<void> {
    if (affiliation === "none") await this.run("deleteAff", [ref.service, ref.node, entity]);
    else await this.run("putAff", [ref.service, ref.node, entity, affiliation]);
  }
  async listNodeAffiliations(ref: NodeRef): Promise<AffiliationEntry[]> {
    return this.rows<AffiliationEntry>("listAffs", [ref.service, ref.node]);
  }
  async listAffiliationsOf(service: string, entity: string): Promise<AffiliationEntry[]> {
    return this.rows<AffiliationEntry>("listAffsOf", [service, entity]);
  }

  // ── counters and request log ──
  async incrementCounter(name: string, by = 1): Promise<void> {
    await this.run("incrementCounter", [name, by]);
  }
  async getCounters(): Promise<Record<string, number>> {
    const rows = await this.rows<{ name: string; value: number }>("listCounters", []);
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
  async recordRequest(domain: string, requester: string, at: number): Promise<void> {
    await this.run("insertRequest", [domain, requester, at]);
  }
  async countRequesterRequestsSince(requester: string, since: number): Promise<number> {
    return this.count("countRequesterRequestsSince", [requester, since]);
  }
  async countRequestsSince(domain: string, since: number): Promise<number> {
    return this.count("countRequestsSince", [domain, since]);
  }
  async pruneRequests(before: number): Promise<void> {
    await this.run("pruneRequests", [before]);
  }
}
