/**
 * The one way the wiring opens storage: `--db postgres://…` (or postgresql://) is a PostgreSQL
 * database, anything else the path of a SQLite file (its directory created when missing). A
 * database that cannot be reached or opened is a DatabaseOpenError; one that must not be used
 * (a newer schema, not Warble's, a failing migration) a DatabaseVersionError. Both carry a
 * one-line message that never shows a password.
 */
import type { Logger } from "pino";
import type { PubsubStore } from "../domain/ports.js";
import { isPostgresUrl, safeMessage } from "./postgres/connection-url.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { DatabaseOpenError, DatabaseVersionError } from "./sqlite/migrations.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";

export { DatabaseOpenError, DatabaseVersionError, isPostgresUrl };

/** Open, and migrate to the newest schema, the store `db` names. */
export async function openStore(db: string, log?: Pick<Logger, "warn">): Promise<PubsubStore> {
  if (!isPostgresUrl(db)) return SqliteStore.open(db);
  return PostgresStore.open(db, {
    onIdleError: (err) =>
      log?.warn({ error: safeMessage(err, db) }, "an idle PostgreSQL connection failed"),
  });
}
