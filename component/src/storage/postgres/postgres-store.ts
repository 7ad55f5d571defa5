/**
 * PubsubStore on PostgreSQL (`pg`), for several Warble processes on one database. Each
 * transaction takes one client of the pool and runs BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT;
 * when PostgreSQL refuses it with serialization_failure (40001) or deadlock_detected (40P01),
 * the whole of `fn` runs again on a fresh transaction, a bounded number of times with a short
 * jittered backoff (the port allows it: fn does nothing but use its tx). A transaction resolves
 * after COMMIT has returned, which with PostgreSQL's defaults is after the commit is on disk.
 */
import pg from "pg";
import type { PubsubStore, PubsubTx } from "../../domain/ports.js";
import { DatabaseOpenError, DatabaseVersionError } from "../sqlite/migrations.js";
import { redactUrl, safeMessage } from "./connection-url.js";
import { migratePostgres } from "./migrations.js";
import { PostgresTx } from "./postgres-tx.js";

/** SQLSTATEs after which a transaction is run again. */
const RETRYABLE = new Set(["40001", "40P01"]);

export interface PostgresStoreOptions {
  /** Attempts of one transaction before its serialisation failure is the caller's (10). */
  maxAttempts?: number;
  /** Clients in the pool (10). */
  poolSize?: number;
  /**
   * Transactions of this process running at once (1). Use cases of one busy node (every
   * publish reads and trims its items) conflict under SERIALIZABLE: run concurrently they
   * mostly fail and retry. One at a time per process, only other processes' transactions
   * can conflict.
   */
  maxConcurrent?: number;
  /** Told about errors of idle clients (the server went away), which are otherwise dropped. */
  onIdleError?: (err: Error) => void;
}

/** BIGINT (int8) as a number: ms timestamps, seq and counts stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The SQLSTATE of an error, or of the error it wraps. */
function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** 5, 10, 20 … ms, capped at 250, each times a random factor in [0.5, 1.5). */
function backoffMs(attempt: number): number {
  return Math.min(250, 5 * 2 ** (attempt - 1)) * (0.5 + Math.random());
}

export class PostgresStore implements PubsubStore {
  private readonly maxAttempts: number;
  private readonly maxConcurrent: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly running = new Set<Promise<unknown>>();
  /** Set by close(): it settles when the pool has ended. */
  private closed: Promise<void> | undefined;

  /** The pool must reach a migrated database (PostgresStore.open does both). */
  constructor(
    private readonly pool: pg.Pool,
    options: PostgresStoreOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 10);
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 1);
    pool.on("error", (err) => options.onIdleError?.(err));
  }

  /**
   * A pool on `url`, the database migrated. Throws DatabaseOpenError when the server or the
   * database cannot be reached, DatabaseVersionError when the database must not be used; both
   * with a one-line message that shows the URL without its password.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const shown = redactUrl(url);
    let pool: pg.Pool | undefined;
    let client: pg.PoolClient;
    try {
      pool = new pg.Pool({
        connectionString: url,
        max: options.poolSize ?? 10,
        connectionTimeoutMillis: 10_000,
        types,
      });
      pool.on("error", () => undefined);
      client = await pool.connect();
    } catch (err) {
      await pool?.end().catch(() => undefined);
      throw new DatabaseOpenError(`cannot open the database ${shown}: ${safeMessage(err, url)}`);
    }
    try {
      await migratePostgres(client);
      client.release();
      return new PostgresStore(pool, options);
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (err instanceof DatabaseVersionError) throw err;
      throw new DatabaseVersionError(`cannot use database ${shown}: ${safeMessage(err, url)}`);
    }
  }

  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    const work = this.inTurn(() => this.withRetries(fn));
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Waits for the running transactions (new ones are refused), then closes the pool. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([...this.running]);
      await this.pool.end();
    })();
    return this.closed;
  }

  /** Run `job` once fewer than maxConcurrent transactions run, in the order they came. */
  private async inTurn<T>(job: () => Promise<T>): Promise<T> {
    // A finished job hands its slot straight to the next in line (active stays as it is).
    if (this.active >= this.maxConcurrent)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private async withRetries<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(fn);
      } catch (err) {
        const state = sqlState(err);
        if (!state || !RETRYABLE.has(state) || attempt >= this.maxAttempts) throw err;
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  /** One SERIALIZABLE transaction on one client; ROLLBACK and rethrow when anything throws. */
  private async attempt<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PostgresTx(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
      const value = await fn(tx);
      tx.finish();
      await client.query("COMMIT");
      return value;
    } catch (err) {
      tx.finish();
      // A client that cannot even roll back is dropped from the pool, not reused.
      broken = await client.query("ROLLBACK").then(
        () => undefined,
        (e: Error) => e,
      );
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
