/** Every SQL statement of the SQLite store, prepared once per database. */
import type Database from "better-sqlite3";

const ITEM_COLS = "seq, item_id, payload, publisher, created, updated";
const SUB_COLS = "service, node, jid, subid, state, created, options";
const AT_NODE = "service = ? AND node = ?";

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
} as const;

export type Statements = { [K in keyof typeof SQL]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(
    Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as Statements;
}
