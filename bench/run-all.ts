/**
 * `npm run bench`: every benchmark of issue 12, one after the other on this machine (they would
 * disturb each other side by side), each printing its own table; then bench/RESULTS.md with the
 * machine, the date, each benchmark's table and its raw numbers (JSON).
 *   - fan-out (bench/fanout.ts): Warble, the server's own pubsub and the route limit, on Prosody
 *     and ejabberd, with 1,000 and 10,000 subscribers;
 *   - publishing (bench/publish-throughput.ts): Warble on SQLite and PostgreSQL and the server's
 *     own pubsub, on Prosody and ejabberd, 10 and 1,000 subscribers, one by one and pipelined;
 *   - the store at scale (bench/store-scale.ts): SQLite and PostgreSQL.
 * Usage: node dist/bench/run-all.js [--quick] [--only fanout,publish,scale] [--out bench/RESULTS.md]
 * --quick: a tenth of the sizes (a check that everything runs, not figures to quote).
 * Loopback only; each benchmark bounds itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "fanout,publish,scale" },
    out: { type: "string", default: "bench/RESULTS.md" },
  },
});

interface Step {
  group: string;
  title: string;
  script: string;
  args: string[];
  /** Writes its raw numbers to the file given with --json. */
  json: boolean;
}

const q = values.quick;
const n = (full: number) => String(q ? Math.max(1, Math.round(full / 10)) : full);

function fanoutSteps(): Step[] {
  const steps: Step[] = [];
  for (const subscribers of [1000, 10000]) {
    for (const server of ["prosody", "ejabberd"]) {
      steps.push({
        group: "fanout",
        title: `Fan-out, ${server}, ${subscribers} subscribers`,
        script: "fanout.js",
        args: ["--server", server, "--subscribers", n(subscribers), "--posts", n(200)],
        json: true,
      });
    }
  }
  return steps;
}

function publishSteps(): Step[] {
  return ["prosody", "ejabberd"].map((server) => ({
    group: "publish",
    title: `Publishing, ${server}, SQLite and PostgreSQL, 10 and 1,000 subscribers`,
    script: "publish-throughput.js",
    args: [
      "--server",
      server,
      "--store",
      "sqlite,postgres",
      "--subscribers",
      `${n(10)},${n(1000)}`,
      "--publishes",
      n(500),
    ],
    json: true,
  }));
}

function scaleSteps(): Step[] {
  const sizes = ["--users", n(100000), "--subscriptions", n(1000000), "--posts", n(1000000)];
  return [
    {
      group: "scale",
      title: "Store at scale, SQLite and PostgreSQL",
      script: "store-scale.js",
      args: ["--store", "sqlite,postgres", ...sizes, "--timeline-rows", n(1000000)],
      json: true,
    },
  ];
}

interface Ran {
  step: Step;
  status: number | null;
  seconds: number;
  stdout: string;
  json?: string;
}

function run(step: Step, dir: string, i: number): Ran {
  const jsonFile = join(dir, `${i}.json`);
  const args = [join(import.meta.dirname, step.script), ...step.args];
  if (step.json) args.push("--json", jsonFile);
  console.log(`\n== ${step.title}: node ${args.join(" ")}`);
  const started = Date.now();
  const out = spawnSync(process.execPath, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(out.stdout ?? "");
  const ran: Ran = {
    step,
    status: out.status,
    seconds: (Date.now() - started) / 1000,
    stdout: out.stdout ?? "",
  };
  if (step.json && existsSync(jsonFile)) ran.json = readFileSync(jsonFile, "utf8");
  return ran;
}

function report(ran: readonly Ran[]): string {
  const cpu = cpus()[0]?.model ?? "unknown";
  const lines = [
    "# Benchmark results",
    "",
    `Written by \`npm run bench\`${q ? " --quick (a tenth of the sizes: not figures to quote)" : ""} on ${new Date().toISOString()}.`,
    `Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    "Everything on loopback, one benchmark at a time; the machine is shared, so compare the ratios",
    "measured within one run before the absolute figures.",
  ];
  for (const r of ran) {
    lines.push("", `## ${r.step.title}`, "");
    lines.push(
      `\`node dist/bench/${r.step.script} ${r.step.args.join(" ")}\` — exit ${r.status}, ${r.seconds.toFixed(0)} s`,
    );
    lines.push("", "```", r.stdout.trimEnd(), "```");
    if (r.json)
      lines.push(
        "",
        "<details><summary>raw numbers</summary>",
        "",
        "```json",
        r.json.trim(),
        "```",
        "",
        "</details>",
      );
  }
  return `${lines.join("\n")}\n`;
}

function main(): void {
  const wanted = new Set(values.only.split(","));
  const steps = [
    ...(wanted.has("fanout") ? fanoutSteps() : []),
    ...(wanted.has("publish") ? publishSteps() : []),
    ...(wanted.has("scale") ? scaleSteps() : []),
  ];
  const dir = mkdtempSync(join(tmpdir(), "warble-bench-"));
  const ran = steps.map((step, i) => run(step, dir, i));
  writeFileSync(values.out, report(ran));
  console.log(`\nwrote ${values.out}`);
  if (ran.some((r) => r.status !== 0)) process.exitCode = 1;
}

main();
