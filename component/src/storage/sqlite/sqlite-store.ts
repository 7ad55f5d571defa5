/**
 * PubsubStore on SQLite (better-sqlite3): the embedded default. Schema in schemas/sql/, opened
 * and migrated by openDatabase; statements in statements.ts, the tx in sqlite-tx.ts.
 *
 * Transactions are serialised on the one connection: `transaction(fn)` queues a job, and one
 * drain loop runs the jobs in order, each as BEGIN IMMEDIATE … COMMIT (ROLLBACK when `fn`
 * throws, and the job rejects with that error). A job is settled only after its COMMIT has
 * returned; with WAL and synchronous = FULL that is after the commit is on disk.
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

interface Control {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
}

export class SqliteStore implements PubsubStore {
  private readonly q: Statements;
  private readonly control: Control;
  private readonly queue: Job[] = [];
  /** The running drain loop, if any. */
  private draining: Promise<void> | undefined;
  private closing = false;

  /** `db` must be migrated (openDatabase does it); the store owns it from now on and closes it. */
  constructor(private readonly db: Database.Database) {
    this.q = prepareStatements(db);
    this.control = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
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
   * Run the queued jobs one after the other until the queue is empty.
   *
   * Batching commits goes here: take every job queued now (up to a bound) instead of one, BEGIN
   * once, run each job's fn inside its own SAVEPOINT (RELEASE on success, ROLLBACK TO on a
   * throw, so one job's failure undoes only its own writes), COMMIT once, and only then settle
   * all of them: one fsync for the batch, each job still resolved after its durable commit.
   */
  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      const outcome = await this.runOne(job);
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
    this.draining = undefined;
  }

  /** One job in its own BEGIN IMMEDIATE … COMMIT; never throws, the outcome says. */
  private async runOne(job: Job): Promise<Outcome> {
    const tx = new SqliteTx(this.q);
    try {
      this.control.begin.run();
      const value = await job.fn(tx);
      tx.finish();
      this.control.commit.run();
      return { ok: true, value };
    } catch (error) {
      tx.finish();
      this.rollbackQuietly();
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
