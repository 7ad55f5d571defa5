/**
 * PubsubStore on SQLite (better-sqlite3): the embedded default. Schema in schemas/sql/, opened
 * and migrated by openDatabase; statements in statements.ts, the tx in sqlite-tx.ts.
 *
 * Transactions are serialised on the one connection: `transaction(fn)` queues a job, and one
 * drain loop runs the jobs in order. Group commit: the jobs queued while one batch ran form the
 * next (at most MAX_BATCH): one BEGIN IMMEDIATE … COMMIT, each job inside its own SAVEPOINT
 * (released on success; rolled back to when its fn throws, so a failing job undoes only its own
 * writes and rejects with its error). Every job of a batch is settled only after the batch's
 * COMMIT has returned; with WAL and synchronous = FULL that is after the commit is on disk. So
 * the publishes that arrive together cost one fsync, and none is answered before it is durable.
 */
import type Database from "better-sqlite3";
import type { PubsubStore, PubsubTx } from "../../domain/ports.js";
import { openDatabase } from "./open-database.js";
import { SqliteTx } from "./sqlite-tx.js";
import { prepareStatements, type Statements } from "./statements.js";

interface Job {
  fn: (tx: PubsubTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The most jobs committed together. */
const MAX_BATCH = 64;

/**
 * A batch stops taking jobs once it has run this long (ms): the jobs run on the event loop, and
 * 64 subscribes or publishes of a large node in one go would keep every stanza waiting for a
 * third of a second. The rest go first in the next batch, after a turn of the event loop.
 */
const MAX_BATCH_MS = 10;

export interface SqliteStoreOptions {
  /** See MAX_BATCH_MS. */
  maxBatchMs?: number;
}

interface Control {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  savepoint: Database.Statement;
  release: Database.Statement;
  rollbackTo: Database.Statement;
}

export class SqliteStore implements PubsubStore {
  private readonly q: Statements;
  private readonly control: Control;
  private readonly queue: Job[] = [];
  /** The running drain loop, if any. */
  private draining: Promise<void> | undefined;
  private closing = false;

  private readonly maxBatchMs: number;

  /** `db` must be migrated (openDatabase does it); the store owns it from now on and closes it. */
  constructor(
    private readonly db: Database.Database,
    options: SqliteStoreOptions = {},
  ) {
    this.maxBatchMs = options.maxBatchMs ?? MAX_BATCH_MS;
    this.q = prepareStatements(db);
    this.control = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT job"),
      release: db.prepare("RELEASE job"),
      rollbackTo: db.prepare("ROLLBACK TO job"),
    };
  }

  /** Open (creating and migrating) the database at `path`; see openDatabase. */
  static open(path: string): SqliteStore {
    return new SqliteStore(openDatabase(path));
  }

  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error("the store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /** Waits for the queued transactions (new ones are refused), then closes the database. */
  async close(): Promise<void> {
    this.closing = true;
    await this.draining;
    if (this.db.open) this.db.close();
  }

  /**
   * Run the queued jobs, a batch at a time, until the queue is empty; between two batches the
   * event loop takes its turn (stanzas are read, replies written).
   */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const outcomes = await this.runBatch(batch);
      // The jobs the batch had no time for go first in the next one.
      this.queue.unshift(...batch.slice(outcomes.length));
      outcomes.forEach((outcome, i) => {
        const job = batch[i] as Job;
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.error);
      });
      if (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.draining = undefined;
  }

  /**
   * Jobs from the start of `batch` in one BEGIN IMMEDIATE … COMMIT, each in its own savepoint,
   * until maxBatchMs has passed (at least one); their outcomes, in order. Never throws: when the
   * BEGIN or the COMMIT fails, every job that ran fails with that error.
   */
  private async runBatch(batch: readonly Job[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const started = performance.now();
    // The jobs that this batch's failure would fail: all of them until BEGIN has succeeded.
    let included = batch.length;
    try {
      this.control.begin.run();
      included = 0;
      for (const job of batch) {
        included++;
        outcomes.push(await this.runInSavepoint(job));
        if (performance.now() - started >= this.maxBatchMs) break;
      }
      this.control.commit.run();
      return outcomes;
    } catch (error) {
      this.rollbackQuietly();
      return batch.slice(0, included).map(() => ({ ok: false, error }));
    }
  }

  /** One job inside SAVEPOINT … RELEASE; its own failure is rolled back to the savepoint. */
  private async runInSavepoint(job: Job): Promise<Outcome> {
    const tx = new SqliteTx(this.q);
    this.control.savepoint.run();
    try {
      const value = await job.fn(tx);
      tx.finish();
      this.control.release.run();
      return { ok: true, value };
    } catch (error) {
      tx.finish();
      this.control.rollbackTo.run();
      this.control.release.run();
      return { ok: false, error };
    }
  }

  /** Roll back what is open; the caller reports the error that caused it, not this one. */
  private rollbackQuietly(): void {
    if (!this.db.inTransaction) return;
    try {
      this.control.rollback.run();
    } catch {
      // The connection could not roll back (it is closing): SQLite discards the transaction.
    }
  }
}
