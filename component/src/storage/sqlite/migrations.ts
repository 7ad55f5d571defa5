import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";

/** A database the running code must not touch: written by a newer Warble, or not a Warble database. */
export class DatabaseVersionError extends Error {
  override name = "DatabaseVersionError";
}

/** The database file cannot be opened or created (a bad --db path, no permission). */
export class DatabaseOpenError extends Error {
  override name = "DatabaseOpenError";
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** schemas/sql, found from both the TypeScript sources and the compiled dist/ tree. */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "schemas", "sql");
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      dir = resolve(dir, "..");
    }
  }
  throw new Error("cannot find schemas/sql next to the Warble installation");
}

/** Files named NNN_name.sql, in version order; gaps and duplicates are a packaging bug. */
export function loadMigrations(dir = defaultMigrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({
      version: Number.parseInt(f, 10),
      name: f,
      sql: readFileSync(join(dir, f), "utf8"),
    }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} is out of sequence (expected ${i + 1})`);
  });
  return migrations;
}

/** The database's schema version; throws when it is newer than `latest`. Writes nothing. */
export function refuseNewer(db: Database.Database, latest: number): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > latest) {
    throw new DatabaseVersionError(
      `the database is at schema version ${current}, written by a newer Warble; this version knows up to ${latest} and will not modify it`,
    );
  }
  return current;
}

/**
 * Bring the database up to the newest migration, each migration in its own transaction.
 * A database whose user_version is newer than the newest migration is refused untouched.
 */
export function migrate(db: Database.Database, migrations = loadMigrations()): number {
  const latest = migrations.length;
  const current = refuseNewer(db, latest);
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return latest;
}
