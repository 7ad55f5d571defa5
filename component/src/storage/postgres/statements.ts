/**
 * Every SQL statement of the PostgreSQL store, by name. They run as named (server-side
 * prepared) statements, so each connection parses each one once.
 */
const ITEM_COLS = "seq, item_id, payload, publisher, created, updated";
const SUB_COLS = "service, node, jid, subid, state, created, options";
const NODE_COLS = "service, node, owner, config, created";
const AFF_COLS = "service, node, entity, affiliation";
const AT_NODE = "service = $1 AND node = $2";

/**
 * The items of `head` (a query of `seq, bytes` rows: the page without its payloads, bytes =
 * octet_length(payload), read from the TOAST header without detoasting), in `order`, until the
 * next one would bring the running sum of bytes over the budget `budget` (at least one): one
 * statement that reads only the payloads kept.
 */
const withinBudget = (head: string, order: "ASC" | "DESC", budget: string) => `
  WITH head AS (${head}),
  kept AS (
    SELECT seq FROM (
      SELECT seq, ROW_NUMBER() OVER w AS n, SUM(bytes) OVER w AS total FROM head
      WINDOW w AS (ORDER BY seq ${order} ROWS UNBOUNDED PRECEDING)
    ) AS running
    WHERE n = 1 OR total <= ${budget}
  )
  SELECT ${ITEM_COLS} FROM items WHERE seq = ANY (ARRAY(SELECT seq FROM kept)) ORDER BY seq ${order}`;
const HEAD_COLS = "seq, octet_length(payload) AS bytes";

export const SQL = {
  getNode: `SELECT ${NODE_COLS} FROM nodes WHERE ${AT_NODE}`,
  insertNode: `INSERT INTO nodes (${NODE_COLS}) VALUES ($1, $2, $3, $4, $5)`,
  updateNodeConfig: `UPDATE nodes SET config = $3 WHERE ${AT_NODE}`,
  deleteNode: `DELETE FROM nodes WHERE ${AT_NODE}`,
  listNodes: `SELECT ${NODE_COLS} FROM nodes WHERE service = $1 ORDER BY node`,
  listAllNodes: `SELECT ${NODE_COLS} FROM nodes ORDER BY service, node`,

  // A re-publication takes a new seq (it becomes the newest) and keeps `created`.
  upsertItem: `INSERT INTO items (service, node, item_id, payload, publisher, created, updated)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (service, node, item_id) DO UPDATE SET
      seq = nextval(pg_get_serial_sequence('items', 'seq')),
      payload = EXCLUDED.payload, publisher = EXCLUDED.publisher, updated = EXCLUDED.updated
    RETURNING seq, created`,
  getItemSeq: `SELECT seq FROM items WHERE ${AT_NODE} AND item_id = $3`,
  getItemsByIds: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND item_id = ANY ($3::text[]) ORDER BY seq DESC`,
  // LIMIT NULL is no limit.
  listNewest: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT $3`,
  listNewestIds: `SELECT item_id FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT $3`,
  listOlder: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND seq < $3 ORDER BY seq DESC LIMIT $4`,
  listNewerAscending: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND seq > $3 ORDER BY seq ASC LIMIT $4`,
  // The same within a payload byte budget (the last parameter; see withinBudget).
  getItemsByIdsWithin: withinBudget(
    `SELECT ${HEAD_COLS} FROM items WHERE ${AT_NODE} AND item_id = ANY ($3::text[])`,
    "DESC",
    "$4",
  ),
  listNewestWithin: withinBudget(
    `SELECT ${HEAD_COLS} FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT $3`,
    "DESC",
    "$4",
  ),
  listOlderWithin: withinBudget(
    `SELECT ${HEAD_COLS} FROM items WHERE ${AT_NODE} AND seq < $3 ORDER BY seq DESC LIMIT $4`,
    "DESC",
    "$5",
  ),
  listNewerAscendingWithin: withinBudget(
    `SELECT ${HEAD_COLS} FROM items WHERE ${AT_NODE} AND seq > $3 ORDER BY seq ASC LIMIT $4`,
    "ASC",
    "$5",
  ),
  countItems: `SELECT COUNT(*) AS n FROM items WHERE ${AT_NODE}`,
  countAndNewer: `SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE seq > $3) AS newer FROM items WHERE ${AT_NODE}`,
  deleteItems: `DELETE FROM items WHERE ${AT_NODE} AND item_id = ANY ($3::text[]) RETURNING item_id`,
  trimItems: `DELETE FROM items WHERE seq IN (
      SELECT seq FROM items WHERE ${AT_NODE} ORDER BY seq DESC OFFSET $3
    ) RETURNING item_id, seq`,
  purgeItems: `DELETE FROM items WHERE ${AT_NODE}`,

  getSub: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND jid = $3`,
  putSub: `INSERT INTO subscriptions (service, node, jid, bare_jid, domain, subid, state, created, options)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (service, node, jid) DO UPDATE SET
      subid = EXCLUDED.subid, state = EXCLUDED.state, created = EXCLUDED.created,
      options = EXCLUDED.options`,
  deleteSub: `DELETE FROM subscriptions WHERE ${AT_NODE} AND jid = $3`,
  listSubs: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} ORDER BY created, jid`,
  listSubsInState: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = $3 ORDER BY created, jid`,
  listSubsOf: `SELECT ${SUB_COLS} FROM subscriptions WHERE service = $1 AND bare_jid = $2 ORDER BY node, created, jid`,
  listSubsOfAtNode: `SELECT ${SUB_COLS} FROM subscriptions WHERE service = $1 AND bare_jid = $2 AND node = $3 ORDER BY created, jid`,
  countPending: `SELECT COUNT(*) AS n FROM subscriptions WHERE ${AT_NODE} AND state = 'pending'`,
  countPendingFromDomain: `SELECT COUNT(*) AS n FROM subscriptions WHERE ${AT_NODE} AND state = 'pending' AND domain = $3`,
  listPendingBefore: `SELECT ${SUB_COLS} FROM subscriptions WHERE state = 'pending' AND created < $1 ORDER BY created, jid`,

  getAff: `SELECT affiliation FROM affiliations WHERE ${AT_NODE} AND entity = $3`,
  putAff: `INSERT INTO affiliations (${AFF_COLS}) VALUES ($1, $2, $3, $4)
    ON CONFLICT (service, node, entity) DO UPDATE SET affiliation = EXCLUDED.affiliation`,
  deleteAff: `DELETE FROM affiliations WHERE ${AT_NODE} AND entity = $3`,
  listAffs: `SELECT ${AFF_COLS} FROM affiliations WHERE ${AT_NODE} ORDER BY entity`,
  listAffsOf: `SELECT ${AFF_COLS} FROM affiliations WHERE service = $1 AND entity = $2 ORDER BY node`,

  incrementCounter: `INSERT INTO counters (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value`,
  listCounters: "SELECT name, value FROM counters ORDER BY name",
  insertRequest: "INSERT INTO subscription_requests (domain, requester, at) VALUES ($1, $2, $3)",
  countRequesterRequestsSince:
    "SELECT COUNT(*) AS n FROM subscription_requests WHERE requester = $1 AND at >= $2",
  countRequestsSince:
    "SELECT COUNT(*) AS n FROM subscription_requests WHERE domain = $1 AND at >= $2",
  pruneRequests: "DELETE FROM subscription_requests WHERE at < $1",
} as const;

export type StatementName = keyof typeof SQL;
