/**
 * Where the component's CPU goes: a V8 .cpuprofile cut to time windows (the bench's phases,
 * on the monotonic clock both processes share) and summed by function (self time) and by
 * source file or package.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  selfMs: number;
  /** Share of the window's busy time (idle excluded), in percent. */
  percent: number;
}

export interface PhaseProfile {
  phase: string;
  windowMs: number;
  busyMs: number;
  samples: number;
  functions: Hotspot[];
  files: Hotspot[];
}

/** Shorten a script URL to its place in the repo or its package. */
function fileOf(url: string): string {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "node internals";
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return `npm:${pkg[1]}`;
  const repo = url.match(/\/dist\/(.*)$/);
  return repo ? (repo[1] as string) : url.replace(/^file:\/\//, "");
}

function nameOf(frame: CallFrame): string {
  const fn = frame.functionName || "(anonymous)";
  if (frame.url === "") return fn;
  const file = fileOf(frame.url).split("/").slice(-2).join("/");
  return `${fn} ${file}:${frame.lineNumber + 1}`;
}

/** Self time per key over the samples inside [fromUs, toUs]. */
function tally(
  profile: CpuProfile,
  byId: Map<number, CallFrame>,
  fromUs: number,
  toUs: number,
  key: (f: CallFrame) => string,
): { totals: Map<string, number>; busyUs: number; count: number } {
  const totals = new Map<string, number>();
  let t = profile.startTime;
  let busyUs = 0;
  let count = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) return;
    const frame = byId.get(id);
    if (!frame || frame.functionName === "(idle)") return;
    const k = key(frame);
    totals.set(k, (totals.get(k) ?? 0) + delta);
    busyUs += delta;
    count++;
  });
  return { totals, busyUs, count };
}

function top(totals: Map<string, number>, busyUs: number, n: number): Hotspot[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 100) / 10,
      percent: Math.round((1000 * us) / Math.max(1, busyUs)) / 10,
    }));
}

/** Summarise each phase window ([fromUs, toUs] on the monotonic clock) of a profile file. */
export function summariseProfile(
  file: string,
  phases: ReadonlyArray<{ phase: string; fromUs: number; toUs: number }>,
  n = 12,
): PhaseProfile[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  return phases.map(({ phase, fromUs, toUs }) => {
    const fns = tally(profile, byId, fromUs, toUs, nameOf);
    const files = tally(profile, byId, fromUs, toUs, (f) =>
      f.url === "" ? f.functionName : fileOf(f.url),
    );
    return {
      phase,
      windowMs: Math.round((toUs - fromUs) / 1000),
      busyMs: Math.round(fns.busyUs / 1000),
      samples: fns.count,
      functions: top(fns.totals, fns.busyUs, n),
      files: top(files.totals, files.busyUs, n),
    };
  });
}
