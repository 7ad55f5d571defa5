/**
 * Store at scale (issue 12): a generated store of U users (each with a microblog node), S
 * subscriptions, P posts and home timelines (a reader who follows 1,000 accounts with a full
 * timeline, and a sample of other followers), written straight into the component's real schema
 * (bench/scale/), then measured through a real Prosody against the real component: start-up,
 * resident memory, publish acknowledgements, pages of 20 items (RSM) and of the reader's home
 * timeline (MAM), cold and warm; once with Prosody's defaults (Nagle on) and once with
 * `network_settings = { nagle = false }`; then a CPU profile of the warm series.
 *
 * Usage: node dist/bench/store-scale.js [--store sqlite|postgres|sqlite,postgres]
 *   [--users 100000] [--subscriptions 1000000] [--posts 1000000] [--timeline-rows 1000000]
 *   [--reader-follows 1000] [--warm 200] [--publishes 300] [--paced 100] [--pause-ms 200]
 *   [--publisher-subscribers 100]
 *   [--json FILE] [--compare FILE] [--profile-dir DIR] [--no-profile] [--seed 12]
 * Loopback only; temp dirs and servers are removed at the end.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { checkFidelity } from "./scale/fidelity.js";
import { generate } from "./scale/generate.js";
import { makePlan, type Plan, planSummary } from "./scale/plan.js";
import { formatRatios, formatStore, type StoreResult } from "./scale/report.js";
import { Jids } from "./scale/rows.js";
import {
  runningComponents,
  runProfiled,
  runSession,
  startServer,
  type Workload,
} from "./scale/session.js";
import { type BenchStore, openBenchStore, type StoreKind } from "./scale/stores.js";

const { values } = parseArgs({
  options: {
    store: { type: "string", default: "sqlite" },
    users: { type: "string", default: "100000" },
    subscriptions: { type: "string", default: "1000000" },
    posts: { type: "string", default: "1000000" },
    "timeline-rows": { type: "string", default: "1000000" },
    "reader-follows": { type: "string", default: "1000" },
    warm: { type: "string", default: "200" },
    warmup: { type: "string", default: "20" },
    publishes: { type: "string", default: "300" },
    paced: { type: "string", default: "100" },
    "pause-ms": { type: "string", default: "200" },
    "publisher-subscribers": { type: "string", default: "100" },
    "item-users": { type: "string", default: "50" },
    "catchup-timeout": { type: "string", default: "600" },
    seed: { type: "string", default: "12" },
    json: { type: "string" },
    compare: { type: "string" },
    "profile-dir": { type: "string" },
    "no-profile": { type: "boolean", default: false },
  },
});

const USERS_DOMAIN = "localhost";
const COMPONENT_DOMAIN = "microblog.localhost";
const started = performance.now();
const log = (line: string) =>
  console.error(`store-scale ${((performance.now() - started) / 1000).toFixed(1)}s: ${line}`);

function machine(): Record<string, unknown> {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit: git(["rev-parse", "--short", "HEAD"]),
    dirtyFiles: git(["status", "--porcelain", "--untracked-files=no"]).split("\n").filter(Boolean)
      .length,
  };
}

/** Servers and stores to dispose of when the run is interrupted (SIGINT, SIGTERM). */
const holding = new Set<{ dispose(): Promise<void> }>();
const held = <T extends { dispose(): Promise<void> }>(x: T): T => {
  holding.add(x);
  return x;
};
const release = async (x: { dispose(): Promise<void> }) => {
  holding.delete(x);
  await x.dispose();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: removing servers and temp dirs`);
    for (const proc of runningComponents) proc.kill("SIGKILL");
    void Promise.allSettled([...holding].map((x) => x.dispose())).then(() => process.exit(130));
  });
}

/** The user (not the reader) whose subscriber count is nearest `wanted`. */
function pickPublisher(plan: Plan, wanted: number): number {
  let best = 0;
  plan.subscribersOf.forEach((n, i) => {
    const d = Math.abs(n - wanted);
    if (d < Math.abs((plan.subscribersOf[best] as number) - wanted)) best = i;
  });
  return best;
}

/** A user with posts, no subscribers and no follows (a publish without fan-out). */
function pickQuiet(plan: Plan): number {
  const follows = new Set(plan.follows.follower);
  for (let r = plan.options.users - 1; r >= 0; r--) {
    const user = plan.byRank[r] as number;
    if (plan.subscribersOf[user] === 0 && !follows.has(user) && (plan.postsOf[user] as number) > 0)
      return user;
  }
  return plan.byRank[plan.options.users - 1] as number;
}

/** The workload: the publishers, the most prolific users to read pages of (their item ids). */
async function workload(plan: Plan, jids: Jids, store: BenchStore): Promise<Workload> {
  const publisher = pickPublisher(plan, Number(values["publisher-subscribers"]));
  const itemUsers = [];
  for (let r = 0; r < Math.min(Number(values["item-users"]), plan.options.users); r++) {
    const user = plan.byRank[r] as number;
    if ((plan.postsOf[user] as number) < 40) continue;
    const service = jids.service(user);
    itemUsers.push({ service, ids: await store.itemIds(service, 1000) });
  }
  return {
    publisher: jids.local(publisher),
    publisherSubscribers: plan.subscribersOf[publisher] as number,
    quietPublisher: jids.local(pickQuiet(plan)),
    itemUsers,
    warm: Number(values.warm),
    warmup: Number(values.warmup),
    publishes: Number(values.publishes),
    paced: Number(values.paced),
    pauseMs: Number(values["pause-ms"]),
    catchUpTimeoutMs: Number(values["catchup-timeout"]) * 1000,
  };
}

/** Generate, measure (Nagle on, Nagle off, profiled) and check one store. */
async function runStore(kind: StoreKind): Promise<StoreResult> {
  const options = {
    users: Number(values.users),
    subscriptions: Number(values.subscriptions),
    posts: Number(values.posts),
    readerFollows: Number(values["reader-follows"]),
    timelineRows: Number(values["timeline-rows"]),
    seed: Number(values.seed),
    now: Date.now(),
  };
  const tp = performance.now();
  const plan = makePlan(options);
  const planMs = performance.now() - tp;
  const summary = planSummary(plan);
  log(`${kind}: plan in ${(planMs / 1000).toFixed(1)} s: ${JSON.stringify(summary)}`);
  const jids = new Jids(USERS_DOMAIN, COMPONENT_DOMAIN, plan.reader);
  const store = held(await openBenchStore(kind));
  try {
    const writer = await store.writer();
    const times = await generate(plan, jids, writer, (l) => log(`${kind}: ${l}`));
    await writer.close();
    const settleMs = await store.settle();
    const size = await store.size();
    log(
      `${kind}: written in ${(times.totalMs / 1000).toFixed(1)} s (+${(settleMs / 1000).toFixed(1)} s settling), ${(size.bytes / 2 ** 20).toFixed(0)} MB`,
    );
    const work = await workload(plan, jids, store);
    const sessions = [];
    const profile = [];
    for (const nagleOff of [false, true]) {
      const server = held(await startServer(nagleOff));
      try {
        const nagle = nagleOff ? "off" : "on";
        log(`${kind}: session with Nagle ${nagle}`);
        sessions.push(await runSession(server, store, work, nagle, log));
        if (nagleOff && !values["no-profile"]) {
          log(`${kind}: profiled session`);
          profile.push(...(await runProfiled(server, store, work, values["profile-dir"], log)));
        }
      } finally {
        await release(server);
      }
    }
    const publisherIndex = pickPublisher(plan, Number(values["publisher-subscribers"]));
    const fidelity = await checkFidelity(
      store,
      jids.service(publisherIndex),
      jids.user(publisherIndex),
    );
    return {
      store: kind,
      machine: machine(),
      options,
      plan: summary,
      generation: {
        planMs,
        writeMs: times.totalMs,
        settleMs,
        rowsWritten:
          summary.nodes +
          summary.posts +
          summary.subscriptions +
          summary.timelineRows +
          plan.follows.follower.length,
      },
      size,
      workload: {
        publisher: work.publisher,
        publisherSubscribers: work.publisherSubscribers,
        quietPublisher: work.quietPublisher,
        itemUsers: work.itemUsers.length,
        readerTimeline: summary.readerTimelineRows,
      },
      sessions,
      profile,
      fidelity,
    };
  } finally {
    await release(store);
  }
}

async function main(): Promise<void> {
  const kinds = (values.store ?? "sqlite").split(",") as StoreKind[];
  for (const k of kinds)
    if (k !== "sqlite" && k !== "postgres") throw new Error(`unknown store ${k}`);
  const results: StoreResult[] = [];
  for (const kind of kinds) {
    const result = await runStore(kind);
    results.push(result);
    console.log(`${formatStore(result)}\n`);
  }
  if (values.compare)
    results.push(...(JSON.parse(readFileSync(values.compare, "utf8")) as StoreResult[]));
  const sqlite = results.find((r) => r.store === "sqlite");
  const postgres = results.find((r) => r.store === "postgres");
  if (sqlite && postgres) console.log(formatRatios(sqlite, postgres));
  if (values.json)
    writeFileSync(values.json, `${JSON.stringify(results.slice(0, kinds.length), null, 1)}\n`);
  // The harness's waitForLine leaves its timeout timers running (up to --catchup-timeout).
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`store-scale: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
