/**
 * A CPU profile of the spawned Warble, for --warble-cpu-prof: `--cpu-prof` is not allowed in
 * NODE_OPTIONS, so a preloaded script (`--require`) runs the inspector's profiler in the process
 * and writes DIR/warble-PID.cpuprofile when it exits (the in-process session answers at once, so
 * the profile is written inside the "exit" handler). Open it in Chrome's DevTools, or read the
 * summary `summarise` prints.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PRELOAD = (dir: string) => `
const { Session } = require("node:inspector");
const { writeFileSync } = require("node:fs");
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.start");
process.on("exit", () => {
  session.post("Profiler.stop", (err, result) => {
    if (!err) writeFileSync(${JSON.stringify(dir)} + "/warble-" + process.pid + ".cpuprofile",
      JSON.stringify(result.profile));
  });
});
`;

/** NODE_OPTIONS that profile a process into `dir` (the preload is written in `scratch`). */
export function profilerOptions(dir: string, scratch: string): string {
  const file = join(scratch, "cpu-profile-preload.cjs");
  writeFileSync(file, PRELOAD(dir));
  return `--require=${file}`;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The `top` functions of the profiles in `dir` by self time, as lines "share  function  file:line". */
export function summarise(dir: string, top = 25): string[] {
  const self = new Map<string, number>();
  let total = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, f), "utf8")) as { nodes: ProfileNode[] };
    for (const n of profile.nodes) {
      const hits = n.hitCount ?? 0;
      const { functionName, url, lineNumber } = n.callFrame;
      const key = `${functionName || "(anonymous)"}  ${url.replace(/^.*\/dist\//, "")}:${lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + hits);
      total += hits;
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${((v / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%  ${k}`);
}
