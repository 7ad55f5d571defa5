/**
 * Resident memory of the component process around a burst, on Prosody, with a second
 * (federated) Prosody for remote followers over s2s (test/harness/federation.ts).
 *
 * RSS (VmRSS of /proc/<pid>/status of the spawned component) after start, after a warm-up, then
 * during a burst run all at once:
 * - IQs from local users: pings, disco#info/#items (at C and u@C), pubsub items requests (of small
 *   nodes, and of the node holding the large posts), ad-hoc executes that open a session and
 *   leave it open (`approve`, §8.7 get-pending) and ones that complete (`followers`);
 * - publishes of ~60 KB Atom entries by one local user (with a few local followers);
 * - subscribes from accounts of the second server, each to several local users' nodes;
 * then idle, sampled every second. The component's limits are raised in its config file so that
 * nothing of the burst is refused. A preload (NODE_OPTIONS --require, written to the run's temp
 * dir; the component is not changed) prints the V8 heap once a second and, at the very end, after
 * a forced GC (SIGUSR2); --no-probe runs the component bare.
 *
 * Usage: node dist/bench/memory-burst.js [--iqs 2000] [--publishes 100] [--remote 100]
 *   [--per-remote 5] [--idle 30] [--kinds "ping,items large node,..."] [--no-probe]
 *   [--component-env KEY=VALUE ...] (e.g. NODE_OPTIONS=--max-semi-space-size=2, appended)
 * Loopback only, bounded by the counts given. Exits 1 on a harness failure (a server or the
 * component not starting or dying, an IQ unanswered, a publish or subscribe refused), never on
 * missing the memory target: this is a measurement.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  NS_ATOM,
  NS_COMMANDS,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_PING,
  NS_PUBSUB,
} from "../schemas/src/ns.js";
import { type Element, xml } from "../schemas/src/xml.js";
import { connectClient, type TestClient } from "../test/harness/client.js";
import { type ComponentProcess, spawnComponent } from "../test/harness/component.js";
import { type FederatedPair, startFederatedProsodyPair } from "../test/harness/federation.js";
import { tempDir } from "../test/harness/servers.js";

const NODE = "urn:xmpp:microblog:0";
const NODE_GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";
const HOME = "localhost";
const ROGUE = "rogue.localhost";
const C = "microblog.localhost";
const PROBE_TAG = "warble-bench-probe";
/** The target: RSS after the idle period within 20% of where it started. */
const TARGET_RATIO = 1.2;

const { values } = parseArgs({
  options: {
    iqs: { type: "string", default: "2000" },
    warmup: { type: "string", default: "50" },
    publishes: { type: "string", default: "100" },
    "entry-bytes": { type: "string", default: "60000" },
    remote: { type: "string", default: "100" },
    "per-remote": { type: "string", default: "5" },
    owners: { type: "string", default: "10" },
    followers: { type: "string", default: "3" },
    idle: { type: "string", default: "30" },
    concurrency: { type: "string", default: "32" },
    "log-level": { type: "string", default: "info" },
    "no-probe": { type: "boolean", default: false },
    /** Comma-separated IQ kinds of the mix (default: all; see IQ_KINDS). */
    kinds: { type: "string", default: "" },
    "component-env": { type: "string", multiple: true, default: [] },
  },
});
const count = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
};
const IQS = count("iqs");
const WARMUP = count("warmup");
const PUBLISHES = count("publishes");
const ENTRY_BYTES = count("entry-bytes");
const REMOTE = count("remote");
const PER_REMOTE = count("per-remote");
const OWNERS = Math.max(1, count("owners"));
const FOLLOWERS = count("followers");
const IDLE_S = count("idle");
const CONCURRENCY = Math.max(1, count("concurrency"));
if (PER_REMOTE > OWNERS) throw new Error("--per-remote cannot exceed --owners");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pw = (user: string) => `${user}-pw`;
const svc = (user: string) => `${user}@${C}`;
const OWNER_NAMES = Array.from({ length: OWNERS }, (_, i) => `o${i}`);
const FOLLOWER_NAMES = Array.from({ length: FOLLOWERS }, (_, i) => `f${i}`);
const REMOTE_NAMES = Array.from({ length: REMOTE }, (_, i) => `r${String(i).padStart(3, "0")}`);
const PUBLISHER = "pub";

/** Run fn(0..n-1), at most `width` at a time; rejects on the first failure. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
}

// ── stanzas ──

const iq = (type: "get" | "set", to: string, child: Element) => xml("iq", { type, to }, child);
const pubsub = (...children: Element[]) => xml("pubsub", { xmlns: NS_PUBSUB }, ...children);
const command = (node: string) => xml("command", { xmlns: NS_COMMANDS, node, action: "execute" });

/** A text of about `bytes` ASCII characters, different for each n. */
function longText(n: number, bytes: number): string {
  const words = ["warble", "microblog", "entry", "federation", "memory", "burst", "atom", "node"];
  let s = `post ${n}:`;
  for (let i = 0; s.length < bytes; i++) s += ` ${words[(i * 7 + n) % words.length]}${i % 97}`;
  return s.slice(0, bytes);
}

const publishIq = (user: string, title: string, content?: string) =>
  iq(
    "set",
    svc(user),
    pubsub(
      xml(
        "publish",
        { node: NODE },
        xml(
          "item",
          {},
          xml(
            "entry",
            { xmlns: NS_ATOM },
            xml("title", { type: "text" }, title),
            content !== undefined && xml("content", { type: "text" }, content),
          ),
        ),
      ),
    ),
  );

const subscribeIq = (user: string, jid: string) =>
  iq("set", svc(user), pubsub(xml("subscribe", { node: NODE, jid })));

/** The IQ mix of the warm-up and the burst; `sender` is an owner oK, `other` another user. */
const IQ_KINDS: Record<string, (sender: string, other: string) => Element> = {
  ping: () => iq("get", C, xml("ping", { xmlns: NS_PING })),
  "disco#info C": () => iq("get", C, xml("query", { xmlns: NS_DISCO_INFO })),
  "disco#items C": () => iq("get", C, xml("query", { xmlns: NS_DISCO_ITEMS })),
  "disco#items commands": () =>
    iq("get", C, xml("query", { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })),
  "disco#info u@C": (_s, other) => iq("get", svc(other), xml("query", { xmlns: NS_DISCO_INFO })),
  "disco#items u@C": (_s, other) => iq("get", svc(other), xml("query", { xmlns: NS_DISCO_ITEMS })),
  "items small node": (_s, other) => iq("get", svc(other), pubsub(xml("items", { node: NODE }))),
  "items large node": () => iq("get", svc(PUBLISHER), pubsub(xml("items", { node: NODE }))),
  "adhoc approve (open)": () => iq("set", C, command("approve")),
  "adhoc get-pending (open)": (sender) => iq("set", svc(sender), command(NODE_GET_PENDING)),
  "adhoc followers": () => iq("set", C, command("followers")),
};
const KIND_NAMES = values.kinds
  ? values.kinds.split(",").map((k) => k.trim())
  : Object.keys(IQ_KINDS);
for (const k of KIND_NAMES)
  if (!IQ_KINDS[k]) throw new Error(`unknown IQ kind ${k} (known: ${Object.keys(IQ_KINDS)})`);

// ── measuring ──

interface ProcMemory {
  rssKb: number;
  anonKb: number;
  hwmKb: number;
}

function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssKb: kb("VmRSS"), anonKb: kb("RssAnon"), hwmKb: kb("VmHWM") };
}

/** User + system CPU seconds of the process so far (/proc/<pid>/stat, clock ticks of 10 ms). */
function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface HeapLine {
  gc: boolean;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces?: Record<string, { used: number; size: number }>;
  /** Scavenges and mark-compacts so far, and their total time. */
  gcs?: { minor: number; major: number; ms: number };
  /** Largest socket write queue (bytes written, not yet taken by the kernel) since the last line. */
  writeQueue?: number;
}

/** Written to the run's temp dir and preloaded into the component with NODE_OPTIONS. */
const PROBE_SOURCE = `"use strict";
const v8 = require("node:v8");
const { PerformanceObserver, constants } = require("node:perf_hooks");
const gcs = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    gcs.ms += e.duration;
  }
}).observe({ entryTypes: ["gc"] });
// Bytes the component has written that its sockets have not yet handed to the kernel (the
// largest seen since the last line, sampled every 100 ms).
let writeQueue = 0;
setInterval(() => {
  let n = 0;
  for (const h of process._getActiveHandles()) if (typeof h.writableLength === "number") n += h.writableLength;
  writeQueue = Math.max(writeQueue, n);
}, 100).unref();
const emit = (gc) => {
  const m = process.memoryUsage();
  const line = { ${JSON.stringify(PROBE_TAG)}: true, gc, ...m, gcs: { ...gcs }, writeQueue, spaces: {} };
  writeQueue = 0;
  for (const s of v8.getHeapSpaceStatistics())
    line.spaces[s.space_name] = { used: s.space_used_size, size: s.space_size };
  process.stderr.write(JSON.stringify(line) + "\\n");
};
setInterval(() => emit(false), 1000).unref();
process.on("SIGUSR2", () => {
  // A full GC that also gives memory back (as V8's memory reducer does), then let the pages go.
  if (typeof globalThis.gc === "function")
    globalThis.gc({ type: "major", execution: "sync", flavor: "last-resort" });
  setTimeout(() => emit(true), 1000);
});
`;

function heapLines(component: ComponentProcess): HeapLine[] {
  return component
    .output()
    .split("\n")
    .filter((l) => l.includes(PROBE_TAG))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HeapLine];
      } catch {
        return [];
      }
    });
}

function lastHeapLine(component: ComponentProcess, gc = false): HeapLine | undefined {
  const lines = component.output().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] ?? "";
    if (!l.includes(PROBE_TAG)) continue;
    try {
      const parsed = JSON.parse(l) as HeapLine;
      if (!gc || parsed.gc) return parsed;
    } catch {
      // A line cut by the read: take an earlier one.
    }
  }
  return undefined;
}

interface Sample {
  atMs: number;
  phase: string;
  mem: ProcMemory;
}

class Sampler {
  readonly samples: Sample[] = [];
  phase = "start";
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();

  constructor(private readonly pid: number) {}

  take(): Sample {
    const s = {
      atMs: performance.now() - this.t0,
      phase: this.phase,
      mem: readProcMemory(this.pid),
    };
    this.samples.push(s);
    return s;
  }

  every(ms: number): void {
    this.stop();
    this.timer = setInterval(() => {
      try {
        this.take();
      } catch {
        // The process went away: the caller notices.
      }
    }, ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const mb = (kb: number | undefined) => (kb === undefined ? "" : (kb / 1024).toFixed(1));
const mbBytes = (b: number | undefined) => (b === undefined ? "" : (b / 1048576).toFixed(1));

// ── the run ──

interface Counts {
  sent: number;
  errors: Record<string, number>;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const pair: FederatedPair = await startFederatedProsodyPair();
  const clients: TestClient[] = [];
  let component: ComponentProcess | undefined;
  let sampler: Sampler | undefined;
  const dir = tempDir("memory-burst");
  try {
    const { home, rogue } = pair;
    const configFile = join(dir, "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        maxPostLength: 65536,
        maxPayloadBytes: 65536,
        limits: {
          maxPendingPerDomainPerNode: 100_000,
          maxRequestsPerDomainPerMinute: 100_000,
          maxRequestsPerRequesterPerMinute: 10_000,
          maxPendingPerNode: 100_000,
        },
      }),
    );
    const homeUsers = [PUBLISHER, ...FOLLOWER_NAMES, ...OWNER_NAMES];
    await Promise.all([
      pool(homeUsers.length, 16, (i) => home.register(homeUsers[i]!, pw(homeUsers[i]!))),
      pool(REMOTE, 16, (i) => rogue.register(REMOTE_NAMES[i]!, pw(REMOTE_NAMES[i]!))),
    ]);

    const env: Record<string, string> = {
      WARBLE_SECRET: home.secret,
      WARBLE_LOG_LEVEL: values["log-level"] ?? "info",
    };
    const probe = !values["no-probe"];
    if (probe) {
      const probeFile = join(dir, "probe.cjs");
      writeFileSync(probeFile, PROBE_SOURCE);
      env.NODE_OPTIONS = `--expose-gc --require=${probeFile}`;
    }
    for (const kv of values["component-env"] ?? []) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new Error(`--component-env wants KEY=VALUE, got ${kv}`);
      const key = kv.slice(0, eq);
      const value = kv.slice(eq + 1);
      env[key] = key === "NODE_OPTIONS" && env[key] ? `${env[key]} ${value}` : value;
    }
    component = spawnComponent(
      [...home.componentArgs(join(dir, "warble.db")), "--config", configFile],
      env,
    );
    const proc = component;
    await proc.waitForLine(/"msg":"ready"/);
    const pid = proc.proc.pid;
    if (pid === undefined) throw new Error("the component has no pid");
    const alive = () => {
      if (proc.proc.exitCode !== null || proc.proc.signalCode !== null)
        throw new Error(`the component exited; output:\n${proc.output().slice(-4000)}`);
    };
    const s = new Sampler(pid);
    sampler = s;
    const atReady = s.take();
    s.every(250);

    // Clients (they do not touch the component) and the nodes: setup, before the baseline.
    const login = async (port: number, domain: string, user: string) => {
      const c = await connectClient(port, domain, user, pw(user));
      clients.push(c);
      return c;
    };
    const byName = new Map<string, TestClient>();
    await pool(homeUsers.length, 16, async (i) => {
      const u = homeUsers[i]!;
      byName.set(u, await login(home.ports.c2s, HOME, u));
    });
    const remotes: TestClient[] = new Array(REMOTE);
    await pool(REMOTE, 16, async (i) => {
      remotes[i] = await login(rogue.ports.c2s, ROGUE, REMOTE_NAMES[i]!);
    });
    const c = (u: string) => byName.get(u)!;
    const expectResult = (what: string, reply: Element) => {
      if (reply.attrs.type !== "result") throw new Error(`${what}: ${reply.toString()}`);
    };
    for (const u of [PUBLISHER, ...OWNER_NAMES])
      expectResult(`first post of ${u}`, await c(u).iq(publishIq(u, `${u}'s first post`)));
    for (const f of FOLLOWER_NAMES)
      expectResult(`${f} follows`, await c(f).iq(subscribeIq(PUBLISHER, `${f}@${HOME}`)));

    // Warm-up.
    s.phase = "warm-up";
    const runIqs = async (n: number, offset: number, counts: Map<string, Counts>) =>
      pool(n, CONCURRENCY, async (j) => {
        const i = j + offset;
        const kind = KIND_NAMES[i % KIND_NAMES.length]!;
        const sender = OWNER_NAMES[i % OWNERS]!;
        const other = OWNER_NAMES[(i + 1) % OWNERS]!;
        const reply = await c(sender).iq(IQ_KINDS[kind]!(sender, other), 30_000);
        const k = counts.get(kind) ?? { sent: 0, errors: {} };
        k.sent++;
        if (reply.attrs.type !== "result") {
          const cond =
            reply.getChild("error")?.children.find((x): x is Element => typeof x !== "string")
              ?.name ?? "?";
          k.errors[cond] = (k.errors[cond] ?? 0) + 1;
        }
        counts.set(kind, k);
      });
    await runIqs(WARMUP, 0, new Map());
    await sleep(2000);
    alive();
    s.phase = "baseline";
    const atStart = s.take();
    const heapStart = lastHeapLine(proc);
    const cpuStart = readCpuSeconds(pid);
    const heapLinesBefore = heapLines(proc).length;

    // The burst: IQs, publishes and remote subscribes, all at once.
    s.phase = "burst";
    const burstT0 = performance.now();
    const iqCounts = new Map<string, Counts>();
    const timed = async (p: Promise<void>) => {
      const start = performance.now();
      await p;
      return Math.round(performance.now() - start);
    };
    const pub = c(PUBLISHER);
    const [iqMs, publishMs, subscribeMs] = await Promise.all([
      timed(runIqs(IQS, WARMUP, iqCounts)),
      timed(
        pool(PUBLISHES, 4, async (n) => {
          const reply = await pub.iq(
            publishIq(PUBLISHER, `large post ${n}`, longText(n, ENTRY_BYTES)),
            60_000,
          );
          expectResult(`publish ${n}`, reply);
        }),
      ),
      timed(
        pool(REMOTE * PER_REMOTE, 50, async (j) => {
          const i = Math.floor(j / PER_REMOTE);
          const owner = OWNER_NAMES[(i + (j % PER_REMOTE)) % OWNERS]!;
          const remote = remotes[i]!;
          const reply = await remote.iq(subscribeIq(owner, remote.jid), 60_000);
          expectResult(`${remote.jid} subscribes to ${owner}`, reply);
          const state = reply.getChild("pubsub", NS_PUBSUB)?.getChild("subscription")
            ?.attrs.subscription;
          if (state !== "subscribed")
            throw new Error(`${remote.jid} -> ${owner}: ${state}: ${reply.toString()}`);
        }),
      ),
    ]);
    const burstMs = Math.round(performance.now() - burstT0);
    alive();
    s.phase = "burst done";
    const atBurstEnd = s.take();
    const burstCpu = readCpuSeconds(pid) - cpuStart;
    const heapBurstEnd = lastHeapLine(proc);
    const notificationsSeen = FOLLOWER_NAMES.reduce(
      (n, f) =>
        n +
        c(f).received.filter((el) => el.name === "message" && el.getChild("event") !== undefined)
          .length,
      0,
    );

    // Idle.
    s.phase = "idle";
    s.stop();
    const idle: Sample[] = [];
    for (let i = 1; i <= IDLE_S; i++) {
      await sleep(1000);
      alive();
      idle.push(s.take());
    }
    const atEnd = idle[idle.length - 1] ?? s.take();
    const heapEnd = lastHeapLine(proc);
    const probeLines = heapLines(proc);
    const heapPeak = probeLines
      .slice(heapLinesBefore)
      .reduce<HeapLine | undefined>((a, b) => (!a || b.heapTotal > a.heapTotal ? b : a), undefined);
    // The heap once a second while idle (the last IDLE_S probe lines before the forced GC).
    const idleHeap = probeLines.slice(-IDLE_S);
    let atGc: Sample | undefined;
    let heapGc: HeapLine | undefined;
    if (probe) {
      proc.proc.kill("SIGUSR2");
      await proc.waitForLine(/"gc":true/, 10_000);
      await sleep(500);
      s.phase = "after forced GC";
      atGc = s.take();
      heapGc = lastHeapLine(proc, true);
    }
    const peak = s.samples.reduce((a, b) => (b.mem.rssKb > a.mem.rssKb ? b : a));
    const ratio = atEnd.mem.rssKb / atStart.mem.rssKb;

    // Report.
    const row = (label: string, smp: Sample | undefined, h?: HeapLine) =>
      [
        label.padEnd(28),
        mb(smp?.mem.rssKb).padStart(8),
        mb(smp?.mem.anonKb).padStart(9),
        mbBytes(h?.heapUsed).padStart(9),
        mbBytes(h?.heapTotal).padStart(10),
        mbBytes(h?.external).padStart(9),
        mbBytes(h?.arrayBuffers).padStart(8),
      ].join(" ");
    console.log(
      `\nmemory-burst on Prosody + federated Prosody: ${IQS} IQs, ${PUBLISHES} publishes of ` +
        `${ENTRY_BYTES} B, ${REMOTE * PER_REMOTE} remote subscribes (${REMOTE} accounts × ${PER_REMOTE})`,
    );
    console.log(
      `burst ${burstMs} ms (IQs ${iqMs} ms, publishes ${publishMs} ms, subscribes ${subscribeMs} ms); ` +
        `${notificationsSeen} notifications reached the ${FOLLOWERS} local followers; ` +
        `component CPU during the burst ${burstCpu.toFixed(1)} s`,
    );
    console.log(
      `\n${"".padEnd(28)} ${"RSS MB".padStart(8)} ${"anon MB".padStart(9)} ${"heapUsed".padStart(9)} ` +
        `${"heapTotal".padStart(10)} ${"external".padStart(9)} ${"arrBufs".padStart(8)}`,
    );
    console.log(row("ready", atReady));
    console.log(row("start (after warm-up)", atStart, heapStart));
    console.log(row(`peak (sampled, ${peak.phase})`, peak));
    if (heapPeak) {
      const sp = (name: string) => mbBytes(heapPeak.spaces?.[name]?.size);
      console.log(
        `${row("peak heapTotal (probe)", undefined, heapPeak)}  (new ${sp("new_space")}, ` +
          `old ${sp("old_space")}, large ${sp("large_object_space")})`,
      );
    }
    console.log(row("burst done", atBurstEnd, heapBurstEnd));
    console.log(row(`end (idle ${IDLE_S} s)`, atEnd, heapEnd));
    if (atGc) console.log(row("after forced GC", atGc, heapGc));
    console.log(`peak RSS (VmHWM) ${mb(atEnd.mem.hwmKb)} MB`);
    const curve = idle.filter((_, i) => i % 5 === 4 || i === 0).map((x) => mb(x.mem.rssKb));
    console.log(`idle RSS every 5 s: ${curve.join(" ")} MB`);
    if (idleHeap.length > 0) {
      const heapCurve = idleHeap
        .filter((_, i) => i % 5 === 4 || i === 0)
        .map((h) => `${mbBytes(h.heapUsed)}/${mbBytes(h.heapTotal)}`);
      console.log(`idle heapUsed/heapTotal every 5 s: ${heapCurve.join(" ")} MB`);
    }
    console.log(
      `end/start ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? "met" : "missed"})`,
    );
    const gcDelta = (a?: HeapLine, b?: HeapLine) =>
      a?.gcs && b?.gcs
        ? `${b.gcs.minor - a.gcs.minor} scavenges, ${b.gcs.major - a.gcs.major} mark-compacts ` +
          `(${Math.round(b.gcs.ms - a.gcs.ms)} ms)`
        : "n/a";
    if (probe) {
      const burstLines = probeLines.slice(heapLinesBefore, probeLines.length - IDLE_S);
      const maxQueue = Math.max(0, ...burstLines.map((h) => h.writeQueue ?? 0));
      console.log(`largest socket write queue in the component: ${mbBytes(maxQueue)} MB`);
      console.log(
        `GCs: burst ${gcDelta(heapStart, heapBurstEnd)}; idle ${gcDelta(heapBurstEnd, heapEnd)}`,
      );
    }
    if (heapGc?.spaces) {
      const spaces = Object.entries(heapGc.spaces)
        .filter(([, v]) => v.size > 0)
        .map(([k, v]) => `${k} ${mbBytes(v.used)}/${mbBytes(v.size)}`);
      console.log(`V8 spaces after GC (used/size MB): ${spaces.join(", ")}`);
    }
    console.log("\nIQ mix (sent, errors):");
    for (const [kind, k] of iqCounts) {
      const errs = Object.entries(k.errors)
        .map(([e, n]) => `${e} ${n}`)
        .join(", ");
      console.log(`  ${kind.padEnd(26)} ${String(k.sent).padStart(5)}  ${errs || "-"}`);
    }
    console.log(
      JSON.stringify({
        bench: "memory-burst",
        rssKb: {
          ready: atReady.mem.rssKb,
          start: atStart.mem.rssKb,
          peak: peak.mem.rssKb,
          hwm: atEnd.mem.hwmKb,
          burstDone: atBurstEnd.mem.rssKb,
          end: atEnd.mem.rssKb,
          afterGc: atGc?.mem.rssKb,
        },
        heapUsedBytes: {
          start: heapStart?.heapUsed,
          burstDone: heapBurstEnd?.heapUsed,
          end: heapEnd?.heapUsed,
          afterGc: heapGc?.heapUsed,
        },
        ratio: +ratio.toFixed(3),
        targetMet: ratio <= TARGET_RATIO,
        burstMs,
        burstCpuSeconds: +burstCpu.toFixed(2),
        totalMs: Date.now() - t0,
      }),
    );
    return 0;
  } finally {
    sampler?.stop();
    await pool(clients.length, 50, (i) => clients[i]!.stop());
    if (component) await component.stop().catch(() => component?.kill());
    await pair.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`memory-burst: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
