import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  DatabaseOpenError,
  DatabaseVersionError,
  loadMigrations,
  migrate,
  refuseNewer,
} from "./migrations.js";

/**
 * Open (creating when missing) the SQLite database at `path`, in WAL mode, migrated to the newest
 * schema. ":memory:" gives a private in-memory database (tests).
 */
export function openDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (err) {
    throw new DatabaseOpenError(`cannot open the database ${path}: ${(err as Error).message}`);
  }
  try {
    // Refuse a newer database before anything (even the journal mode) is written to it.
    refuseNewer(db, loadMigrations().length);
    db.pragma("journal_mode = WAL");
    // FULL: a commit is on disk before the IQ result goes out ("reliable like mail").
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof DatabaseVersionError) throw err;
    throw new DatabaseVersionError(`cannot use database ${path}: ${(err as Error).message}`);
  }
}
