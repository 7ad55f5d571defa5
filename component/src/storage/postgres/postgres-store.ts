/**
 * PubsubStore on PostgreSQL (`pg`), for several Warble processes on one database.
 *
 * Group commit, as the SQLite store does it: `transaction(fn)` queues a job, and a drain loop
 * runs the jobs queued while its last batch ran as the next batch (at most MAX_BATCH): one
 * BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT on one client of the pool, each job inside its
 * own SAVEPOINT. A job whose fn throws (or whose statement failed, even if fn caught it) is
 * rolled back to its savepoint and rejects with its own error; the others go on. When a
 * statement of any job, or the COMMIT, fails with serialization_failure (40001) or
 * deadlock_detected (40P01), a conflict with another process, the whole batch is rolled back
 * and run again on a fresh transaction, a bounded number of times with a short jittered
 * backoff (the port allows it: fn does nothing but use its tx); after the last attempt every
 * job of the batch rejects with that error. Every job settles only after its batch's COMMIT
 * has returned, which with PostgreSQL's defaults (synchronous_commit = on) is after the commit
 * is on disk: the publishes that arrive together cost one WAL flush, none is answered before
 * it is durable.
 */
import pg from "pg";
import type { PubsubStore, PubsubTx } from "../../domain/ports.js";
import { DatabaseOpenError, DatabaseVersionError } from "../sqlite/migrations.js";
import { redactUrl, safeMessage } from "./connection-url.js";
import { migratePostgres } from "./migrations.js";
import { PostgresTx } from "./postgres-tx.js";

/** SQLSTATEs after which a batch is run again. */
const RETRYABLE = new Set(["40001", "40P01"]);

/**
 * The most jobs committed together. A job that writes is a subtransaction with its own XID,
 * and PostgreSQL caches 64 of them per backend (PGPROC_MAX_CACHED_SUBXIDS): a transaction with
 * more "overflows" and makes every other backend's snapshots slower until it ends.
 */
const MAX_BATCH = 64;

interface Job {
  fn: (tx: PubsubTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface PostgresStoreOptions {
  /** Attempts of one batch before its serialisation failure is its callers' (10). */
  maxAttempts?: number;
  /** Clients in the pool (10). */
  poolSize?: number;
  /**
   * Batches of this process running at once, each on its own client (1). Use cases of one
   * busy node (every publish reads and trims its items) conflict under SERIALIZABLE: run
   * concurrently they mostly fail and retry. One at a time per process, only other processes'
   * transactions can conflict; the jobs that arrive meanwhile wait and form the next batch.
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

const retryable = (err: unknown): boolean => RETRYABLE.has(sqlState(err) ?? "");

/** 5, 10, 20 … ms, capped at 250, each times a random factor in [0.5, 1.5). */
function backoffMs(attempt: number): number {
  return Math.min(250, 5 * 2 ** (attempt - 1)) * (0.5 + Math.random());
}

export class PostgresStore implements PubsubStore {
  private readonly maxAttempts: number;
  private readonly maxConcurrent: number;
  private readonly queue: Job[] = [];
  /** Drain loops running (at most maxConcurrent). */
  private loops = 0;
  private readonly running = new Set<Promise<void>>();
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
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.loops < this.maxConcurrent) {
        this.loops++;
        const loop = this.drain();
        this.running.add(loop);
        void loop.then(() => this.running.delete(loop));
      }
    });
  }

  /** Waits for the queued transactions (new ones are refused), then closes the pool. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([...this.running]);
      await this.pool.end();
    })();
    return this.closed;
  }

  /**
   * Run the queued jobs a batch at a time until the queue is empty; the jobs queued while a
   * batch runs form the next one. Never throws.
   */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const outcomes = await this.runBatch(batch);
        outcomes.forEach((outcome, i) => {
          const job = batch[i] as Job;
          if (outcome.ok) job.resolve(outcome.value);
          else job.reject(outcome.error);
        });
      }
    } finally {
      // In the same turn as the empty queue was seen: a job queued later starts a loop.
      this.loops--;
    }
  }

  /** The outcomes of `batch`, in order, after up to maxAttempts attempts. Never throws. */
  private async runBatch(batch: readonly Job[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(batch);
      } catch (error) {
        if (!retryable(error) || attempt >= this.maxAttempts) {
          return batch.map(() => ({ ok: false, error }));
        }
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  /**
   * One SERIALIZABLE transaction on one client: each job in a savepoint, then COMMIT. Throws
   * (after ROLLBACK) what failed the batch: a retryable error of any job, or any error of the
   * connection or of BEGIN, SAVEPOINT, RELEASE or COMMIT. The control statements go with the
   * next one: one round trip between two jobs.
   */
  private async attempt(batch: readonly Job[]): Promise<Outcome[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const outcomes: Outcome[] = [];
      let pending = "BEGIN ISOLATION LEVEL SERIALIZABLE";
      for (const job of batch) {
        await client.query(`${pending}; SAVEPOINT job`);
        const outcome = await this.runJob(client, job);
        outcomes.push(outcome);
        pending = outcome.ok
          ? "RELEASE SAVEPOINT job"
          : "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job";
      }
      const results: unknown = await client.query(`${pending}; COMMIT`);
      const last = (Array.isArray(results) ? results.at(-1) : results) as { command?: unknown };
      // COMMIT of a transaction that a statement aborted answers ROLLBACK, without an error.
      if (last?.command !== "COMMIT") throw new Error("the transaction was rolled back");
      return outcomes;
    } catch (err) {
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

  /**
   * Run one job's fn inside the savepoint the caller opened. Its outcome is the caller's to
   * release or roll back; throws a retryable error of the job, which fails the whole batch.
   */
  private async runJob(client: pg.PoolClient, job: Job): Promise<Outcome> {
    const tx = new PostgresTx(client);
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: await job.fn(tx) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    tx.finish();
    if (!outcome.ok && retryable(outcome.error)) throw outcome.error;
    if (retryable(tx.failure)) throw tx.failure;
    // fn caught a failed statement's error and returned: its transaction is aborted all the same.
    if (outcome.ok && tx.failure !== undefined) return { ok: false, error: tx.failure };
    return outcome;
  }
}
