/**
 * One phase of the publishing bench: P posts from the publisher to one service (Warble's pub@C
 * or the server's own pubsub), awaited one by one (1 in flight) or pipelined (up to I in flight),
 * while the sink's S JIDs, subscribed to that node, count the notifications. The figures:
 * publishes per second (posts / first send to last acknowledgement), acknowledgement latency
 * (send → IQ result), publish → first and last notification of each post at the sink, and the
 * CPU of the server, of Warble and of this process over the phase.
 */

import type { TestClient } from "../../test/harness/client.js";
import type { StoreKind } from "../../test/harness/stores.js";
import { type Health, healthDuring } from "../lib/health.js";
import { publishPosts } from "../lib/publisher.js";
import { type CpuUse, type PhaseName, publishingResult } from "../lib/report.js";
import type { Sink } from "../lib/sink.js";
import { cpuSeconds, machineBusySeconds, now, type Percentiles } from "../lib/stats.js";

export type Mode = "one-by-one" | "pipelined";

export interface PublishPhase {
  target: PhaseName;
  /** "Warble sqlite", "Warble postgres", "prosody pubsub", "ejabberd pubsub". */
  label: string;
  store?: StoreKind;
  mode: Mode;
  inflight: number;
  subscribers: number;
  publishes: number;
  /** Posts / (last acknowledgement − first send). */
  publishesPerSecond: number;
  publishSeconds: number;
  /** Send → IQ result. */
  ackMs: Percentiles;
  /** Send → the post's last notification at the sink (posts that reached every subscriber). */
  lastNotificationMs?: Percentiles;
  firstNotificationMs?: Percentiles;
  /** Notifications at the sink / (first send → last notification). */
  notificationsPerSecond: number;
  received: number;
  expected: number;
  other: number;
  incompletePosts: number;
  publishErrors: number;
  firstPublishError?: string;
  cpu: CpuUse;
  /** Warble only: its event loop and memory during the phase. */
  health?: Health;
}

/** The processes whose CPU a phase reads. */
export interface Procs {
  server(): number | undefined;
  warble?: number;
}

function cpuNow(p: Procs) {
  const self = process.cpuUsage();
  return {
    at: now(),
    server: cpuSeconds(p.server()),
    warble: cpuSeconds(p.warble),
    bench: (self.user + self.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

function cpuSince(before: ReturnType<typeof cpuNow>, p: Procs): CpuUse {
  const after = cpuNow(p);
  const d = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round((a - b) * 100) / 100;
  const server = d(after.server, before.server);
  const warble = d(after.warble, before.warble);
  const bench = d(after.bench, before.bench) ?? 0;
  const busy = d(after.machine, before.machine);
  const others =
    busy === undefined ? undefined : Math.max(0, busy - bench - (server ?? 0) - (warble ?? 0));
  return {
    wallSeconds: Math.round(after.at - before.at) / 1000,
    server,
    sender: warble,
    sink: bench,
    others: others === undefined ? undefined : Math.round(others * 100) / 100,
  };
}

export interface PhaseContext {
  sink: Sink;
  pub: TestClient;
  service: string;
  subscribers: number;
  posts: number;
  /** Milliseconds without a notification after which the phase ends incomplete. */
  stallMs: number;
  procs: Procs;
  /** Warble's output, for its health lines. */
  warbleOutput?: () => string;
}

/** Publish `posts` posts marked `tag`, `inflight` at a time, and wait for their notifications. */
export async function runPhase(
  ctx: PhaseContext,
  what: { target: PhaseName; label: string; store?: StoreKind; mode: Mode; inflight: number },
  tag: string,
): Promise<PublishPhase> {
  const { sink, pub, service, subscribers: n, posts } = ctx;
  sink.begin(tag, posts);
  const cpu0 = cpuNow(ctx.procs);
  const from = now();
  const run = await publishPosts(pub, service, tag, posts, what.inflight);
  await sink.waitFor(posts * n, ctx.stallMs);
  const cpu = cpuSince(cpu0, ctx.procs);
  const r = publishingResult(what.target, what.label, n, sink.result(), run, cpu);
  const seconds = (Math.max(...run.ackedAt) - Math.min(...run.sentAt)) / 1000;
  const phase: PublishPhase = {
    ...what,
    subscribers: n,
    publishes: posts,
    publishesPerSecond: Math.round(posts / seconds),
    publishSeconds: Math.round(seconds * 1000) / 1000,
    ackMs: r.ackMs!,
    lastNotificationMs: r.lastNotificationMs,
    firstNotificationMs: r.firstNotificationMs,
    notificationsPerSecond: r.notificationsPerSecond,
    received: r.received,
    expected: r.expected,
    other: r.other,
    incompletePosts: r.incompletePosts,
    publishErrors: run.errors,
    ...(run.firstError ? { firstPublishError: run.firstError } : {}),
    cpu,
  };
  if (ctx.warbleOutput) phase.health = healthDuring(ctx.warbleOutput(), from, now());
  return phase;
}

/** A few publishes before the measured phases (JIT, caches, the store's first pages). */
export async function warmUp(ctx: PhaseContext, posts: number, tag: string): Promise<void> {
  if (posts < 1) return;
  ctx.sink.begin(tag, posts);
  const run = await publishPosts(ctx.pub, ctx.service, tag, posts, 5);
  if (run.errors > 0) throw new Error(`warm-up publish to ${ctx.service}: ${run.firstError}`);
  await ctx.sink.waitFor(posts * ctx.subscribers, ctx.stallMs);
}
