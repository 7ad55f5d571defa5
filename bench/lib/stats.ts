/**
 * Small measuring tools of the fan-out bench: one clock for every process of a run, percentiles,
 * CPU time of a process from /proc, and a bounded pool of concurrent jobs.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * Milliseconds since the epoch with sub-millisecond resolution: the same clock in the bench and
 * in the processes it forks, so that a time taken in one can be compared with one of another.
 */
export const now = (): number => performance.timeOrigin + performance.now();

/** Latency figures of one series, in ms. */
export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** p50, p99 and max of `samples` (nearest rank); zeros for an empty series. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  return {
    n: sorted.length,
    p50: round2(at(0.5)),
    p99: round2(at(0.99)),
    max: round2(sorted[sorted.length - 1] ?? 0),
  };
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux as built by Debian). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm) ": state is field 3, utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores; /proc/stat less idle and iowait). */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** The pid of the first process whose command line contains every one of `parts`. */
export function findPid(parts: readonly string[]): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (parts.every((p) => cmdline.includes(p))) return Number(entry);
  }
  return undefined;
}

/** Run job(0..count-1) with at most `width` running at once; rejects with the first failure. */
export async function pool(
  count: number,
  width: number,
  job: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
