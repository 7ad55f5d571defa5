/** Schema migrations of the PostgreSQL store (schemas/sql/postgres), on a private server. */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadPostgresMigrations,
  migratePostgres,
  schemaVersion,
} from "../../../component/src/storage/postgres/migrations.js";
import { PostgresStore } from "../../../component/src/storage/postgres/postgres-store.js";
import { DatabaseVersionError } from "../../../component/src/storage/sqlite/migrations.js";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";
import { startPostgres, type TestPostgres } from "../../harness/postgres.js";

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.dispose());

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Tables (with their sorted columns) and index names, of the public schema. */
function describeSchema(c: pg.Client) {
  return Promise.all([
    c.query<{ t: string; cols: string[] }>(
      `SELECT table_name AS t, array_agg(column_name::text ORDER BY column_name) AS cols
       FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY 1`,
    ),
    c.query<{ i: string }>(
      "SELECT indexname AS i FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    ),
  ]).then(([tables, indexes]) => ({
    tables: Object.fromEntries(tables.rows.map((r) => [r.t, r.cols])),
    indexes: indexes.rows.map((r) => r.i),
  }));
}

/** The same description of the SQLite schema, for comparison. */
function describeSqliteSchema() {
  const db = openDatabase(":memory:");
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  const schema = Object.fromEntries(
    tables.map(({ name }) => [
      name,
      (db.pragma(`table_info(${name})`) as { name: string }[]).map((c) => c.name).sort(),
    ]),
  );
  const indexes = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  db.close();
  return { tables: schema, indexes };
}

describe("PostgreSQL schema migrations", () => {
  it("are numbered 1..n without gaps", () => {
    const ms = loadPostgresMigrations();
    expect(ms.length).toBeGreaterThan(0);
    expect(ms.map((m) => m.version)).toEqual(ms.map((_, i) => i + 1));
  });

  it("give a new database the tables and indexes of the SQLite schema, and a version table", async () => {
    const url = await server.newDatabase();
    await (await PostgresStore.open(url)).close();
    const { tables, indexes } = await withClient(url, describeSchema);
    const sqlite = describeSqliteSchema();
    const { schema_version, ...warble } = tables;
    expect(warble).toEqual(sqlite.tables);
    expect(schema_version).toEqual(["applied_at", "name", "version"]);
    // Explicit indexes by name (PostgreSQL also lists those of its keys).
    expect(indexes).toEqual(expect.arrayContaining(sqlite.indexes));
    const versions = await withClient(url, (c) =>
      c.query("SELECT version, name FROM schema_version ORDER BY version"),
    );
    expect(versions.rows).toEqual(
      loadPostgresMigrations().map(({ version, name }) => ({ version, name })),
    );
  });

  it("apply only the missing ones to an older database, keeping its data", async () => {
    const url = await server.newDatabase();
    const all = loadPostgresMigrations();
    const next = {
      version: all.length + 1,
      name: "999_next.sql",
      sql: "CREATE TABLE next (x INT)",
    };
    await withClient(url, async (c) => {
      expect(await migratePostgres(c, all)).toBe(all.length);
      await c.query("INSERT INTO service_meta (key, value) VALUES ('kept', 'yes')");
      expect(await migratePostgres(c, [...all, next])).toBe(all.length + 1);
      expect(await schemaVersion(c)).toBe(all.length + 1);
      expect((await c.query("SELECT value FROM service_meta")).rows).toEqual([{ value: "yes" }]);
      expect((await c.query("SELECT to_regclass('next')::text AS t")).rows).toEqual([
        { t: "next" },
      ]);
    });
  });

  it("count the entries of the home timelines there are when timeline_sizes comes (004)", async () => {
    const url = await server.newDatabase();
    const all = loadPostgresMigrations();
    const at = all.findIndex((m) => m.name === "004_timeline_catch_up.sql");
    await withClient(url, async (c) => {
      await migratePostgres(c, all.slice(0, at));
      for (const [user, item] of [
        ["u@d", "i0"],
        ["u@d", "i1"],
        ["u@d", "i2"],
        ["v@d", "i0"],
      ]) {
        await c.query(
          `INSERT INTO timeline (user_jid, service, node, item_id, author, payload, published_at, received_at)
           VALUES ($1, 's@c', 'n', $2, 'a', '<entry/>', 1, 2)`,
          [user, item],
        );
      }
      await migratePostgres(c, all);
      const sizes = async () =>
        (await c.query("SELECT user_jid, entries::int AS n FROM timeline_sizes ORDER BY 1")).rows;
      expect(await sizes()).toEqual([
        { user_jid: "u@d", n: 3 },
        { user_jid: "v@d", n: 1 },
      ]);
      await c.query("DELETE FROM timeline WHERE item_id = 'i0'");
      expect(await sizes()).toEqual([
        { user_jid: "u@d", n: 2 },
        { user_jid: "v@d", n: 0 },
      ]);
    });
  });

  it("roll back a failing migration as a whole", async () => {
    const url = await server.newDatabase();
    const all = loadPostgresMigrations();
    const bad = {
      version: all.length + 1,
      name: "999_bad.sql",
      sql: "CREATE TABLE t (x INT); SELECT nope FROM missing;",
    };
    await withClient(url, async (c) => {
      await migratePostgres(c, all);
      await expect(migratePostgres(c, [...all, bad])).rejects.toThrow(/missing/);
      expect(await schemaVersion(c)).toBe(all.length);
      expect((await c.query("SELECT to_regclass('t')::text AS t")).rows).toEqual([{ t: null }]);
    });
  });

  it("let several processes starting together migrate once", async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(url)));
    await Promise.all(stores.map((s) => s.close()));
    const rows = await withClient(url, (c) => c.query("SELECT version FROM schema_version"));
    expect(rows.rows).toHaveLength(loadPostgresMigrations().length);
  });
});

describe("PostgreSQL databases Warble must not touch", () => {
  it("refuses a database written by a newer version and leaves it untouched", async () => {
    const url = await server.newDatabase();
    await (await PostgresStore.open(url)).close();
    await withClient(url, (c) =>
      c.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)"),
    );
    const before = await withClient(url, describeSchema);
    const opening = PostgresStore.open(url);
    await expect(opening).rejects.toBeInstanceOf(DatabaseVersionError);
    await expect(opening).rejects.toThrow(
      /^the database is at schema version 999, written by a newer Warble; this version knows up to \d+ and will not modify it$/,
    );
    expect(await withClient(url, describeSchema)).toEqual(before);
    expect(await withClient(url, schemaVersion)).toBe(999);
  });

  it("refuses a database that is not Warble's, in one line, and creates nothing in it", async () => {
    const url = await server.newDatabase();
    await withClient(url, (c) => c.query("CREATE TABLE nodes (id INT)"));
    const err = (await PostgresStore.open(url).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DatabaseVersionError);
    expect(err.message).toMatch(/^cannot use database postgres:\/\/warble@127\.0\.0\.1:\d+\/\w+: /);
    expect(err.message).not.toContain("\n");
    const { tables } = await withClient(url, describeSchema);
    expect(Object.keys(tables)).toEqual(["nodes"]);
  });
});
