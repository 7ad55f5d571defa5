/**
 * The store-at-scale results: the JSON written with --json, a table per store with the targets
 * of issue 12 (judged on the session with Nagle off, so that Prosody's delayed-ACK stall is not
 * taken for Warble's latency), the profile's hot spots, and PostgreSQL / SQLite ratios.
 */
import type { Fidelity } from "./fidelity.js";
import type { PhaseProfile } from "./profile.js";
import type { SessionResult } from "./session.js";

export interface StoreResult {
  store: "sqlite" | "postgres";
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  plan: Record<string, unknown>;
  generation: { planMs: number; writeMs: number; settleMs: number; rowsWritten: number };
  size: { bytes: number; tables: Record<string, number> };
  workload: {
    publisher: string;
    publisherSubscribers: number;
    quietPublisher: string;
    itemUsers: number;
    readerTimeline: number;
  };
  sessions: SessionResult[];
  profile: PhaseProfile[];
  fidelity: Fidelity;
}

interface Row {
  metric: string;
  on?: number;
  off?: number;
  target?: number;
  unit: string;
}

const MB = 1024 * 1024;

/** The figures of a store's result, by session. */
function rows(r: StoreResult): Row[] {
  const on = r.sessions.find((s) => s.nagle === "on");
  const off = r.sessions.find((s) => s.nagle === "off");
  const both = (
    metric: string,
    unit: string,
    get: (s: SessionResult) => number,
    target?: number,
  ) => {
    // A figure an older result file lacks is left out.
    const value = (s: SessionResult | undefined) => {
      try {
        const v = s && get(s);
        return v !== undefined && Number.isFinite(v) ? v : undefined;
      } catch {
        return undefined;
      }
    };
    const [x, y] = [value(on), value(off)];
    return {
      metric,
      unit,
      ...(x === undefined ? {} : { on: x }),
      ...(y === undefined ? {} : { off: y }),
      ...(target === undefined ? {} : { target }),
    };
  };
  return [
    { metric: "generation (write)", unit: "s", on: r.generation.writeMs / 1000 },
    { metric: "database size", unit: "MB", on: r.size.bytes / MB },
    both("start-up (spawn → ready)", "ms", (s) => s.startupMs, 1000),
    both("catch-up after start", "ms", (s) => s.catchUp.ms),
    both("RSS after start", "MB", (s) => s.memoryKb.afterStart / 1024),
    both("RSS after measurements", "MB", (s) => s.memoryKb.afterMeasurements / 1024, 150),
    both("RSS peak (VmHWM)", "MB", (s) => s.memoryKb.peak / 1024),
    both("publish ack p50", "ms", (s) => s.publish.p50),
    both("publish ack p99", "ms", (s) => s.publish.p99, 10),
    both("publish ack p50, paced", "ms", (s) => s.publishPaced.p50),
    both("publish ack p99, paced", "ms", (s) => s.publishPaced.p99, 10),
    both("publish ack p50, no subscribers", "ms", (s) => s.publishQuiet.p50),
    both("publish ack p99, no subscribers", "ms", (s) => s.publishQuiet.p99, 10),
    both("items page cold (first request)", "ms", (s) => s.cold.itemsMs),
    both("items page disk-cold", "ms", (s) => s.diskCold.itemsMs),
    both("items page warm p50", "ms", (s) => s.items.p50, 2),
    both("items page warm p99", "ms", (s) => s.items.p99, 2),
    both("timeline page cold (first request)", "ms", (s) => s.cold.timelineMs),
    both("timeline page disk-cold", "ms", (s) => s.diskCold.timelineMs),
    both("timeline page warm p50", "ms", (s) => s.timeline.p50, 2),
    both("timeline page warm p99", "ms", (s) => s.timeline.p99, 2),
    both("failed requests (wrong or short answers)", "n", (s) =>
      [s.ping, s.items, s.timeline, s.publish, s.publishQuiet, s.publishPaced].reduce(
        (n, x) => n + x.failures,
        0,
      ),
    ),
    both("event loop max delay, catch-up", "ms", (s) => s.health.catchUp.loopDelayMaxMs),
    both("event loop max delay, warm series", "ms", (s) =>
      Math.max(
        ...(["ping", "items", "timeline", "publish", "publishQuiet", "publishPaced"] as const).map(
          (k) => s.health[k].loopDelayMaxMs,
        ),
      ),
    ),
    both("heap used max", "MB", (s) =>
      Math.max(...Object.values(s.health).map((h) => h.heapUsedMaxMb)),
    ),
    both("ping p50 (route baseline)", "ms", (s) => s.ping.p50),
    both("items p50 − ping p50", "ms", (s) => s.items.p50 - s.ping.p50),
    both("timeline p50 − ping p50", "ms", (s) => s.timeline.p50 - s.ping.p50),
    both("publish p50 − ping p50", "ms", (s) => s.publish.p50 - s.ping.p50),
    ...(["items", "timeline", "publish", "publishPaced", "publishQuiet", "ping"] as const).flatMap(
      (k) => [
        both(`component CPU / ${k}`, "ms", (s) => s.cpuMsPerRequest[k].component),
        both(`Prosody CPU / ${k}`, "ms", (s) => s.cpuMsPerRequest[k].prosody),
        both(`PostgreSQL CPU / ${k}`, "ms", (s) => s.cpuMsPerRequest[k].database),
        both(`client CPU / ${k}`, "ms", (s) => s.cpuMsPerRequest[k].client),
        both(`other processes during ${k}`, "cores", (s) => s.cpuMsPerRequest[k].otherCores),
      ],
    ),
  ];
}

const fmt = (x: number | undefined) =>
  x === undefined ? "" : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2);

/** Pass when the Nagle-off figure (else the only one) is under the target. */
function verdict(row: Row): string {
  if (row.target === undefined) return "";
  const v = row.off ?? row.on;
  if (v === undefined) return "";
  return v < row.target ? "pass" : "FAIL";
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function formatStore(r: StoreResult): string {
  const body = rows(r).map((row) => [
    `${row.metric} (${row.unit})`,
    fmt(row.on),
    fmt(row.off),
    row.target === undefined ? "" : `< ${row.target}`,
    verdict(row),
  ]);
  const p = r.plan;
  const head =
    `Store at scale — ${r.store}: ${p.users} users, ${p.subscriptions} subscriptions ` +
    `(${p.followSubscriptions} of follows), ${p.posts} posts, ${p.timelineRows} timeline rows ` +
    `(reader ${p.readerTimelineRows}); publisher ${r.workload.publisher} with ` +
    `${r.workload.publisherSubscribers} subscribers`;
  const fid = r.fidelity;
  const fidelity = `rows like the component's: payload ${fid.itemPayloadsMatch}, item columns ${fid.itemColumnsMatch}, own timeline ${fid.ownTimelineMatch}`;
  return [
    head,
    table(["metric", "nagle on", "nagle off", "target", ""], body),
    fidelity,
    formatProfile(r.profile),
  ].join("\n");
}

function formatProfile(profile: PhaseProfile[]): string {
  return profile
    .map((p) => {
      const fns = p.functions
        .slice(0, 8)
        .map((f) => `    ${f.percent.toFixed(1).padStart(5)}%  ${f.name}`)
        .join("\n");
      const files = p.files
        .slice(0, 6)
        .map((f) => `${f.name} ${f.percent.toFixed(0)}%`)
        .join(", ");
      return `CPU profile, ${p.phase}: busy ${p.busyMs} ms of ${p.windowMs} ms\n${fns}\n    by file: ${files}`;
    })
    .join("\n");
}

/** PostgreSQL / SQLite for every figure both have (Nagle-off session, else the only one). */
export function formatRatios(sqlite: StoreResult, postgres: StoreResult): string {
  const a = rows(sqlite);
  const b = rows(postgres);
  const body = a.flatMap((row, i) => {
    const other = b[i];
    const x = row.off ?? row.on;
    const y = other?.off ?? other?.on;
    if (x === undefined || y === undefined) return [];
    return [[`${row.metric} (${row.unit})`, fmt(x), fmt(y), x === 0 ? "" : (y / x).toFixed(2)]];
  });
  return `PostgreSQL / SQLite\n${table(["metric", "sqlite", "postgres", "pg/sqlite"], body)}`;
}
