/**
 * The "health" log line, every `seconds` when the operator asks for it (healthLogSeconds): the
 * event loop's delay since the last line (p50, p99, max: how long a stanza may have waited for
 * the process to look at it) and the memory in use. Benchmarks read it to check the loop is never
 * blocked during a large fan-out.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Logger } from "pino";

const ms = (ns: number) => Math.round(ns / 1e4) / 100;
const mb = (bytes: number) => Math.round(bytes / 1e4) / 100;

/** Starts the line; returns the function that stops it. */
export function startHealthLog(log: Logger, seconds: number): () => void {
  if (seconds <= 0) return () => {};
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    log.info(
      {
        loopDelayMs: {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        },
        rssMb: mb(memory.rss),
        heapUsedMb: mb(memory.heapUsed),
      },
      "health",
    );
    delay.reset();
  }, seconds * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
  };
}
