/**
 * The bench's store: a SQLite file in a temp dir or a database on a private PostgreSQL
 * (test/harness/postgres.ts), created and migrated through openStore as the component opens it,
 * then filled by a RowWriter. Also what the bench reads back (sizes, item ids, timeline seqs)
 * and how it makes the next start cold (the files dropped from the OS page cache).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { openStore } from "../../component/src/storage/open-store.js";
import { startPostgres, type TestPostgres } from "../../test/harness/postgres.js";
import { tempDir } from "../../test/harness/servers.js";
import { withChildren } from "./process.js";
import { NODE } from "./rows.js";
import { postgresWriter, type RowWriter, sqliteWriter } from "./writers.js";

export type StoreKind = "sqlite" | "postgres";

export interface BenchStore {
  kind: StoreKind;
  /** The component's --db. */
  db: string;
  writer(): Promise<RowWriter>;
  /** After generation: what a real store gets in time (PostgreSQL: VACUUM ANALYZE). */
  settle(): Promise<number>;
  /** Bytes on disk, in total and per table (with its indexes). */
  size(): Promise<{ bytes: number; tables: Record<string, number> }>;
  /** The newest `max` item ids of a service, newest first. */
  itemIds(service: string, max: number): Promise<string[]>;
  /** A user's timeline seqs, ascending. */
  timelineSeqs(user: string): Promise<number[]>;
  /** A user's newest timeline rows: published_at, received_at and author. */
  timelineRows(user: string, max: number): Promise<Record<string, unknown>[]>;
  /** The newest items of a service, whole rows. */
  itemRows(service: string, max: number): Promise<Record<string, unknown>[]>;
  /** The database server's processes (PostgreSQL's postmaster and backends; none for SQLite). */
  serverPids(): number[];
  /** Drop the store's files from the OS page cache (synced first). */
  evictCache(): void;
  dispose(): Promise<void>;
}

/** Migrate by opening the store as the component does, then close it. */
async function migrate(db: string): Promise<void> {
  const store = await openStore(db);
  await store.close();
}

/** `dd iflag=nocache count=0` drops a (synced) file's pages; only our own files. */
function evictFiles(files: string[]): void {
  for (const f of files) {
    try {
      execFileSync("sync", [f], { stdio: "ignore" });
      execFileSync("dd", [`if=${f}`, "iflag=nocache", "count=0", "status=none"], {
        stdio: "ignore",
      });
    } catch {
      // a file that went away meanwhile (WAL, temp) needs no eviction
    }
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

export async function openBenchStore(kind: StoreKind): Promise<BenchStore> {
  return kind === "sqlite" ? sqliteStore() : postgresStore();
}

async function sqliteStore(): Promise<BenchStore> {
  const dir = tempDir("bench-store-scale");
  const db = join(dir, "warble.db");
  await migrate(db);
  const read = <T>(fn: (d: Database.Database) => T): T => {
    const d = new Database(db, { readonly: true });
    try {
      return fn(d);
    } finally {
      d.close();
    }
  };
  return {
    kind: "sqlite",
    db,
    writer: async () => sqliteWriter(db),
    settle: async () => 0,
    size: async () => ({
      bytes: filesUnder(dir).reduce((sum, f) => sum + statSync(f).size, 0),
      tables: read((d) => tableSizesSqlite(d)),
    }),
    itemIds: async (service, max) =>
      read((d) =>
        d
          .prepare(
            "SELECT item_id FROM items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT ?",
          )
          .pluck()
          .all(service, NODE, max),
      ) as string[],
    timelineSeqs: async (user) =>
      read((d) =>
        d.prepare("SELECT seq FROM timeline WHERE user_jid = ? ORDER BY seq").pluck().all(user),
      ) as number[],
    timelineRows: async (user, max) =>
      read((d) =>
        d
          .prepare("SELECT * FROM timeline WHERE user_jid = ? ORDER BY seq DESC LIMIT ?")
          .all(user, max),
      ) as Record<string, unknown>[],
    itemRows: async (service, max) =>
      read((d) =>
        d
          .prepare("SELECT * FROM items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT ?")
          .all(service, NODE, max),
      ) as Record<string, unknown>[],
    serverPids: () => [],
    evictCache: () => evictFiles(filesUnder(dir)),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Bytes per table with its indexes, from the dbstat table (when SQLite has it). */
function tableSizesSqlite(d: Database.Database): Record<string, number> {
  try {
    const rows = d
      .prepare(
        `SELECT COALESCE(m.tbl_name, s.name) AS t, SUM(s.pgsize) AS bytes
         FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY t ORDER BY bytes DESC`,
      )
      .all() as { t: string; bytes: number }[];
    return Object.fromEntries(rows.map((r) => [r.t, r.bytes]));
  } catch {
    return {};
  }
}

/** PostgreSQL's defaults where the harness keeps a small test server (shared_buffers 32 MB). */
const PG_SETTINGS = { shared_buffers: "128MB" };

async function postgresStore(): Promise<BenchStore> {
  const server: TestPostgres = await startPostgres({ settings: PG_SETTINGS });
  try {
    const db = await server.newDatabase();
    await migrate(db);
    const pool = new pg.Pool({ connectionString: db, max: 2 });
    const query = async <T>(sql: string, params: unknown[] = []) =>
      (await pool.query(sql, params)).rows as T[];
    const [setting] = await query<{ dir: string }>(
      "SELECT current_setting('data_directory') AS dir",
    );
    const dataDir = setting?.dir ?? "";
    return {
      kind: "postgres",
      db,
      writer: () => postgresWriter(db),
      settle: async () => {
        const t = performance.now();
        await query("VACUUM (ANALYZE)");
        await query("CHECKPOINT");
        return performance.now() - t;
      },
      size: async () => {
        const [total] = await query<{ n: string }>(
          "SELECT pg_database_size(current_database()) AS n",
        );
        const tables = await query<{ t: string; n: string }>(
          `SELECT relname AS t, pg_total_relation_size(oid) AS n FROM pg_class
           WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC`,
        );
        return {
          bytes: Number(total?.n ?? 0),
          tables: Object.fromEntries(tables.map((r) => [r.t, Number(r.n)])),
        };
      },
      itemIds: async (service, max) =>
        (
          await query<{ item_id: string }>(
            "SELECT item_id FROM items WHERE service = $1 AND node = $2 ORDER BY seq DESC LIMIT $3",
            [service, NODE, max],
          )
        ).map((r) => r.item_id),
      timelineSeqs: async (user) =>
        (
          await query<{ seq: string }>(
            "SELECT seq FROM timeline WHERE user_jid = $1 ORDER BY seq",
            [user],
          )
        ).map((r) => Number(r.seq)),
      timelineRows: (user, max) =>
        query("SELECT * FROM timeline WHERE user_jid = $1 ORDER BY seq DESC LIMIT $2", [user, max]),
      itemRows: (service, max) =>
        query("SELECT * FROM items WHERE service = $1 AND node = $2 ORDER BY seq DESC LIMIT $3", [
          service,
          NODE,
          max,
        ]),
      serverPids: () => {
        const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        return Number.isInteger(pid) && pid > 0 ? withChildren(pid) : [];
      },
      evictCache: () => evictFiles(filesUnder(join(dataDir, "base"))),
      dispose: async () => {
        await pool.end();
        await server.dispose();
      },
    };
  } catch (err) {
    await server.dispose();
    throw err;
  }
}
