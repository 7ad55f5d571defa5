/**
 * The hostile-stanza fuzz (test/harness/fuzz.ts), run longer than `npm test` does:
 *
 *   node dist/scripts/fuzz.js --server prosody --runs 2000 --seed 42
 *
 * Starts a private server (Prosody, ejabberd, or both one after the other) with a component on a
 * fresh database, explores `--runs` batches of up to `--batch` stanzas from mallory and alice,
 * shrinks one counterexample per distinct failure, and prints a summary: stanzas sent, answers by
 * condition, and the failures. Exit code 1 when it found any.
 */
import { Command, InvalidArgumentError } from "commander";
import { formatReport, runFuzz, startFuzzWorld } from "../test/harness/fuzz.js";
import { SERVER_KINDS, type ServerKind } from "../test/harness/servers.js";

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

const program = new Command()
  .name("fuzz")
  .description("Send hostile stanzas to a private Warble and check it survives them")
  .option("--server <kind>", "prosody, ejabberd or both", "both")
  .option("--runs <n>", "batches (fast-check runs) to explore", int("--runs"), 200)
  .option("--batch <n>", "at most this many stanzas per batch", int("--batch"), 20)
  .option("--seed <n>", "fast-check seed (default: random)", int("--seed"))
  .option("--max-stanzas <n>", "stop exploring after this many stanzas", int("--max-stanzas"))
  .option("--time-limit <s>", "stop exploring after this many seconds", int("--time-limit"))
  .option("--shrink <s>", "seconds for shrinking, all failures together", int("--shrink"), 300)
  .option("--timeout <ms>", "how long an IQ may wait for its answer", int("--timeout"), 5000)
  .option("--quiet", "no progress lines")
  .parse();

const opts = program.opts<{
  server: string;
  runs: number;
  batch: number;
  seed?: number;
  maxStanzas?: number;
  timeLimit?: number;
  shrink: number;
  timeout: number;
  quiet?: boolean;
}>();

const kinds: ServerKind[] =
  opts.server === "both" ? SERVER_KINDS : SERVER_KINDS.filter((k) => k === opts.server);
if (kinds.length === 0) {
  console.error(`--server must be prosody, ejabberd or both, not ${opts.server}`);
  process.exit(2);
}
const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
let failed = false;
for (const kind of kinds) {
  const world = await startFuzzWorld(kind);
  // Ctrl-C or a kill: stop the server and component this run started, then go.
  const stop = () => {
    void world.dispose().finally(() => process.exit(130));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const report = await runFuzz(world, {
      seed,
      runs: opts.runs,
      batchSize: opts.batch,
      ...(opts.maxStanzas !== undefined ? { maxStanzas: opts.maxStanzas } : {}),
      ...(opts.timeLimit !== undefined ? { timeLimitMs: opts.timeLimit * 1000 } : {}),
      timeoutMs: opts.timeout,
      shrinkBudgetMs: opts.shrink * 1000,
      log: opts.quiet ? undefined : (line) => console.error(line),
    });
    console.log(formatReport(report));
    console.log("");
    if (report.defects.length > 0) failed = true;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await world.dispose();
  }
}
process.exit(failed ? 1 : 0);
