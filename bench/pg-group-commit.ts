/**
 * PostgreSQL group commit (issue 12): N small transactions through PostgresStore.transaction,
 * awaited one at a time, then with C in flight. Each transaction is the store part of a publish:
 * read the node, upsert a new item, trim the node to its max_items. Per series: transactions
 * per second, latency from the call to its promise settling (p50, p99, max), and the commits
 * the server counted (pg_stat_database.xact_commit of the bench's database) and its WAL syncs
 * (pg_stat_wal.wal_sync), read after the series' store has closed its pool so that its
 * backends have flushed their statistics. The server is the tests' private PostgreSQL
 * (test/harness/postgres.ts): its defaults, so fsync = on and synchronous_commit = on.
 * Usage: node dist/bench/pg-group-commit.js [--transactions 1000] [--inflight 20]
 *   [--warmup 50] [--json FILE]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import type { PubsubStore } from "../component/src/domain/ports.js";
import { defaultNodeConfig, type NodeRef } from "../component/src/domain/types.js";
import { PostgresStore } from "../component/src/storage/postgres/postgres-store.js";
import { startPostgres } from "../test/harness/postgres.js";
import { machine } from "./lib/report.js";
import { percentiles } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    transactions: { type: "string", default: "1000" },
    inflight: { type: "string", default: "20" },
    warmup: { type: "string", default: "50" },
    json: { type: "string" },
  },
});
const N = Number(values.transactions);
const INFLIGHT = Number(values.inflight);
const WARMUP = Number(values.warmup);

const REF: NodeRef = { service: "alice@mb.example", node: "urn:xmpp:microblog:0" };

let ids = 0;
/** One publish's worth of store work. */
function publishOnce(store: PubsubStore): Promise<void> {
  const id = `i${++ids}`;
  return store.transaction(async (tx) => {
    const node = await tx.getNode(REF);
    if (!node) throw new Error("no node");
    await tx.upsertItem(REF, {
      id,
      payload: `<entry xmlns="http://www.w3.org/2005/Atom"><title>${id}</title></entry>`,
      publisher: "alice@example",
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    await tx.trimItems(REF, node.config.maxItems);
  });
}

/** `count` transactions, at most `inflight` at once; the latency of each in ms. */
async function series(store: PubsubStore, count: number, inflight: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const t0 = performance.now();
      await publishOnce(store);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, count) }, worker));
  return latencies;
}

interface ServerCounts {
  commits: number;
  walSyncs: number;
}

/**
 * The server's counts for database `db`, once no backend is connected to it (they flush their
 * statistics when they exit); read from the maintenance database, so not counting themselves.
 */
async function serverCounts(maintenance: string, db: string): Promise<ServerCounts> {
  const client = new pg.Client({ connectionString: maintenance });
  await client.connect();
  try {
    for (let i = 0; i < 250; i++) {
      const { rows } = await client.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = $1",
        [db],
      );
      if (Number(rows[0]?.n) === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.query("SELECT pg_stat_clear_snapshot()");
    const { rows } = await client.query<{ commits: string; syncs: string }>(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = $1) AS commits,
              (SELECT wal_sync FROM pg_stat_wal) AS syncs`,
      [db],
    );
    return { commits: Number(rows[0]?.commits), walSyncs: Number(rows[0]?.syncs) };
  } finally {
    await client.end();
  }
}

interface Result {
  inflight: number;
  transactions: number;
  seconds: number;
  perSecond: number;
  latencyMs: ReturnType<typeof percentiles>;
  /** Commits the server counted for the series (less those of opening a store). */
  commits: number;
  walSyncs: number;
}

type Counts = () => Promise<ServerCounts>;

async function measure(
  url: string,
  counts: Counts,
  inflight: number,
  overhead: ServerCounts,
): Promise<Result> {
  const before = await counts();
  const store = await PostgresStore.open(url);
  const t0 = performance.now();
  const latencies = await series(store, N, inflight);
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  const after = await counts();
  return {
    inflight,
    transactions: N,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(N / seconds),
    latencyMs: percentiles(latencies),
    commits: after.commits - before.commits - overhead.commits,
    walSyncs: after.walSyncs - before.walSyncs - overhead.walSyncs,
  };
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const url = await server.newDatabase();
    const counts = () => serverCounts(server.url, new URL(url).pathname.slice(1));
    const setup = await PostgresStore.open(url);
    await setup.transaction((tx) =>
      tx.createNode({
        ...REF,
        owner: "alice@example",
        config: defaultNodeConfig("alice@example"),
        createdAt: 1,
      }),
    );
    await series(setup, WARMUP, 1);
    await setup.close();
    // What opening and closing a store costs by itself (the migration check), subtracted.
    const b = await counts();
    await (await PostgresStore.open(url)).close();
    const a = await counts();
    const overhead = {
      commits: a.commits - b.commits,
      walSyncs: a.walSyncs - b.walSyncs,
    };
    const results = [
      await measure(url, counts, 1, overhead),
      await measure(url, counts, INFLIGHT, overhead),
    ];
    console.log(
      "in flight | transactions | s      | tx/s  | p50 ms | p99 ms | max ms | commits | WAL syncs",
    );
    for (const r of results) {
      console.log(
        [
          String(r.inflight).padStart(9),
          String(r.transactions).padStart(12),
          r.seconds.toFixed(3).padStart(6),
          String(r.perSecond).padStart(5),
          r.latencyMs.p50.toFixed(2).padStart(6),
          r.latencyMs.p99.toFixed(2).padStart(6),
          r.latencyMs.max.toFixed(2).padStart(6),
          String(r.commits).padStart(7),
          String(r.walSyncs).padStart(9),
        ].join(" | "),
      );
    }
    const record = { bench: "pg-group-commit", machine: machine(), results };
    if (values.json) writeFileSync(values.json, `${JSON.stringify(record, null, 2)}\n`);
    else console.log(JSON.stringify(record));
  } finally {
    await server.dispose();
  }
}

await main();
