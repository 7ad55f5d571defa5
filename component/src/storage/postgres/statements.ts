/**
 * Every SQL statement of the PostgreSQL store, by name. They run as named (server-side
 * prepared) statements, so each connection parses each one once.
 */
import { FOLLOW_COLS, OUTBOX_COLS, TIMELINE_COLS } from "../timeline-rows.js";

const ITEM_COLS = "seq, item_id, payload, publisher, created, updated";
const SUB_COLS = "service, node, jid, subid, state, created, options";
const NODE_COLS = "service, node, owner, config, created";
const AFF_COLS = "service, node, entity, affiliation";
const AT_NODE = "service = $1 AND node = $2";
const AT_USER_NODE = "user_jid = $1 AND service = $2 AND node = $3";
/** A user's entries within a range: $1 user, $2–$6 the bounds (see rangeBounds). */
const IN_RANGE = `user_jid = $1 AND received_at >= $2 AND received_at <= $3
  AND seq > $4 AND seq < $5 AND ($6::text IS NULL OR service = $6 OR author = $6)`;
const BY_AGE = "ORDER BY user_jid, created_at, service, node";
const BY_KEY = "ORDER BY user_jid, service, node";
const OUTBOX_NEW = OUTBOX_COLS.replace(/^id, /, "");

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
  pageSubsInState: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = $3 ORDER BY created, jid LIMIT $4`,
  pageSubsInStateAfter: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = $3 AND (created, jid) > ($4, $5) ORDER BY created, jid LIMIT $6`,
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

  getFollow: `SELECT ${FOLLOW_COLS} FROM follows WHERE ${AT_USER_NODE}`,
  putFollow: `INSERT INTO follows (${FOLLOW_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (user_jid, service, node) DO UPDATE SET
      domain = EXCLUDED.domain, target = EXCLUDED.target, state = EXCLUDED.state,
      subid = EXCLUDED.subid, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`,
  deleteFollow: `DELETE FROM follows WHERE ${AT_USER_NODE}`,
  listFollows: `SELECT ${FOLLOW_COLS} FROM follows WHERE user_jid = $1 ${BY_AGE}`,
  countFollows: "SELECT COUNT(*) AS n FROM follows WHERE user_jid = $1",
  // Pages of every follow (of one domain) in key order, after a key (the first page: after
  // ('', '', '')): catch-up reads them a page at a time.
  pageFollows: `SELECT ${FOLLOW_COLS} FROM follows
    WHERE (user_jid, service, node) > ($1, $2, $3) ${BY_KEY} LIMIT $4`,
  pageFollowsAt: `SELECT ${FOLLOW_COLS} FROM follows
    WHERE domain = $1 AND (user_jid, service, node) > ($2, $3, $4) ${BY_KEY} LIMIT $5`,

  // A new entry gets a seq; an existing one is left to upsertTimelineEntry to compare.
  insertTimeline: `INSERT INTO timeline
    (user_jid, service, node, item_id, author, payload, published_at, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (user_jid, service, node, item_id) DO NOTHING
    RETURNING seq`,
  getTimelineByItem: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${AT_USER_NODE} AND item_id = $4`,
  replaceTimelinePayload:
    "UPDATE timeline SET author = $2, payload = $3, published_at = $4 WHERE seq = $1",
  getTimelineEntry: `SELECT ${TIMELINE_COLS} FROM timeline WHERE user_jid = $1 AND seq = $2`,
  // One node's newest entry in a user's timeline: one probe of timeline_by_node.
  newestNodeEntry: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${AT_USER_NODE}
    ORDER BY seq DESC LIMIT 1`,
  getTimelineSize: "SELECT entries AS n FROM timeline_sizes WHERE user_jid = $1",
  listTimelineOldest: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${IN_RANGE} ORDER BY seq ASC LIMIT $7`,
  listTimelineNewest: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${IN_RANGE} ORDER BY seq DESC LIMIT $7`,
  countTimeline: `SELECT COUNT(*) AS n FROM timeline WHERE ${IN_RANGE}`,
  // The common count (no time or peer filter): on the (user_jid, seq) index alone.
  countTimelineBySeq:
    "SELECT COUNT(*) AS n FROM timeline WHERE user_jid = $1 AND seq > $2 AND seq < $3",
  deleteTimelineItems: `DELETE FROM timeline WHERE ${AT_USER_NODE} AND item_id = ANY ($4::text[])`,
  deleteTimelineNode: `DELETE FROM timeline WHERE ${AT_USER_NODE}`,
  // The oldest $2 entries ($2 >= 1, from timeline_sizes): a walk of $2 index entries from the
  // oldest end, not of the entries kept.
  trimTimeline: `DELETE FROM timeline WHERE user_jid = $1 AND seq <= (
      SELECT seq FROM timeline WHERE user_jid = $1 ORDER BY seq ASC LIMIT 1 OFFSET $2::bigint - 1
    )`,

  getSettings: "SELECT settings FROM user_settings WHERE user_jid = $1",
  putSettings: `INSERT INTO user_settings (user_jid, settings) VALUES ($1, $2)
    ON CONFLICT (user_jid) DO UPDATE SET settings = EXCLUDED.settings`,

  insertOutbox: `INSERT INTO outbox (${OUTBOX_NEW}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    RETURNING id`,
  getOutboxByMessageId: `SELECT ${OUTBOX_COLS} FROM outbox WHERE message_id = $1`,
  // A field left null keeps its value; sent_at is set (to null, too) when $5 is true.
  updateOutbox: `UPDATE outbox SET
      attempts = COALESCE($2, attempts),
      next_attempt_at = COALESCE($3, next_attempt_at),
      last_error = COALESCE($4, last_error),
      sent_at = CASE WHEN $5::boolean THEN $6::bigint ELSE sent_at END
    WHERE id = $1`,
  rescheduleOutboxDomain:
    "UPDATE outbox SET next_attempt_at = $2 WHERE domain = $1 AND sent_at IS NULL",
  deleteOutbox: "DELETE FROM outbox WHERE id = ANY ($1::bigint[])",
  listDueOutbox: `SELECT ${OUTBOX_COLS} FROM outbox
    WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
  listOutboxSentBefore: `SELECT ${OUTBOX_COLS} FROM outbox
    WHERE sent_at IS NOT NULL AND sent_at <= $1 ORDER BY id LIMIT $2`,
  listOutboxExpired: `SELECT ${OUTBOX_COLS} FROM outbox WHERE deadline < $1 ORDER BY id LIMIT $2`,
  listOutboxDomains: `SELECT domain, MIN(next_attempt_at) AS next_attempt_at, COUNT(*) AS n
    FROM outbox WHERE sent_at IS NULL GROUP BY domain ORDER BY domain`,
  countOutbox: "SELECT COUNT(*) AS n FROM outbox",
} as const;

export type StatementName = keyof typeof SQL;
