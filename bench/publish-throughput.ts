/**
 * Publishing (issue 12): publishes per second and acknowledgement latency (p50, p99), on one
 * server per run, for each subscriber count S: one publisher (a c2s client), S subscribers that
 * are JIDs of a sink component (bench/lib/sink.ts), P publishes awaited one by one, then P
 * pipelined (up to I in flight), to
 *   1. Warble's pub@C on each store given (SQLite, PostgreSQL: a fresh Warble and store each);
 *   2. the server's own pubsub (Prosody's `pubsub` component, ejabberd's mod_pubsub), same
 *      subscribers, same posts. Both keep their items: Prosody in its storage (here `internal`,
 *      files: each publish appends to the node's archive and truncates it to max_items), ejabberd
 *      in Mnesia (mod_pubsub's default db); the node's persist_items and max_items as the server
 *      reports them go into the record. Neither syncs each publish to disk; Warble's SQLite does
 *      (WAL, synchronous = FULL, group commit).
 * Each subscriber count gets a freshly started server (the sink's size is fixed per connection).
 * Before each target's phases a few warm-up publishes (not counted).
 * Prints a table, the ratios Warble / own pubsub and PostgreSQL / SQLite, the targets,
 * and the raw numbers as JSON (stdout, or --json FILE), as bench/fanout.ts does.
 * Usage: node dist/bench/publish-throughput.js [--server prosody|ejabberd]
 *   [--store sqlite|postgres|sqlite,postgres] [--subscribers 10,1000] [--publishes 500]
 *   [--inflight 20] [--warmup 20] [--targets warble,pubsub] [--json FILE] [--timeout S] [--stall 20]
 * Loopback only; bounded by the counts given, by --stall (seconds without a notification end a
 * phase) and by --timeout (seconds, the whole run; by default 900 + 6 × S × P / 1000 summed).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NS_PUBSUB } from "../schemas/src/ns.js";
import { type Element, xml } from "../schemas/src/xml.js";
import { connectClient, type TestClient } from "../test/harness/client.js";
import { type ServerKind, tempDir } from "../test/harness/servers.js";
import { type StoreKind, startTestStore, type TestStore } from "../test/harness/stores.js";
import { createNode, NODE } from "./lib/publisher.js";
import { machine } from "./lib/report.js";
import { type FanoutServer, startFanoutServer } from "./lib/servers.js";
import { Sink } from "./lib/sink.js";
import { now } from "./lib/stats.js";
import {
  type Mode,
  type PhaseContext,
  type PublishPhase,
  runPhase,
  warmUp,
} from "./publish/measure.js";
import { ratios, table, targets } from "./publish/report.js";
import { startWarble } from "./publish/warble.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "prosody" },
    store: { type: "string", default: "sqlite" },
    subscribers: { type: "string", default: "10,1000" },
    publishes: { type: "string", default: "500" },
    inflight: { type: "string", default: "20" },
    warmup: { type: "string", default: "20" },
    targets: { type: "string", default: "warble,pubsub" },
    json: { type: "string" },
    timeout: { type: "string" },
    stall: { type: "string", default: "20" },
  },
});

function usage(why: string): never {
  console.error(`publish-throughput: ${why}`);
  process.exit(2);
}

function int(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be an integer ${min}..${max}`);
  return n;
}

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

const KIND = values.server as ServerKind;
if (KIND !== "prosody" && KIND !== "ejabberd") usage("--server must be prosody or ejabberd");
const STORES = list(values.store) as StoreKind[];
for (const s of STORES) if (s !== "sqlite" && s !== "postgres") usage(`unknown store ${s}`);
const SUBSCRIBERS = list(values.subscribers).map((s) => int(s, "subscribers", 1, 100_000));
const POSTS = int(values.publishes, "publishes", 1, 100_000);
const INFLIGHT = int(values.inflight, "inflight", 1, 1000);
const WARMUP = int(values.warmup, "warmup", 0, 10_000);
const TARGETS = new Set(list(values.targets));
for (const t of TARGETS) if (t !== "warble" && t !== "pubsub") usage(`unknown target ${t}`);
if (SUBSCRIBERS.length === 0 || TARGETS.size === 0) usage("nothing to measure");
const STALL_MS = int(values.stall, "stall", 1, 3600) * 1000;
const phasesPerS =
  (TARGETS.has("warble") ? 2 * STORES.length : 0) + (TARGETS.has("pubsub") ? 2 : 0);
const TIMEOUT_S =
  values.timeout === undefined
    ? 900 + Math.ceil(SUBSCRIBERS.reduce((a, s) => a + (phasesPerS * s * POSTS) / 1000, 0))
    : int(values.timeout, "timeout", 1, 86_400);
const PUBLISHER = "pub";
const PASSWORD = "pw";
const MODES: Array<[Mode, number]> = [
  ["one-by-one", 1],
  ["pipelined", INFLIGHT],
];

// ── the run's state: what is being done (for the timeout's line) and what to undo ──

let step = "starting";
let timedOut = false;
const cleanups: Array<() => Promise<unknown>> = [];
const startedAt = now();
const at = (s: string) => {
  step = s;
  console.info(`publish: [${((now() - startedAt) / 1000).toFixed(1)} s] ${s}`);
};

/** Undo everything started, newest first, each step bounded; never throws. */
async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const undo = cleanups.pop()!;
    await Promise.race([undo().catch(() => {}), new Promise((r) => setTimeout(r, 20_000))]);
  }
}

/** Run `undo` now and drop it from the cleanups. */
async function undoNow(undo: () => Promise<unknown>): Promise<void> {
  const i = cleanups.indexOf(undo);
  if (i >= 0) cleanups.splice(i, 1);
  await undo();
}

function armTimeout(): NodeJS.Timeout {
  return setTimeout(async () => {
    timedOut = true;
    console.error(`publish-throughput: timed out after ${TIMEOUT_S} s while ${step}`);
    await cleanup();
    process.exit(1);
  }, TIMEOUT_S * 1000);
}

// ── one server, one subscriber count ──

/** Each phase's sink tag: one letter, never reused on a sink. */
function tags(): () => string {
  let i = 0;
  return () => "abcdefghijklmnopqrstuvwxyz"[i++] ?? usage("too many phases for one sink");
}

interface World {
  server: FanoutServer;
  sink: Sink;
  pub: TestClient;
  subscribers: number;
  tag: () => string;
}

/** Subscribe the sink's JIDs, warm up, then the two modes; the phases measured. */
async function measure(
  w: World,
  service: string,
  what: { target: "warble" | "pubsub"; label: string; store?: StoreKind },
  procs: PhaseContext["procs"],
  warbleOutput?: () => string,
): Promise<{ phases: PublishPhase[]; subscribeSeconds: number }> {
  at(`${w.subscribers} subscribers, ${what.label}: subscribing the sink's JIDs to ${service}`);
  const t0 = now();
  await w.sink.subscribeAll(service, NODE);
  const subscribeSeconds = Math.round(now() - t0) / 1000;
  const ctx: PhaseContext = {
    sink: w.sink,
    pub: w.pub,
    service,
    subscribers: w.subscribers,
    posts: POSTS,
    stallMs: STALL_MS,
    procs,
    warbleOutput,
  };
  at(`${w.subscribers} subscribers, ${what.label}: ${WARMUP} warm-up publishes`);
  await warmUp(ctx, WARMUP, w.tag());
  const phases: PublishPhase[] = [];
  for (const [mode, inflight] of MODES) {
    at(`${w.subscribers} subscribers, ${what.label}: ${POSTS} publishes ${mode}`);
    phases.push(await runPhase(ctx, { ...what, mode, inflight }, w.tag()));
  }
  return { phases, subscribeSeconds };
}

async function warbleTarget(w: World, store: StoreKind) {
  const dir = tempDir("publish-warble");
  const removeDir = async () => rmSync(dir, { recursive: true, force: true });
  cleanups.push(removeDir);
  const db: TestStore =
    store === "sqlite"
      ? { kind: store, db: join(dir, "warble.db"), dispose: async () => {} }
      : await startTestStore("postgres", "publish");
  const disposeDb = () => db.dispose();
  cleanups.push(disposeDb);
  at(`${w.subscribers} subscribers: starting Warble on ${store}`);
  const component = await startWarble(w.server, db.db, dir);
  const stop = () => component.stop();
  cleanups.push(stop);
  const service = `${PUBLISHER}@${w.server.componentDomain}`;
  const out = await measure(
    w,
    service,
    { target: "warble", label: `Warble ${store}`, store },
    { server: () => w.server.pid(), warble: component.proc.pid },
    () => component.output(),
  );
  await undoNow(stop);
  await undoNow(disposeDb);
  await undoNow(removeDir);
  return out;
}

/** The own pubsub node's persist_items and max_items, as its owner's configure form says. */
async function nodeConfig(pub: TestClient, service: string): Promise<Record<string, string>> {
  const reply = await pub.iq(
    xml(
      "iq",
      { type: "get", to: service },
      xml("pubsub", { xmlns: `${NS_PUBSUB}#owner` }, xml("configure", { node: NODE })),
    ),
  );
  const form = reply.getChild("pubsub")?.getChild("configure")?.getChild("x");
  const out: Record<string, string> = {};
  for (const f of form?.getChildren("field") ?? []) {
    const v = (f as Element).attrs.var as string;
    if (v === "pubsub#persist_items" || v === "pubsub#max_items") {
      out[v.slice(7)] = (f as Element).getChildText("value") ?? "";
    }
  }
  if (Object.keys(out).length === 0) out.error = reply.toString().slice(0, 300);
  return out;
}

async function pubsubTarget(w: World) {
  const service = w.server.pubsubDomain;
  at(`${w.subscribers} subscribers: creating ${NODE} at ${service}`);
  await createNode(w.pub, service);
  const config = await nodeConfig(w.pub, service);
  const out = await measure(
    w,
    service,
    { target: "pubsub", label: `${KIND} pubsub` },
    { server: () => w.server.pid() },
  );
  return { ...out, config };
}

async function forSubscribers(subscribers: number) {
  at(`starting ${KIND} for ${subscribers} subscribers`);
  const server = await startFanoutServer(KIND, { publisher: PUBLISHER });
  const dispose = () => server.dispose();
  cleanups.push(dispose);
  await server.register(PUBLISHER, PASSWORD);
  const sink = await Sink.connect(
    server.ports.component,
    server.sinkDomain,
    server.secret,
    subscribers,
  );
  const close = () => sink.close();
  cleanups.push(close);
  const pub = await connectClient(server.ports.c2s, server.usersDomain, PUBLISHER, PASSWORD);
  const stop = () => pub.stop();
  cleanups.push(stop);
  const w: World = { server, sink, pub, subscribers, tag: tags() };
  const phases: PublishPhase[] = [];
  const subscribeSeconds: Record<string, number> = {};
  let ownConfig: Record<string, string> | undefined;
  if (TARGETS.has("warble")) {
    for (const store of STORES) {
      const r = await warbleTarget(w, store);
      phases.push(...r.phases);
      subscribeSeconds[`Warble ${store}`] = r.subscribeSeconds;
    }
  }
  if (TARGETS.has("pubsub")) {
    const r = await pubsubTarget(w);
    phases.push(...r.phases);
    subscribeSeconds[`${KIND} pubsub`] = r.subscribeSeconds;
    ownConfig = r.config;
  }
  await undoNow(stop);
  await undoNow(close);
  await undoNow(dispose);
  return { phases, subscribeSeconds, ownConfig };
}

// ── the run ──

async function main(): Promise<number> {
  const timer = armTimeout();
  try {
    // One PostgreSQL server for the whole run (each Warble gets a fresh database on it).
    if (TARGETS.has("warble") && STORES.includes("postgres")) {
      at("starting PostgreSQL");
      const keeper = await startTestStore("postgres", "publish");
      cleanups.push(() => keeper.dispose());
    }
    const phases: PublishPhase[] = [];
    const subscribe: Record<string, Record<string, number>> = {};
    const ownPubsub: Record<string, Record<string, string> | undefined> = {};
    for (const s of SUBSCRIBERS) {
      const r = await forSubscribers(s);
      phases.push(...r.phases);
      subscribe[s] = r.subscribeSeconds;
      ownPubsub[s] = r.ownConfig;
    }
    const q = ratios(phases);
    const checks = targets(KIND, phases);
    const title =
      `publishing on ${KIND}: ${POSTS} publishes one by one, then ${INFLIGHT} in flight; ` +
      `subscribers ${SUBSCRIBERS.join(", ")} (sink JIDs); Warble on ${STORES.join(", ")}`;
    console.log(`\n${table(title, phases, q, checks)}\n`);
    const record = {
      bench: "publish",
      date: new Date().toISOString(),
      machine: machine(),
      options: {
        server: KIND,
        stores: STORES,
        subscribers: SUBSCRIBERS,
        publishes: POSTS,
        inflight: INFLIGHT,
        warmup: WARMUP,
      },
      ownPubsub: {
        storage: KIND === "prosody" ? "Prosody storage 'internal' (files)" : "Mnesia (default_db)",
        nodeConfig: ownPubsub,
      },
      subscribeSeconds: subscribe,
      phases,
      ratios: q,
      targets: checks,
    };
    if (values.json) writeFileSync(values.json, `${JSON.stringify(record, null, 2)}\n`);
    else console.log(JSON.stringify(record));
    return phases.every((p) => p.received === p.expected && p.publishErrors === 0) ? 0 : 1;
  } catch (err) {
    if (!timedOut) console.error(`publish-throughput: ${(err as Error).message} (while ${step})`);
    return 1;
  } finally {
    clearTimeout(timer);
    await cleanup();
  }
}

main().then((code) => process.exit(code));
