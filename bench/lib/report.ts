/**
 * The fan-out bench's results: one phase's figures from what the sink counted and the publisher
 * timed, the table printed at the end, and the ratios the issue's targets are stated in.
 */

import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import type { Health } from "./health.js";
import type { PublishRun } from "./publisher.js";
import type { SinkCounts } from "./sink.js";
import { type Percentiles, percentiles } from "./stats.js";

export type PhaseName = "warble" | "pubsub" | "limit";

/** CPU seconds of the processes of a phase over its wall time (undefined: not measured). */
export interface CpuUse {
  wallSeconds: number;
  server?: number;
  /** Warble, or the route-limit sender (none for the server's own pubsub). */
  sender?: number;
  /** This process: the sink and the publisher. */
  sink: number;
  /** Every other process of the machine (other work on it makes a run noisy). */
  others?: number;
}

export interface PhaseResult {
  phase: PhaseName;
  label: string;
  expected: number;
  received: number;
  /** Messages at the sink without this phase's marker. */
  other: number;
  /** From the first publish (or the limit's first write) to the last notification. */
  seconds: number;
  notificationsPerSecond: number;
  bytesPerNotification: number;
  /** Publish → last notification of that post (posts that reached every subscriber). */
  lastNotificationMs?: Percentiles;
  /** Publish → first notification of that post. */
  firstNotificationMs?: Percentiles;
  /** Publish → its IQ result. */
  ackMs?: Percentiles;
  /** Posts that did not reach every subscriber. */
  incompletePosts: number;
  publishErrors?: number;
  firstPublishError?: string;
  /** How long the N subscriptions took (not the route limit's). */
  subscribeSeconds?: number;
  /** The limit only: when the sender's socket had taken everything, from its first write. */
  writeSeconds?: number;
  cpu: CpuUse;
  /** Per post, publish → last notification in ms (null: incomplete). */
  perPostLastMs?: Array<number | null>;
  /** Per post, publish → first notification in ms (null: none arrived). */
  perPostFirstMs?: Array<number | null>;
  /** Warble only: its event loop and memory during the phase (its health lines). */
  health?: Health;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The figures of a publishing phase (Warble or the server's pubsub). */
export function publishingResult(
  phase: PhaseName,
  label: string,
  subscribers: number,
  counts: SinkCounts,
  run: PublishRun,
  cpu: CpuUse,
): PhaseResult {
  const complete = counts.perPost.map((n) => n === subscribers);
  const perPost = run.sentAt.map((t, i) => (complete[i] ? (counts.lastAt[i] ?? 0) - t : null));
  const first = run.sentAt.map((t, i) => (counts.firstAt[i] ?? Number.NaN) - t);
  const start = Math.min(...run.sentAt);
  return {
    ...common(phase, label, subscribers, counts, start, cpu),
    lastNotificationMs: percentiles(perPost.filter((x): x is number => x !== null)),
    firstNotificationMs: percentiles(first.filter((x) => !Number.isNaN(x))),
    ackMs: percentiles(run.ackedAt.map((t, i) => t - (run.sentAt[i] ?? t))),
    publishErrors: run.errors,
    ...(run.firstError ? { firstPublishError: run.firstError } : {}),
    perPostLastMs: perPost.map((x) => (x === null ? null : r1(x))),
    perPostFirstMs: first.map((x) => (Number.isNaN(x) ? null : r1(x))),
  };
}

/** The figures of the route limit, timed from the sender's first write. */
export function limitResult(
  subscribers: number,
  counts: SinkCounts,
  startedAt: number,
  writtenAt: number,
  cpu: CpuUse,
): PhaseResult {
  return {
    ...common("limit", "route limit", subscribers, counts, startedAt, cpu),
    writeSeconds: (writtenAt - startedAt) / 1000,
  };
}

function common(
  phase: PhaseName,
  label: string,
  subscribers: number,
  counts: SinkCounts,
  start: number,
  cpu: CpuUse,
) {
  const seconds = counts.received > 0 ? (counts.lastArrival - start) / 1000 : Number.NaN;
  const messages = counts.received + counts.other;
  return {
    phase,
    label,
    expected: counts.perPost.length * subscribers,
    received: counts.received,
    other: counts.other,
    seconds: Math.round(seconds * 1000) / 1000,
    notificationsPerSecond: Math.round(counts.received / seconds) || 0,
    bytesPerNotification: messages > 0 ? Math.round(counts.bytes / messages) : 0,
    incompletePosts: counts.perPost.filter((n) => n !== subscribers).length,
    cpu,
  };
}

export interface Ratios {
  warbleToLimit?: number;
  warbleToServerPubsub?: number;
}

export function ratios(phases: readonly PhaseResult[]): Ratios {
  const rate = (p: PhaseName) => phases.find((x) => x.phase === p)?.notificationsPerSecond;
  const w = rate("warble");
  const ratio = (d: number | undefined) =>
    w !== undefined && d ? Math.round((w / d) * 1000) / 1000 : undefined;
  return { warbleToLimit: ratio(rate("limit")), warbleToServerPubsub: ratio(rate("pubsub")) };
}

const pad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);
const fmt = (x: number | undefined) => (x === undefined ? "-" : x.toLocaleString("en-US"));
const share = (cpuSeconds: number | undefined, wall: number) =>
  cpuSeconds === undefined ? "-" : `${Math.round((cpuSeconds / wall) * 100)}%`;

/** One row of the table. */
function row(p: PhaseResult): string {
  const lat = p.lastNotificationMs;
  const cpu = p.cpu;
  return [
    p.label.padEnd(16),
    pad(fmt(p.notificationsPerSecond), 9),
    pad(`${p.received}/${p.expected}`, 15),
    pad(fmt(p.bytesPerNotification), 7),
    pad(lat ? `${fmt(lat.p50)}/${fmt(lat.p99)}` : "-", 13),
    pad(p.ackMs ? `${fmt(p.ackMs.p50)}/${fmt(p.ackMs.p99)}` : "-", 13),
    pad(
      [cpu.server, cpu.sender, cpu.sink, cpu.others]
        .map((c) => share(c, cpu.wallSeconds))
        .join(" "),
      22,
    ),
  ].join(" ");
}

/** The table: one row per phase, then the ratios. */
export function table(title: string, phases: readonly PhaseResult[], q: Ratios): string {
  const head = [
    "".padEnd(16),
    pad("notif/s", 9),
    pad("received", 15),
    pad("B/notif", 7),
    pad("last p50/p99", 13),
    pad("ack p50/p99", 13),
    pad("cpu srv/snd/sink/others", 22),
  ].join(" ");
  const lines = [title, head, ...phases.map(row)];
  const subs = phases.filter((p) => p.subscribeSeconds !== undefined);
  if (subs.length > 0) {
    lines.push(`subscribing: ${subs.map((p) => `${p.label} ${p.subscribeSeconds} s`).join(", ")}`);
  }
  for (const p of phases) {
    const h = p.health;
    if (!h?.lines) continue;
    lines.push(
      `${p.label} health: event loop delay max ${h.loopDelayMaxMs} ms (p99 up to ` +
        `${h.loopDelayP99MaxMs} ms), heap up to ${h.heapUsedMaxMb} MB, RSS up to ${h.rssMaxMb} MB`,
    );
  }
  lines.push(`Warble / route limit:   ${q.warbleToLimit ?? "-"}`);
  lines.push(`Warble / server pubsub: ${q.warbleToServerPubsub ?? "-"}`);
  lines.push("(latencies in ms, publish to the last / to the IQ result; cpu: share of one core)");
  return lines.join("\n");
}

/** The machine and the code measured, for the JSON record. */
export function machine() {
  const list = cpus();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {}
  return { cpus: list.length, model: list[0]?.model ?? "unknown", node: process.version, commit };
}
