/**
 * What the component's "health" log lines (WARBLE_HEALTH_LOG_SECONDS, component/src/health.ts)
 * say about a window of time: the longest the event loop was blocked, and the memory in use.
 */

export interface Health {
  /** The longest the event loop was blocked (ms). */
  loopDelayMaxMs: number;
  /** The highest per-line p99 of the event-loop delay (ms). */
  loopDelayP99MaxMs: number;
  heapUsedMaxMb: number;
  rssMaxMb: number;
  /** Health lines that fell in the window (0: nothing measured). */
  lines: number;
}

interface HealthLine {
  time: number;
  loopDelayMs: { p99: number; max: number };
  heapUsedMb: number;
  rssMb: number;
}

/** The health lines in `output` that cover [from, to] (epoch ms; a line covers the period before it). */
export function healthDuring(output: string, from: number, to: number, periodMs = 1000): Health {
  const health: Health = {
    loopDelayMaxMs: 0,
    loopDelayP99MaxMs: 0,
    heapUsedMaxMb: 0,
    rssMaxMb: 0,
    lines: 0,
  };
  for (const text of output.split("\n")) {
    if (!text.includes('"msg":"health"')) continue;
    let h: HealthLine;
    try {
      h = JSON.parse(text) as HealthLine;
    } catch {
      continue;
    }
    if (h.time < from || h.time > to + periodMs) continue;
    health.loopDelayMaxMs = Math.max(health.loopDelayMaxMs, h.loopDelayMs.max);
    health.loopDelayP99MaxMs = Math.max(health.loopDelayP99MaxMs, h.loopDelayMs.p99);
    health.heapUsedMaxMb = Math.max(health.heapUsedMaxMb, h.heapUsedMb);
    health.rssMaxMb = Math.max(health.rssMaxMb, h.rssMb);
    health.lines++;
  }
  return health;
}
