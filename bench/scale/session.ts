/**
 * One measurement session: a real Prosody (test/harness/servers.ts; with Nagle's algorithm off
 * through bench/scale/nagle-off.cfg.lua when asked), the component spawned on the generated
 * store, and real clients: start-up to "ready", resident memory, the first (cold) page of items
 * and of the home timeline, the start-up catch-up of followed nodes, then warm series of pings,
 * item pages, timeline pages and publishes, each with the component's CPU per request.
 * A profiled variant runs the warm series under `node --cpu-prof` and summarises the profile.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, startProsody } from "../../scripts/servers.js";
import { connectClient, type TestClient } from "../../test/harness/client.js";
import { spawnComponent } from "../../test/harness/component.js";
import { asTestServer, startTestServer, type TestServer } from "../../test/harness/servers.js";
import {
  cpuMs,
  machineBusyMs,
  memoryKb,
  monotonicUs,
  prosodyPid,
  spawnProfiled,
} from "./process.js";
import { type PhaseProfile, summariseProfile } from "./profile.js";
import { between, postText, type Random, seeded } from "./random.js";
import type { BenchStore } from "./stores.js";
import {
  itemsPage,
  PAGE,
  ping,
  publish,
  type Series,
  timed,
  timelinePage,
  timeSeries,
} from "./xmpp.js";

export interface Workload {
  /** The publisher's local part (a user with subscribers) and its subscriber count. */
  publisher: string;
  publisherSubscribers: number;
  /** A publisher without subscribers (the store's share of a publish, no fan-out). */
  quietPublisher: string;
  /** Users whose item pages are read: u@C and their newest item ids, newest first. */
  itemUsers: ReadonlyArray<{ service: string; ids: readonly string[] }>;
  /** Warm requests per series, warm-up requests before each, publishes. */
  warm: number;
  warmup: number;
  publishes: number;
  /** Publishes with a pause before each (the previous fan-out drained), and the pause. */
  paced: number;
  pauseMs: number;
  /** How long to wait for the start-up catch-up before measuring anyway. */
  catchUpTimeoutMs: number;
}

export interface SessionResult {
  nagle: "on" | "off";
  startupMs: number;
  memoryKb: { afterStart: number; afterCatchUp: number; afterMeasurements: number; peak: number };
  catchUp: { ms: number; nodes: number; added: number; failed: number; finished: boolean };
  /** The first requests after start (while the catch-up runs). */
  cold: { itemsMs: number; timelineMs: number; ok: boolean };
  /** After the catch-up, the store's files dropped from the OS page cache: pages not read yet. */
  diskCold: { itemsMs: number; timelineMs: number; ok: boolean };
  ping: Series;
  items: Series;
  timeline: Series;
  publish: Series;
  publishQuiet: Series;
  /** The publisher's publishes `pauseMs` apart: the acknowledgement without the queue. */
  publishPaced: Series;
  /**
   * CPU per request (user + system, ticks of 10 ms over the series) of the component, of
   * Prosody and of this bench process (the client's side).
   */
  /** The component's event loop during each series and the catch-up (its health lines). */
  health: Record<
    "catchUp" | "ping" | "items" | "timeline" | "publish" | "publishQuiet" | "publishPaced",
    Health
  >;
  cpuMsPerRequest: Record<
    "ping" | "items" | "timeline" | "publish" | "publishQuiet" | "publishPaced",
    CpuShare
  >;
}

/** Component processes running now (killed by the bench when it is interrupted). */
export const runningComponents = new Set<ChildProcess>();

const READER = "reader";
const VIEWER = "viewer";
const PASSWORD = "bench-pw";

/** A Prosody for the bench: the harness's, or the same with `network_settings = { nagle = false }`. */
export async function startServer(nagleOff: boolean): Promise<TestServer> {
  if (!nagleOff) return startTestServer("prosody");
  const dir = mkdtempSync(join(tmpdir(), "warble-prosody-nagle-off-"));
  const server = await startProsody({
    usersDomain: "localhost",
    componentDomain: "microblog.localhost",
    secret: `secret-${randomBytes(8).toString("hex")}`,
    dir,
    prosodyExtra: join(repoRoot(), "bench", "scale", "nagle-off.cfg.lua"),
  });
  return asTestServer(server, dir);
}

interface Clients {
  reader: TestClient;
  viewer: TestClient;
  publisher: TestClient;
  quiet: TestClient;
  stop(): Promise<void>;
}

/** Register and log in the reader, a viewer of item pages and the publishers. */
async function connectAll(server: TestServer, work: Workload): Promise<Clients> {
  const login = async (user: string) => {
    // A second session on the same server finds the account there already.
    await server.register(user, PASSWORD).catch(() => undefined);
    return connectClient(server.ports.c2s, server.usersDomain, user, PASSWORD);
  };
  const reader = await login(READER);
  const viewer = await login(VIEWER);
  const pub = await login(work.publisher);
  const quiet = await login(work.quietPublisher);
  return {
    reader,
    viewer,
    publisher: pub,
    quiet,
    stop: async () => {
      await Promise.all([reader.stop(), viewer.stop(), pub.stop(), quiet.stop()]);
    },
  };
}

/** The numbers of a "caught up" log line, once it is there (or what is known at the timeout). */
async function awaitCatchUp(
  waitForLine: (re: RegExp, ms: number) => Promise<string>,
  startedAt: number,
  timeoutMs: number,
): Promise<SessionResult["catchUp"]> {
  try {
    const line = await waitForLine(/"msg":"caught up"/, timeoutMs);
    const parsed = JSON.parse(line) as { nodes?: number; added?: number; failed?: number };
    return {
      ms: Math.round(performance.now() - startedAt),
      nodes: parsed.nodes ?? 0,
      added: parsed.added ?? 0,
      failed: parsed.failed ?? 0,
      finished: true,
    };
  } catch {
    return {
      ms: Math.round(performance.now() - startedAt),
      nodes: 0,
      added: 0,
      failed: 0,
      finished: false,
    };
  }
}

/** The warm series' requests, drawn from a seeded generator. */
class Requests {
  private readonly rng: Random;
  constructor(
    private readonly work: Workload,
    private readonly component: string,
    private readonly readerSeqs: readonly number[],
    seed: number,
  ) {
    this.rng = seeded(seed);
  }
  /** A full page of items of one of the itemUsers (or of the one given), at a random place. */
  items(client: TestClient, which?: number): Promise<boolean> {
    const index = which ?? between(this.rng, 0, this.work.itemUsers.length);
    const user = this.work.itemUsers[index];
    if (!user) throw new Error("no users to read items of");
    const last = Math.max(1, user.ids.length - PAGE);
    const after = between(this.rng, -1, last);
    return itemsPage(client, user.service, after < 0 ? undefined : user.ids[after]);
  }
  /** A full page of the reader's timeline, before a random entry (or the newest page). */
  timeline(client: TestClient): Promise<boolean> {
    const at = between(this.rng, PAGE, this.readerSeqs.length + 1);
    const before = at >= this.readerSeqs.length ? undefined : this.readerSeqs[at];
    return timelinePage(client, `${READER}@${this.component}`, before);
  }
  /** A post of the client's own (the publisher's or the quiet one's). */
  publish(client: TestClient): Promise<boolean> {
    const local = client.jid.split("@")[0];
    return publish(client, `${local}@${this.component}`, postText(this.rng));
  }
}

export interface CpuShare {
  component: number;
  prosody: number;
  /** PostgreSQL's processes (0 for SQLite, which runs inside the component). */
  database: number;
  client: number;
  /** Every other process of the machine, in cores busy on average over the series (noise). */
  otherCores: number;
}

interface Pids {
  component: number;
  prosody: number | undefined;
  database: () => number[];
}

/** CPU ms so far of each party, the machine's busy ms and the clock. */
function cpuNow(pids: Pids) {
  const own = process.cpuUsage();
  const sum = (list: number[]) =>
    list.reduce((n, pid) => {
      try {
        return n + cpuMs(pid);
      } catch {
        return n;
      }
    }, 0);
  return {
    component: cpuMs(pids.component),
    prosody: pids.prosody === undefined ? 0 : cpuMs(pids.prosody),
    database: sum(pids.database()),
    client: (own.user + own.system) / 1000,
    machine: machineBusyMs(),
    wall: performance.now(),
  };
}

/** A warm series: `warmup` untimed requests, then `count` timed, with the CPU they cost. */
async function warmSeries(
  pids: Pids,
  count: number,
  warmup: number,
  request: () => Promise<boolean>,
  pauseMs = 0,
): Promise<{ series: Series; cpuPerRequest: CpuShare; window: [number, number] }> {
  for (let i = 0; i < warmup; i++) await request();
  const from = Date.now();
  const a = cpuNow(pids);
  const s = await timeSeries(count, request, pauseMs);
  const b = cpuNow(pids);
  const d = (k: "component" | "prosody" | "database" | "client") => b[k] - a[k];
  const per = (ms: number) => Math.round((1000 * ms) / Math.max(1, count)) / 1000;
  const ours = d("component") + d("prosody") + d("database") + d("client");
  const others = (b.machine - a.machine - ours) / Math.max(1, b.wall - a.wall);
  return {
    series: s,
    window: [from, Date.now()],
    cpuPerRequest: {
      component: per(d("component")),
      prosody: per(d("prosody")),
      database: per(d("database")),
      client: per(d("client")),
      otherCores: Math.round(Math.max(0, others) * 100) / 100,
    },
  };
}

/** What the component's "health" lines (one a second) say about [from, to] (epoch ms). */
export interface Health {
  /** The longest the event loop was blocked. */
  loopDelayMaxMs: number;
  loopDelayP99MaxMs: number;
  heapUsedMaxMb: number;
  lines: number;
}

function healthDuring(output: string, from: number, to: number): Health {
  const health: Health = { loopDelayMaxMs: 0, loopDelayP99MaxMs: 0, heapUsedMaxMb: 0, lines: 0 };
  for (const line of output.split("\n")) {
    if (!line.includes('"msg":"health"')) continue;
    try {
      const h = JSON.parse(line) as {
        time: number;
        loopDelayMs: { p99: number; max: number };
        heapUsedMb: number;
      };
      // A line covers the second before it.
      if (h.time < from || h.time > to + 1000) continue;
      health.loopDelayMaxMs = Math.max(health.loopDelayMaxMs, h.loopDelayMs.max);
      health.loopDelayP99MaxMs = Math.max(health.loopDelayP99MaxMs, h.loopDelayMs.p99);
      health.heapUsedMaxMb = Math.max(health.heapUsedMaxMb, h.heapUsedMb);
      health.lines++;
    } catch {
      // not a JSON line
    }
  }
  return health;
}

/** Run one session against `store` on `server`; `nagle` is only the label. */
export async function runSession(
  server: TestServer,
  store: BenchStore,
  work: Workload,
  nagle: "on" | "off",
  log: (line: string) => void,
): Promise<SessionResult> {
  const clients = await connectAll(server, work);
  try {
    store.evictCache();
    const t0 = performance.now();
    const component = spawnComponent(server.componentArgs(store.db), {
      WARBLE_SECRET: server.secret,
      WARBLE_HEALTH_LOG_SECONDS: "1",
    });
    runningComponents.add(component.proc);
    try {
      await component.waitForLine(/"msg":"ready"/, 60_000);
      const startupMs = performance.now() - t0;
      const pid = component.proc.pid as number;
      const pids = {
        component: pid,
        prosody: prosodyPid(server.opts.dir),
        database: () => store.serverPids(),
      };
      const afterStart = memoryKb(pid).rssKb;
      const first = work.itemUsers[0]?.service ?? "";
      const [itemsMs, okItems] = await timed(() => itemsPage(clients.viewer, first));
      const [timelineMs, okTimeline] = await timed(() =>
        timelinePage(clients.reader, `${READER}@${server.componentDomain}`),
      );
      log(
        `  ready in ${startupMs.toFixed(0)} ms; cold items ${itemsMs.toFixed(1)} ms, timeline ${timelineMs.toFixed(1)} ms`,
      );
      const catchUp = await awaitCatchUp(component.waitForLine, t0, work.catchUpTimeoutMs);
      const catchUpWindow: [number, number] = [Date.now() - (catchUp.ms - startupMs), Date.now()];
      log(`  catch-up: ${JSON.stringify(catchUp)}`);
      const afterCatchUp = memoryKb(pid).rssKb;
      const seqs = await store.timelineSeqs(`${READER}@${server.usersDomain}`);
      const requests = new Requests(work, server.componentDomain, seqs, 99);
      store.evictCache();
      const [diskItemsMs, okDiskItems] = await timed(() => requests.items(clients.viewer, 1));
      const [diskTimelineMs, okDiskTimeline] = await timed(() => requests.timeline(clients.reader));
      const w = work.warm;
      const pings = await warmSeries(pids, w, work.warmup, () =>
        ping(clients.viewer, server.componentDomain),
      );
      const items = await warmSeries(pids, w, work.warmup, () => requests.items(clients.viewer));
      const timeline = await warmSeries(pids, w, work.warmup, () =>
        requests.timeline(clients.reader),
      );
      const pubs = await warmSeries(pids, work.publishes, 0, () =>
        requests.publish(clients.publisher),
      );
      const quiet = await warmSeries(pids, work.publishes, 0, () =>
        requests.publish(clients.quiet),
      );
      const paced = await warmSeries(
        pids,
        work.paced,
        0,
        () => requests.publish(clients.publisher),
        work.pauseMs,
      );
      const mem = memoryKb(pid);
      const during = ([from, to]: [number, number]) => healthDuring(component.output(), from, to);
      return {
        nagle,
        health: {
          catchUp: during(catchUpWindow),
          ping: during(pings.window),
          items: during(items.window),
          timeline: during(timeline.window),
          publish: during(pubs.window),
          publishQuiet: during(quiet.window),
          publishPaced: during(paced.window),
        },
        startupMs: Math.round(startupMs),
        memoryKb: { afterStart, afterCatchUp, afterMeasurements: mem.rssKb, peak: mem.peakKb },
        catchUp,
        cold: { itemsMs, timelineMs, ok: okItems && okTimeline },
        diskCold: {
          itemsMs: diskItemsMs,
          timelineMs: diskTimelineMs,
          ok: okDiskItems && okDiskTimeline,
        },
        ping: pings.series,
        items: items.series,
        timeline: timeline.series,
        publish: pubs.series,
        publishQuiet: quiet.series,
        publishPaced: paced.series,
        cpuMsPerRequest: {
          publishPaced: paced.cpuPerRequest,
          publishQuiet: quiet.cpuPerRequest,
          ping: pings.cpuPerRequest,
          items: items.cpuPerRequest,
          timeline: timeline.cpuPerRequest,
          publish: pubs.cpuPerRequest,
        },
      };
    } finally {
      await component.stop();
      runningComponents.delete(component.proc);
    }
  } finally {
    await clients.stop();
  }
}

/** The warm series again under --cpu-prof; the profile summarised per series. */
export async function runProfiled(
  server: TestServer,
  store: BenchStore,
  work: Workload,
  keepDir: string | undefined,
  log: (line: string) => void,
): Promise<PhaseProfile[]> {
  // One directory per profiled run, inside keepDir when the profiles are kept.
  const dir = mkdtempSync(join(keepDir ?? tmpdir(), "warble-bench-profile-"));
  const clients = await connectAll(server, work);
  try {
    const t0 = performance.now();
    const component = spawnProfiled(
      server.componentArgs(store.db),
      { WARBLE_SECRET: server.secret },
      dir,
    );
    runningComponents.add(component.proc);
    const phases: Array<{ phase: string; fromUs: number; toUs: number }> = [];
    try {
      await component.waitForLine(/"msg":"ready"/, 60_000);
      const readyUs = monotonicUs();
      const catchUp = await awaitCatchUp(component.waitForLine, t0, work.catchUpTimeoutMs);
      phases.push({ phase: "catch-up after start", fromUs: readyUs, toUs: monotonicUs() });
      log(`  profiled catch-up: ${JSON.stringify(catchUp)}`);
      const seqs = await store.timelineSeqs(`${READER}@${server.usersDomain}`);
      const requests = new Requests(work, server.componentDomain, seqs, 7);
      const phase = async (name: string, count: number, run: () => Promise<boolean>) => {
        for (let i = 0; i < work.warmup; i++) await run();
        const fromUs = monotonicUs();
        for (let i = 0; i < count; i++) await run();
        phases.push({ phase: name, fromUs, toUs: monotonicUs() });
      };
      await phase("items", work.warm, () => requests.items(clients.viewer));
      await phase("timeline", work.warm, () => requests.timeline(clients.reader));
      await phase("publish", work.publishes, () => requests.publish(clients.publisher));
      log("  profiled: series done");
    } finally {
      await component.stop();
      runningComponents.delete(component.proc);
    }
    log("  profiled: stopped");
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
    return summariseProfile(join(dir, file), phases);
  } finally {
    await clients.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}
