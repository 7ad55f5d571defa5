/**
 * Bulk writers of generated rows into a migrated store. SQLite: one prepared INSERT per table
 * inside large transactions (synchronous = OFF on this connection only: a crash means
 * generating again). PostgreSQL: rows buffered per table and sent as one multi-row
 * `INSERT … SELECT FROM unnest($1::text[], …)` per batch (synchronous_commit = off on this
 * session only). Both insert rows in the order given, so seq follows it.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { COLUMNS, type Table } from "./rows.js";

export interface RowWriter {
  /** Add one row (values in COLUMNS order); a promise when the writer had to send a batch. */
  insert(table: Table, row: unknown[]): Promise<void> | undefined;
  /** Send and commit everything added so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = Object.keys(COLUMNS) as Table[];

/** Rows per SQLite transaction. */
const SQLITE_TX_ROWS = 100_000;

export function sqliteWriter(path: string): RowWriter {
  const db = new Database(path);
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  db.pragma("foreign_keys = ON");
  const statements = Object.fromEntries(
    TABLES.map((t) => {
      const cols = COLUMNS[t].map(([c]) => c);
      const sql = `INSERT INTO ${t} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
      return [t, db.prepare(sql)];
    }),
  ) as Record<Table, Database.Statement>;
  let inTx = 0;
  const commit = () => {
    if (db.inTransaction) db.exec("COMMIT");
    inTx = 0;
  };
  return {
    insert(table, row) {
      if (!db.inTransaction) db.exec("BEGIN");
      statements[table].run(...row);
      if (++inTx >= SQLITE_TX_ROWS) commit();
      return undefined;
    },
    flush: async () => commit(),
    close: async () => {
      commit();
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
    },
  };
}

/** Rows per PostgreSQL statement (payload tables carry ~0.7 KB a row). */
const PG_BATCH = 2000;

/** `INSERT INTO t (cols) SELECT c1, c2::jsonb, … FROM unnest($1::text[], …) AS r(c1, …)`. */
function unnestInsert(table: Table): string {
  const cols = COLUMNS[table];
  const names = cols.map(([c]) => c).join(", ");
  const params = cols.map(([, type], i) => `$${i + 1}::${type === "bigint" ? "bigint" : "text"}[]`);
  const select = cols.map(([c, type]) => (type === "jsonb" ? `${c}::jsonb` : c)).join(", ");
  return `INSERT INTO ${table} (${names}) SELECT ${select} FROM unnest(${params.join(", ")}) AS r(${names})`;
}

export async function postgresWriter(url: string): Promise<RowWriter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET synchronous_commit = off");
  const sql = Object.fromEntries(TABLES.map((t) => [t, unnestInsert(t)])) as Record<Table, string>;
  const buffers = Object.fromEntries(TABLES.map((t) => [t, [] as unknown[][]])) as Record<
    Table,
    unknown[][]
  >;
  const send = async (table: Table) => {
    const rows = buffers[table];
    if (rows.length === 0) return;
    buffers[table] = [];
    const columns = COLUMNS[table].map((_, c) => rows.map((r) => r[c]));
    await client.query(sql[table], columns);
  };
  return {
    insert(table, row) {
      const rows = buffers[table];
      rows.push(row);
      return rows.length >= PG_BATCH ? send(table) : undefined;
    },
    flush: async () => {
      for (const t of TABLES) await send(t);
    },
    close: async () => {
      for (const t of TABLES) await send(t);
      await client.end();
    },
  };
}
