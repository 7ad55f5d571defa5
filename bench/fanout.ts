/**
 * Fan-out (issue 12, "The benchmark", first bullet), on one server per run: one publisher, N
 * subscribers that are JIDs of a small sink component (bench/lib/sink.ts), P posts with at most
 * I publishes in flight, three times through the same server:
 *   1. Warble: the sink's JIDs subscribe to pub@C's microblog node; notifications/s at the sink
 *      and publish → last notification per post (p50, p99);
 *   2. the server's own pubsub (Prosody's `pubsub` component, ejabberd's mod_pubsub) with the
 *      same subscribers and the same posts;
 *   3. the route limit: a trivial component sends P × N copies of a Warble notification to the
 *      sink's JIDs as fast as its socket takes them (bench/lib/route-limit.ts).
 * Prints a table with the three rates and the ratios Warble / limit and Warble / server pubsub,
 * and the raw numbers as JSON (stdout, or --json FILE).
 * Usage: node dist/bench/fanout.js [--server prosody|ejabberd] [--subscribers 1000] [--posts 200]
 *   [--inflight 20] [--json FILE] [--timeout S] [--stall 20] [--prosody-nagle on|off]
 *   [--phases warble,pubsub,limit] [--warble-cpu-prof DIR] [--limit-stanza notification|flat]
 * --warble-cpu-prof DIR: Warble runs under the inspector's profiler (bench/lib/profile.ts); the
 *   profile is written to DIR and summarised when Warble stops.
 * --limit-stanza flat: the route limit sends messages of the same size with only a <body>.
 * Loopback only; bounded by the counts given and by --timeout (seconds, the whole run; by
 * default 600 + 3 × N × P / 1000, i.e. the three phases at no less than 1,000 notifications/s).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Element } from "../schemas/src/xml.js";
import { connectClient, type TestClient } from "../test/harness/client.js";
import { type ComponentProcess, spawnComponent } from "../test/harness/component.js";
import { type ServerKind, tempDir } from "../test/harness/servers.js";
import { healthDuring } from "./lib/health.js";
import { profilerOptions, summarise } from "./lib/profile.js";
import { createNode, NODE, postText, publishPosts } from "./lib/publisher.js";
import {
  type CpuUse,
  limitResult,
  machine,
  type PhaseName,
  type PhaseResult,
  publishingResult,
  ratios,
  table,
} from "./lib/report.js";
import {
  flatTemplate,
  startRouteLimit,
  syntheticNotification,
  templateOf,
} from "./lib/route-limit.js";
import { type FanoutServer, startFanoutServer } from "./lib/servers.js";
import { Sink } from "./lib/sink.js";
import { cpuSeconds, machineBusySeconds, now } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "prosody" },
    subscribers: { type: "string", default: "1000" },
    posts: { type: "string", default: "200" },
    inflight: { type: "string", default: "20" },
    json: { type: "string" },
    timeout: { type: "string" },
    stall: { type: "string", default: "20" },
    "prosody-nagle": { type: "string", default: "on" },
    phases: { type: "string", default: "warble,pubsub,limit" },
    "warble-cpu-prof": { type: "string" },
    "limit-stanza": { type: "string", default: "notification" },
  },
});

/** A count flag as a positive integer at most `max`; a bad one is a usage error. */
function count(name: keyof typeof values, max: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1 || n > max) usage(`--${name} must be an integer 1..${max}`);
  return n;
}

function usage(why: string): never {
  console.error(`fanout: ${why}`);
  process.exit(2);
}

const KIND = values.server as ServerKind;
if (KIND !== "prosody" && KIND !== "ejabberd") usage("--server must be prosody or ejabberd");
const N = count("subscribers", 100_000);
const POSTS = count("posts", 100_000);
const INFLIGHT = count("inflight", 1000);
const TIMEOUT_S =
  values.timeout === undefined ? 600 + Math.ceil((3 * N * POSTS) / 1000) : count("timeout", 86_400);
const STALL_MS = count("stall", 3600) * 1000;
const PHASES = new Set(values.phases.split(",").map((s) => s.trim()));
for (const p of PHASES) {
  if (!["warble", "pubsub", "limit"].includes(p)) usage(`unknown phase ${p}`);
}
const FLAT = values["limit-stanza"] === "flat";
if (!FLAT && values["limit-stanza"] !== "notification") {
  usage("--limit-stanza must be notification or flat");
}
const PUBLISHER = "pub";
const PASSWORD = "pw";

// ── the run's state: what is being done (for the timeout's line) and what to undo ──

let step = "starting";
let timedOut = false;
const cleanups: Array<() => Promise<unknown>> = [];
const startedAt = now();
const at = (s: string) => {
  step = s;
  console.info(`fanout: [${((now() - startedAt) / 1000).toFixed(1)} s] ${s}`);
};

/** Subscribe the sink's JIDs to `service`; the seconds it took. */
async function subscribe(sink: Sink, service: string): Promise<number> {
  at(`subscribing ${N} sink JIDs to ${service}`);
  const t0 = now();
  await sink.subscribeAll(service, NODE);
  return Math.round(now() - t0) / 1000;
}

/** Undo everything started, newest first, each step bounded; never throws. */
async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const undo = cleanups.pop()!;
    await Promise.race([undo().catch(() => {}), new Promise((r) => setTimeout(r, 20_000))]);
  }
}

/** When the run exceeds --timeout: one line, everything stopped, exit 1. */
function armTimeout(): NodeJS.Timeout {
  return setTimeout(async () => {
    timedOut = true;
    console.error(`fanout: timed out after ${TIMEOUT_S} s while ${step}`);
    await cleanup();
    process.exit(1);
  }, TIMEOUT_S * 1000);
}

// ── measuring ──

interface Processes {
  server: FanoutServer;
  senderPid?: number;
}

/** CPU seconds so far of the server, the sender and this process. */
function cpuNow(p: Processes) {
  const self = process.cpuUsage();
  return {
    at: now(),
    server: cpuSeconds(p.server.pid()),
    sender: cpuSeconds(p.senderPid),
    sink: (self.user + self.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

function cpuSince(before: ReturnType<typeof cpuNow>, p: Processes): CpuUse {
  const after = cpuNow(p);
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round((a - b) * 100) / 100;
  const ours = [d(after.server, before.server), d(after.sender, before.sender)];
  const sink = d(after.sink, before.sink) ?? 0;
  const busy = d(after.machine, before.machine);
  const others =
    busy === undefined ? undefined : Math.max(0, busy - sink - (ours[0] ?? 0) - (ours[1] ?? 0));
  return {
    wallSeconds: Math.round(after.at - before.at) / 1000,
    server: ours[0],
    sender: ours[1],
    sink,
    others: others === undefined ? undefined : Math.round(others * 100) / 100,
  };
}

/**
 * One publishing phase: the sink counts `tag`, the publisher posts, the sink waits for every
 * notification (or a stall). Resolves with the figures and the phase's first notification.
 */
async function publishingPhase(
  phase: PhaseName,
  label: string,
  tag: string,
  service: string,
  ctx: { sink: Sink; pub: TestClient; procs: Processes },
): Promise<{ result: PhaseResult; first?: Element }> {
  const { sink, pub, procs } = ctx;
  sink.begin(tag, POSTS);
  const captured = sink.captureNext();
  const cpu0 = cpuNow(procs);
  at(`${label}: ${POSTS} posts to ${service}, ${INFLIGHT} in flight`);
  const run = await publishPosts(pub, service, tag, POSTS, INFLIGHT);
  at(`${label}: waiting for ${POSTS * N} notifications at the sink`);
  await sink.waitFor(POSTS * N, STALL_MS);
  const cpu = cpuSince(cpu0, procs);
  const counts = sink.result();
  const result = publishingResult(phase, label, N, counts, run, cpu);
  return { result, first: counts.received > 0 ? await captured : undefined };
}

/**
 * Warble: spawned on a fresh SQLite store (in a temp dir removed at the end) with the abuse
 * limits out of the way: every sink JID is a request from one remote domain.
 */
async function startWarble(server: FanoutServer): Promise<ComponentProcess> {
  const dir = tempDir("fanout-warble");
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "config.json");
  const many = 1_000_000_000;
  writeFileSync(
    config,
    JSON.stringify({
      limits: {
        maxRequestsPerDomainPerMinute: many,
        maxRequestsPerRequesterPerMinute: many,
        maxPendingPerDomainPerNode: many,
        maxPendingPerNode: many,
      },
    }),
  );
  // A health line a second: the event loop's delay and the memory during the fan-out.
  const env: Record<string, string> = {
    WARBLE_SECRET: server.secret,
    WARBLE_HEALTH_LOG_SECONDS: "1",
  };
  const prof = values["warble-cpu-prof"];
  if (prof) env.NODE_OPTIONS = profilerOptions(prof, dir);
  const component = spawnComponent(
    // At info Warble logs its "ready" line and nothing per stanza.
    [...server.componentArgs(join(dir, "warble.db")), "--config", config, "--log-level", "info"],
    env,
  );
  await component.waitForLine(/"msg":"ready"/, 30_000);
  return component;
}

async function warblePhase(ctx: { server: FanoutServer; sink: Sink; pub: TestClient }) {
  at("starting Warble");
  const component = await startWarble(ctx.server);
  cleanups.push(() => component.stop());
  const service = `${PUBLISHER}@${ctx.server.componentDomain}`;
  const subscribeSeconds = await subscribe(ctx.sink, service);
  const procs = { server: ctx.server, senderPid: component.proc.pid };
  const from = now();
  const out = await publishingPhase("warble", "Warble", "w", service, { ...ctx, procs });
  out.result.subscribeSeconds = subscribeSeconds;
  out.result.health = healthDuring(component.output(), from, now());
  at("stopping Warble");
  await component.stop();
  const prof = values["warble-cpu-prof"];
  if (prof) console.info(`Warble's CPU profile, by self time:\n${summarise(prof).join("\n")}`);
  return out;
}

async function pubsubPhase(ctx: { server: FanoutServer; sink: Sink; pub: TestClient }) {
  const service = ctx.server.pubsubDomain;
  const label = `${KIND} pubsub`;
  at(`creating ${NODE} at ${service}`);
  await createNode(ctx.pub, service);
  const subscribeSeconds = await subscribe(ctx.sink, service);
  const procs = { server: ctx.server };
  const { result } = await publishingPhase("pubsub", label, "p", service, { ...ctx, procs });
  return { ...result, subscribeSeconds };
}

async function limitPhase(ctx: { server: FanoutServer; sink: Sink }, notification: Element) {
  const { server, sink } = ctx;
  const from = `${PUBLISHER}@${server.limitDomain}`;
  at(`route limit: ${POSTS * N} messages from ${server.limitDomain} to the sink`);
  const sender = await startRouteLimit({
    port: server.ports.component,
    domain: server.limitDomain,
    secret: server.secret,
    template: FLAT
      ? flatTemplate(notification.toString().length, from)
      : templateOf(notification, from),
    sinkDomain: server.sinkDomain,
    subscribers: N,
    posts: POSTS,
    tag: "l",
  });
  cleanups.push(() => sender.stop());
  sink.begin("l", POSTS);
  const procs = { server, senderPid: sender.pid };
  const cpu0 = cpuNow(procs);
  const times = await sender.go();
  await sink.waitFor(POSTS * N, STALL_MS);
  const cpu = cpuSince(cpu0, procs);
  await sender.stop();
  return limitResult(N, sink.result(), times.startedAt, times.writtenAt, cpu);
}

// ── the run ──

async function run(): Promise<{ phases: PhaseResult[]; title: string }> {
  at(`starting ${KIND}`);
  const server = await startFanoutServer(KIND, {
    publisher: PUBLISHER,
    nagleOff: values["prosody-nagle"] === "off",
  });
  cleanups.push(() => server.dispose());
  await server.register(PUBLISHER, PASSWORD);
  const sink = await Sink.connect(server.ports.component, server.sinkDomain, server.secret, N);
  cleanups.push(() => sink.close());
  const pub = await connectClient(server.ports.c2s, server.usersDomain, PUBLISHER, PASSWORD);
  cleanups.push(() => pub.stop());
  const ctx = { server, sink, pub };
  const phases: PhaseResult[] = [];
  let notification = syntheticNotification(postText("l", 0));
  if (PHASES.has("warble")) {
    const w = await warblePhase(ctx);
    phases.push(w.result);
    if (w.first) notification = w.first;
  }
  if (PHASES.has("pubsub")) phases.push(await pubsubPhase(ctx));
  if (PHASES.has("limit")) phases.push(await limitPhase(ctx, notification));
  const nagle = KIND === "prosody" ? `, Prosody Nagle ${values["prosody-nagle"]}` : "";
  const title =
    `fan-out on ${KIND}${nagle}: ${N} subscribers x ${POSTS} posts = ${N * POSTS} ` +
    `notifications, ${INFLIGHT} publishes in flight`;
  return { phases, title };
}

async function main(): Promise<number> {
  const timer = armTimeout();
  try {
    const { phases, title } = await run();
    const q = ratios(phases);
    console.log(`\n${table(title, phases, q)}\n`);
    const record = {
      bench: "fanout",
      date: new Date().toISOString(),
      machine: machine(),
      options: {
        server: KIND,
        subscribers: N,
        posts: POSTS,
        inflight: INFLIGHT,
        limitStanza: values["limit-stanza"],
      },
      prosodyNagle: KIND === "prosody" ? values["prosody-nagle"] : undefined,
      phases,
      ratios: q,
    };
    if (values.json) writeFileSync(values.json, `${JSON.stringify(record, null, 2)}\n`);
    else console.log(JSON.stringify(record));
    return phases.every((p) => p.received === p.expected) ? 0 : 1;
  } catch (err) {
    // After the timeout's line, what fails as everything is stopped says nothing more.
    if (!timedOut) console.error(`fanout: ${(err as Error).message} (while ${step})`);
    return 1;
  } finally {
    clearTimeout(timer);
    await cleanup();
  }
}

main().then((code) => process.exit(code));
