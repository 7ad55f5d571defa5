/**
 * Schema migrations of the PostgreSQL store: schemas/sql/postgres/NNN_name.sql, applied in
 * order in one transaction, each recorded in schema_version. A transaction-scoped advisory lock
 * makes several Warble processes that start together on one database take turns: the first
 * migrates, the others then find the schema current. A database from a newer Warble is refused
 * before anything is written to it.
 */
import { join } from "node:path";
import type { ClientBase } from "pg";
import {
  DatabaseVersionError,
  defaultMigrationsDir,
  loadMigrations,
  type Migration,
} from "../sqlite/migrations.js";

/** The advisory lock key of Warble's schema changes ("warb"). */
const SCHEMA_LOCK = 0x77617262;

const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** schemas/sql/postgres/NNN_name.sql, in version order. */
export function loadPostgresMigrations(
  dir = join(defaultMigrationsDir(), "postgres"),
): Migration[] {
  return loadMigrations(dir);
}

/** The highest applied migration, 0 for a database without schema_version. Writes nothing. */
export async function schemaVersion(client: ClientBase): Promise<number> {
  const table = await client.query<{ t: string | null }>(
    "SELECT to_regclass('schema_version')::text AS t",
  );
  if (!table.rows[0]?.t) return 0;
  const max = await client.query<{ v: number | string }>(
    "SELECT COALESCE(MAX(version), 0) AS v FROM schema_version",
  );
  return Number(max.rows[0]?.v ?? 0);
}

/**
 * Bring the database up to the newest migration: all missing migrations in one transaction, so
 * a failing one leaves the database as it was. Returns the schema version.
 */
export async function migratePostgres(
  client: ClientBase,
  migrations = loadPostgresMigrations(),
): Promise<number> {
  const latest = migrations.length;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    const current = await schemaVersion(client);
    if (current > latest) {
      throw new DatabaseVersionError(
        `the database is at schema version ${current}, written by a newer Warble; this version knows up to ${latest} and will not modify it`,
      );
    }
    if (current < latest) await applyMigrations(client, migrations.slice(current));
    await client.query("COMMIT");
    return latest;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

async function applyMigrations(client: ClientBase, pending: Migration[]): Promise<void> {
  await client.query(CREATE_VERSION_TABLE);
  for (const m of pending) {
    await client.query(m.sql);
    await client.query(
      "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
      [m.version, m.name, Date.now()],
    );
  }
}
