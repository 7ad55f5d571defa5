/** The health line: event-loop delay and memory, each interval; nothing when it is off. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startHealthLog } from "../../component/src/health.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe("startHealthLog", () => {
  it("logs the loop delay (a 150 ms block shows) and memory every interval", async () => {
    const { log, lines } = capture();
    const stop = startHealthLog(log, 1);
    await new Promise((r) => setTimeout(r, 100));
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // Block the event loop.
    }
    await new Promise((r) => setTimeout(r, 1000));
    stop();
    const line = lines.find((l) => l.msg === "health") as {
      loopDelayMs: { p50: number; p99: number; max: number };
      rssMb: number;
    };
    expect(line.loopDelayMs.max).toBeGreaterThanOrEqual(100);
    expect(line.rssMb).toBeGreaterThan(10);
  });

  it("logs nothing when off", async () => {
    const { log, lines } = capture();
    startHealthLog(log, 0)();
    expect(lines).toEqual([]);
  });
});
