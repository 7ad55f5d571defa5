/**
 * Wall time of `warble post` on loopback (issue 10): a private Prosody (or ejabberd) with Warble,
 * then `node dist/client-cli/src/main.js post TEXT` run N times one after another as a process
 * (process start to exit), with --component given, and once more N times without it (the
 * component found by disco). Prints one JSON line per phase: median, p90, min and max in ms.
 * Usage: npm run build && node dist/bench/cli-post.js [--server prosody|ejabberd] [--runs 25]
 * Loopback only; bounded by the count given.
 */
import { parseArgs } from "node:util";
import { type CliResult, describeRun, runCli, startCliWorld } from "../test/harness/cli.js";
import type { ServerKind } from "../test/harness/servers.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "prosody" },
    runs: { type: "string", default: "25" },
  },
});
const N = Number(values.runs);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`--runs: a positive integer, not ${values.runs}`);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? 0;
const median = (sorted: number[]) => {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const round = (ms: number) => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const world = await startCliWorld(values.server as ServerKind, ["poster"]);
  try {
    const user = `poster@${world.D}`;
    const phase = async (label: string, withComponent: boolean) => {
      const times: number[] = [];
      for (let i = 0; i < N; i++) {
        const args = ["post", `${label} ${i}`];
        const res: CliResult = await runCli(
          withComponent ? [...args, "--component", world.C] : args,
          world.as("poster", { component: false }),
        );
        if (res.code !== 0) throw new Error(describeRun(res));
        times.push(res.ms);
      }
      const sorted = [...times].sort((a, b) => a - b);
      console.log(
        JSON.stringify({
          bench: "cli-post",
          server: values.server,
          user,
          phase: label,
          runs: N,
          wallMs: {
            median: round(median(sorted)),
            p90: round(pct(sorted, 90)),
            min: round(sorted[0] ?? 0),
            max: round(sorted[sorted.length - 1] ?? 0),
          },
        }),
      );
    };
    // One run first, not counted: the node is created and the OS caches warm.
    const warm = await runCli(["post", "warm-up", "--component", world.C], world.as("poster"));
    if (warm.code !== 0) throw new Error(describeRun(warm));
    await phase("with --component", true);
    await phase("disco (no --component)", false);
  } finally {
    await world.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});
