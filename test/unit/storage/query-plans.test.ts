/**
 * The hot queries of the SQLite store read through an index in the order they return: no full
 * scan of a table, no sort (EXPLAIN QUERY PLAN). Pages of items, a home timeline page, a fan-out's
 * subscriptions, the request limits: each must stay fast at a million rows.
 */
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";
import { SQLITE_SQL } from "../../../component/src/storage/sqlite/statements.js";

const HOT = [
  "getNode",
  "getItemsByIds",
  "listNewest",
  "listOlder",
  "listNewerAscending",
  "countItems",
  "countNewerThan",
  "getSub",
  "listSubs",
  "listSubsInState",
  "pageSubsInState",
  "pageSubsInStateAfter",
  "countPending",
  "listSubsOf",
  "listSubsOfAtNode",
  "countRequestsSince",
  "countRequesterRequestsSince",
  "getFollow",
  "pageFollows",
  "pageFollowsAt",
  "getTimelineByItem",
  "listTimelineNewest",
  "listTimelineOldest",
  "countTimeline",
  "countTimelineBySeq",
  "trimTimeline",
  "newestNodeEntry",
  "getTimelineSize",
] as const;

const db = openDatabase(":memory:");

/** The plan's lines, with every parameter bound to NULL. */
function planOf(sql: string): string[] {
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1] as string))];
  const positional = (sql.match(/\?/g) ?? []).length;
  const rows = named.length
    ? stmt.all(Object.fromEntries(named.map((n) => [n, null])))
    : stmt.all(...Array<null>(positional).fill(null));
  return (rows as { detail: string }[]).map((r) => r.detail);
}

describe("query plans of the hot SQLite statements", () => {
  it.each(HOT)("%s reads through an index, without a sort", (name) => {
    const plan = planOf(SQLITE_SQL[name]);
    const tableScans = plan.filter((line) => /^SCAN (?!json_each)/.test(line));
    expect(tableScans, plan.join(" | ")).toEqual([]);
    expect(
      plan.filter((line) => line.includes("TEMP B-TREE")),
      plan.join(" | "),
    ).toEqual([]);
    expect(
      plan.some((line) => line.startsWith("SEARCH")),
      plan.join(" | "),
    ).toBe(true);
  });
});
