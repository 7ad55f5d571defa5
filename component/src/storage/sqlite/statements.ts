/** Every SQL statement of the SQLite store, prepared once per database. */
import type Database from "better-sqlite3";
import { FOLLOW_COLS, OUTBOX_COLS, TIMELINE_COLS } from "../timeline-rows.js";

const ITEM_COLS = "seq, item_id, payload, publisher, created, updated";
const SUB_COLS = "service, node, jid, subid, state, created, options";
const AT_NODE = "service = ? AND node = ?";
const AT_USER_NODE = "user_jid = ? AND service = ? AND node = ?";
/** A user's entries within a range (named parameters: see rangeBounds). */
const IN_RANGE = `user_jid = @user AND received_at >= @start AND received_at <= @end
  AND seq > @afterSeq AND seq < @beforeSeq AND (@peer IS NULL OR service = @peer OR author = @peer)`;
const BY_AGE = "ORDER BY user_jid, created_at, service, node";
const BY_KEY = "ORDER BY user_jid, service, node";

const SQL = {
  getNode: `SELECT service, node, owner, config, created FROM nodes WHERE ${AT_NODE}`,
  insertNode: "INSERT INTO nodes (service, node, owner, config, created) VALUES (?, ?, ?, ?, ?)",
  updateNodeConfig: `UPDATE nodes SET config = ? WHERE ${AT_NODE}`,
  deleteNode: `DELETE FROM nodes WHERE ${AT_NODE}`,
  listNodes:
    "SELECT service, node, owner, config, created FROM nodes WHERE service = ? ORDER BY node",
  listAllNodes: "SELECT service, node, owner, config, created FROM nodes ORDER BY service, node",

  getItemCreated: `SELECT created FROM items WHERE ${AT_NODE} AND item_id = ?`,
  getItemSeq: `SELECT seq FROM items WHERE ${AT_NODE} AND item_id = ?`,
  insertItem:
    "INSERT INTO items (service, node, item_id, payload, publisher, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
  deleteItem: `DELETE FROM items WHERE ${AT_NODE} AND item_id = ?`,
  getItemsByIds: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND item_id IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`,
  listNewest: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT ?`,
  listNewestIds: `SELECT item_id FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT ?`,
  listOlder: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND seq < ? ORDER BY seq DESC LIMIT ?`,
  listNewerAscending: `SELECT ${ITEM_COLS} FROM items WHERE ${AT_NODE} AND seq > ? ORDER BY seq ASC LIMIT ?`,
  listBeyond: `SELECT item_id FROM items WHERE ${AT_NODE} ORDER BY seq DESC LIMIT -1 OFFSET ?`,
  countItems: `SELECT COUNT(*) AS n FROM items WHERE ${AT_NODE}`,
  countNewerThan: `SELECT COUNT(*) AS n FROM items WHERE ${AT_NODE} AND seq > ?`,
  purgeItems: `DELETE FROM items WHERE ${AT_NODE}`,

  getSub: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND jid = ?`,
  putSub: `INSERT INTO subscriptions (service, node, jid, bare_jid, domain, subid, state, created, options)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (service, node, jid) DO UPDATE SET
      subid = excluded.subid, state = excluded.state, created = excluded.created, options = excluded.options`,
  deleteSub: `DELETE FROM subscriptions WHERE ${AT_NODE} AND jid = ?`,
  listSubs: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} ORDER BY created, jid`,
  listSubsInState: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = ? ORDER BY created, jid`,
  pageSubsInState: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = ? ORDER BY created, jid LIMIT ?`,
  pageSubsInStateAfter: `SELECT ${SUB_COLS} FROM subscriptions WHERE ${AT_NODE} AND state = ? AND (created, jid) > (?, ?) ORDER BY created, jid LIMIT ?`,
  listSubsOf: `SELECT ${SUB_COLS} FROM subscriptions WHERE service = ? AND bare_jid = ? ORDER BY node, created, jid`,
  listSubsOfAtNode: `SELECT ${SUB_COLS} FROM subscriptions WHERE service = ? AND bare_jid = ? AND node = ? ORDER BY created, jid`,
  countPending: `SELECT COUNT(*) AS n FROM subscriptions WHERE ${AT_NODE} AND state = 'pending'`,
  countPendingFromDomain: `SELECT COUNT(*) AS n FROM subscriptions WHERE ${AT_NODE} AND state = 'pending' AND domain = ?`,
  listPendingBefore: `SELECT ${SUB_COLS} FROM subscriptions WHERE state = 'pending' AND created < ? ORDER BY created, jid`,

  getAff: `SELECT service, node, entity, affiliation FROM affiliations WHERE ${AT_NODE} AND entity = ?`,
  putAff: `INSERT INTO affiliations (service, node, entity, affiliation) VALUES (?, ?, ?, ?)
    ON CONFLICT (service, node, entity) DO UPDATE SET affiliation = excluded.affiliation`,
  deleteAff: `DELETE FROM affiliations WHERE ${AT_NODE} AND entity = ?`,
  listAffs: `SELECT service, node, entity, affiliation FROM affiliations WHERE ${AT_NODE} ORDER BY entity`,
  listAffsOf:
    "SELECT service, node, entity, affiliation FROM affiliations WHERE service = ? AND entity = ? ORDER BY node",

  incrementCounter: `INSERT INTO counters (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`,
  listCounters: "SELECT name, value FROM counters ORDER BY name",
  insertRequest: "INSERT INTO subscription_requests (domain, requester, at) VALUES (?, ?, ?)",
  countRequesterRequestsSince:
    "SELECT COUNT(*) AS n FROM subscription_requests WHERE requester = ? AND at >= ?",
  countRequestsSince:
    "SELECT COUNT(*) AS n FROM subscription_requests WHERE domain = ? AND at >= ?",
  pruneRequests: "DELETE FROM subscription_requests WHERE at < ?",

  getFollow: `SELECT ${FOLLOW_COLS} FROM follows WHERE ${AT_USER_NODE}`,
  putFollow: `INSERT INTO follows (${FOLLOW_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_jid, service, node) DO UPDATE SET
      domain = excluded.domain, target = excluded.target, state = excluded.state,
      subid = excluded.subid, created_at = excluded.created_at, updated_at = excluded.updated_at`,
  deleteFollow: `DELETE FROM follows WHERE ${AT_USER_NODE}`,
  listFollows: `SELECT ${FOLLOW_COLS} FROM follows WHERE user_jid = ? ${BY_AGE}`,
  countFollows: "SELECT COUNT(*) AS n FROM follows WHERE user_jid = ?",
  // Pages of every follow (of one domain) in key order, after a key (the first page: after
  // ('', '', '')): catch-up reads them a page at a time.
  pageFollows: `SELECT ${FOLLOW_COLS} FROM follows
    WHERE (user_jid, service, node) > (?, ?, ?) ${BY_KEY} LIMIT ?`,
  pageFollowsAt: `SELECT ${FOLLOW_COLS} FROM follows
    WHERE domain = ? AND (user_jid, service, node) > (?, ?, ?) ${BY_KEY} LIMIT ?`,

  getTimelineByItem: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${AT_USER_NODE} AND item_id = ?`,
  insertTimeline: `INSERT INTO timeline
    (user_jid, service, node, item_id, author, payload, published_at, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  replaceTimelinePayload:
    "UPDATE timeline SET author = ?, payload = ?, published_at = ? WHERE seq = ?",
  getTimelineEntry: `SELECT ${TIMELINE_COLS} FROM timeline WHERE user_jid = ? AND seq = ?`,
  // One node's newest entry in a user's timeline: one probe of timeline_by_node.
  newestNodeEntry: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${AT_USER_NODE}
    ORDER BY seq DESC LIMIT 1`,
  getTimelineSize: "SELECT entries AS n FROM timeline_sizes WHERE user_jid = ?",
  listTimelineOldest: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${IN_RANGE} ORDER BY seq ASC LIMIT @max`,
  listTimelineNewest: `SELECT ${TIMELINE_COLS} FROM timeline WHERE ${IN_RANGE} ORDER BY seq DESC LIMIT @max`,
  countTimeline: `SELECT COUNT(*) AS n FROM timeline WHERE ${IN_RANGE}`,
  // The common count (no time or peer filter): on the (user_jid, seq) index alone.
  countTimelineBySeq:
    "SELECT COUNT(*) AS n FROM timeline WHERE user_jid = ? AND seq > ? AND seq < ?",
  deleteTimelineItems: `DELETE FROM timeline WHERE ${AT_USER_NODE}
    AND item_id IN (SELECT value FROM json_each(?))`,
  deleteTimelineNode: `DELETE FROM timeline WHERE ${AT_USER_NODE}`,
  // The oldest @excess entries (@excess >= 1, from timeline_sizes): a walk of @excess index
  // entries from the oldest end, not of the entries kept.
  trimTimeline: `DELETE FROM timeline WHERE user_jid = @user AND seq <= (
      SELECT seq FROM timeline WHERE user_jid = @user ORDER BY seq ASC LIMIT 1 OFFSET @excess - 1
    )`,

  getSettings: "SELECT settings FROM user_settings WHERE user_jid = ?",
  putSettings: `INSERT INTO user_settings (user_jid, settings) VALUES (?, ?)
    ON CONFLICT (user_jid) DO UPDATE SET settings = excluded.settings`,

  insertOutbox: `INSERT INTO outbox (recipient, domain, message_id, stanza, attempts, created_at,
      next_attempt_at, deadline, sent_at, last_error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getOutboxByMessageId: `SELECT ${OUTBOX_COLS} FROM outbox WHERE message_id = ?`,
  // A field left null keeps its value; sent_at is set (to null, too) when @setSentAt is 1.
  updateOutbox: `UPDATE outbox SET
      attempts = COALESCE(@attempts, attempts),
      next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at),
      last_error = COALESCE(@lastError, last_error),
      sent_at = CASE WHEN @setSentAt = 1 THEN @sentAt ELSE sent_at END
    WHERE id = @id`,
  rescheduleOutboxDomain:
    "UPDATE outbox SET next_attempt_at = ? WHERE domain = ? AND sent_at IS NULL",
  deleteOutbox: "DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))",
  listDueOutbox: `SELECT ${OUTBOX_COLS} FROM outbox
    WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
  listOutboxSentBefore: `SELECT ${OUTBOX_COLS} FROM outbox
    WHERE sent_at IS NOT NULL AND sent_at <= ? ORDER BY id LIMIT ?`,
  listOutboxExpired: `SELECT ${OUTBOX_COLS} FROM outbox WHERE deadline < ? ORDER BY id LIMIT ?`,
  listOutboxDomains: `SELECT domain, MIN(next_attempt_at) AS next_attempt_at, COUNT(*) AS n
    FROM outbox WHERE sent_at IS NULL GROUP BY domain ORDER BY domain`,
  countOutbox: "SELECT COUNT(*) AS n FROM outbox",
} as const;

/** The statements as text (the query-plan test reads them). */
export const SQLITE_SQL: Readonly<Record<keyof typeof SQL, string>> = SQL;

export type Statements = { [K in keyof typeof SQL]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(
    Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as Statements;
}
