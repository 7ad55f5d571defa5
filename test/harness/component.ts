import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../scripts/servers.js";

export const COMPONENT_MAIN = join(repoRoot(), "dist", "component", "src", "main.js");

/** A warble-component process, run from dist/ as an operator would run it. */
export interface ComponentProcess {
  proc: ChildProcess;
  output(): string;
  /** Resolves when a log line matches (already printed or later). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  exited(timeoutMs?: number): Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | string>;
}

export function spawnComponent(args: string[], env: Record<string, string> = {}): ComponentProcess {
  const proc = spawn(process.execPath, [COMPONENT_MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exitPromise = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const timeout = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<T>((_, rej) =>
        setTimeout(() => rej(new Error(`${what} within ${ms} ms; output:\n${out}`)), ms),
      ),
    ]);
  return {
    proc,
    output: () => out,
    waitForLine: (re, timeoutMs = 15_000) =>
      timeout(
        new Promise<string>((resolve) => {
          const check = () => {
            const line = out.split("\n").find((l) => re.test(l));
            if (line !== undefined) {
              listeners.delete(check);
              resolve(line);
            }
          };
          listeners.add(check);
          check();
        }),
        timeoutMs,
        `no line matching ${re}`,
      ),
    exited: (timeoutMs = 15_000) => timeout(exitPromise, timeoutMs, "the component did not exit"),
    kill: (signal = "SIGKILL") => {
      proc.kill(signal);
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return timeout(exitPromise, 15_000, "the component did not stop");
    },
  };
}
