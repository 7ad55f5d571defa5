/**
 * The publishing bench's results: the table (one row per subscribers × mode × target), the
 * ratios within the run (Warble / the server's own pubsub, PostgreSQL / SQLite) and the issue's
 * targets checked against them.
 */
import type { Mode, PublishPhase } from "./measure.js";

export interface Ratio {
  subscribers: number;
  mode: Mode;
  /** "Warble sqlite / prosody pubsub", "Warble postgres / Warble sqlite". */
  of: string;
  publishesPerSecond?: number;
  ackP50?: number;
  ackP99?: number;
  lastP99?: number;
}

export interface TargetCheck {
  target: string;
  value?: number;
  met: boolean;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const div = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : r3(a / b);

function ratio(a: PublishPhase, b: PublishPhase): Ratio {
  return {
    subscribers: a.subscribers,
    mode: a.mode,
    of: `${a.label} / ${b.label}`,
    publishesPerSecond: div(a.publishesPerSecond, b.publishesPerSecond),
    ackP50: div(a.ackMs.p50, b.ackMs.p50),
    ackP99: div(a.ackMs.p99, b.ackMs.p99),
    lastP99: div(a.lastNotificationMs?.p99, b.lastNotificationMs?.p99),
  };
}

/** Per subscribers × mode: each Warble store / own pubsub, and postgres / sqlite. */
export function ratios(phases: readonly PublishPhase[]): Ratio[] {
  const out: Ratio[] = [];
  const groups = new Map<string, PublishPhase[]>();
  for (const p of phases) {
    const key = `${p.subscribers} ${p.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    const own = group.find((p) => p.target === "pubsub");
    const sqlite = group.find((p) => p.store === "sqlite");
    const postgres = group.find((p) => p.store === "postgres");
    for (const w of group.filter((p) => p.target === "warble")) {
      if (own) out.push(ratio(w, own));
    }
    if (sqlite && postgres) out.push(ratio(postgres, sqlite));
  }
  return out;
}

/**
 * The targets: with 10 subscribers, Warble's publishes/s (each store, each mode) at
 * least 2× Prosody's own pubsub or 1× ejabberd's; with 1,000, Warble's acknowledgement p99
 * under 10 ms.
 */
export function targets(server: string, phases: readonly PublishPhase[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const need = server === "prosody" ? 2 : 1;
  for (const r of ratios(phases)) {
    if (r.subscribers !== 10 || !r.of.endsWith("pubsub")) continue;
    out.push({
      target: `10 subscribers, ${r.mode}: ${r.of} publishes/s >= ${need}`,
      value: r.publishesPerSecond,
      met: (r.publishesPerSecond ?? 0) >= need,
    });
  }
  for (const p of phases) {
    if (p.subscribers !== 1000 || p.target !== "warble") continue;
    out.push({
      target: `1000 subscribers, ${p.mode}: ${p.label} ack p99 < 10 ms`,
      value: p.ackMs.p99,
      met: p.ackMs.p99 < 10,
    });
  }
  return out;
}

const pad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);
const fmt = (x: number | undefined) => (x === undefined ? "-" : x.toLocaleString("en-US"));
const pair = (a: number | undefined, b: number | undefined) => `${fmt(a)}/${fmt(b)}`;
const share = (cpu: number | undefined, wall: number) =>
  cpu === undefined ? "-" : `${Math.round((cpu / wall) * 100)}%`;

const HEAD = [
  pad("subs", 5),
  "mode".padEnd(10),
  "target".padEnd(16),
  pad("pub/s", 7),
  pad("ack p50/p99", 13),
  pad("last p50/p99", 15),
  pad("notif/s", 8),
  pad("received", 15),
  pad("cpu srv/warble/bench", 20),
].join(" ");

function row(p: PublishPhase): string {
  const c = p.cpu;
  return [
    pad(String(p.subscribers), 5),
    p.mode.padEnd(10),
    p.label.padEnd(16),
    pad(fmt(p.publishesPerSecond), 7),
    pad(pair(p.ackMs.p50, p.ackMs.p99), 13),
    pad(pair(p.lastNotificationMs?.p50, p.lastNotificationMs?.p99), 15),
    pad(fmt(p.notificationsPerSecond), 8),
    pad(`${p.received}/${p.expected}`, 15),
    pad([c.server, c.sender, c.sink].map((x) => share(x, c.wallSeconds)).join(" "), 20),
  ].join(" ");
}

export function table(
  title: string,
  phases: readonly PublishPhase[],
  q: readonly Ratio[],
  checks: readonly TargetCheck[],
): string {
  const lines = [
    title,
    HEAD,
    ...phases.map(row),
    "",
    "ratios (pub/s, ack p50, ack p99, last p99):",
  ];
  for (const r of q) {
    lines.push(
      `  ${pad(String(r.subscribers), 5)} ${r.mode.padEnd(10)} ${r.of.padEnd(34)} ` +
        [r.publishesPerSecond, r.ackP50, r.ackP99, r.lastP99].map(fmt).join("  "),
    );
  }
  for (const p of phases) {
    const h = p.health;
    if (!h?.lines) continue;
    lines.push(
      `${p.subscribers} ${p.mode} ${p.label} health: event loop delay max ${h.loopDelayMaxMs} ms, ` +
        `heap up to ${h.heapUsedMaxMb} MB, RSS up to ${h.rssMaxMb} MB`,
    );
  }
  if (checks.length > 0) lines.push("", "targets:");
  for (const t of checks)
    lines.push(`  ${t.met ? "met    " : "NOT MET"} ${t.target}: ${fmt(t.value)}`);
  lines.push(
    "(latencies in ms: publish to its IQ result / to the post's last notification at the sink;",
    " pub/s: publishes / first send to last result; cpu: share of one core)",
  );
  return lines.join("\n");
}
