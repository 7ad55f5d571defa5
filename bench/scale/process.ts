/**
 * The component process as the bench sees it: resident memory and CPU time from /proc, and a
 * start under `node --cpu-prof` (the flag is not allowed in NODE_OPTIONS, so this spawns
 * dist/component/src/main.js itself, like test/harness/component.ts but with the flag).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { COMPONENT_MAIN } from "../../test/harness/component.js";

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export function memoryKb(pid: number): { rssKb: number; peakKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
  return { rssKb: kb("VmRSS"), peakKb: kb("VmHWM") };
}

/** User + system CPU of a process so far, in ms (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The pid of the Prosody a harness started with `dir` as its data dir (it has
 * WARBLE_PROSODY_DATA=dir in its environment), or undefined.
 */
export function prosodyPid(dir: string): number | undefined {
  const wanted = `WARBLE_PROSODY_DATA=${dir}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "latin1");
      if (environ.includes(wanted) && cmdline.includes("prosody")) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/** A process and its children (PostgreSQL's postmaster and backends), from /proc. */
export function withChildren(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU ms of the whole machine so far, all cores, idle and iowait left out (/proc/stat). */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) * 10;
}

/** The monotonic clock in µs, the clock of V8's profile timestamps. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface ProfiledComponent {
  proc: ChildProcess;
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM and wait for the exit (the profile is written then). */
  stop(): Promise<void>;
}

/** The component under --cpu-prof, writing its profile into `dir` on exit. */
export function spawnProfiled(
  args: string[],
  env: Record<string, string>,
  dir: string,
): ProfiledComponent {
  const proc = spawn(
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`, COMPONENT_MAIN, ...args],
    {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return {
    proc,
    waitForLine: (re, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const check = () => {
          const line = out.split("\n").find((l) => re.test(l));
          if (line === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(line);
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
