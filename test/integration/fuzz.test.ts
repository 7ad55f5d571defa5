/**
 * Property-based fuzz (test/harness/fuzz.ts), the bounded run: on Prosody and on ejabberd, a fixed
 * seed (WARBLE_FUZZ_SEED when set) and a few hundred hostile stanzas from mallory and from alice.
 * Every failure is shown with the stanza that caused it and a shrunk counterexample; the seed and
 * fast-check path replay it. `node dist/scripts/fuzz.js` runs the same property for longer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkGenerators,
  type FuzzWorld,
  formatReport,
  runFuzz,
  startFuzzWorld,
} from "../harness/fuzz.js";
import { SERVER_KINDS } from "../harness/servers.js";

const SEED = process.env.WARBLE_FUZZ_SEED ? Number(process.env.WARBLE_FUZZ_SEED) : 20_260_112;
/** Batches of up to 20 stanzas: about 250 stanzas per server. */
const RUNS = 25;
const BATCH = 20;

describe("fuzz generators", () => {
  it("write well-formed XML with only the characters XML 1.0 allows", () => {
    expect(checkGenerators(SEED, 500)).toEqual([]);
  });
});

describe.each(SERVER_KINDS)("fuzz on %s", (kind) => {
  let world: FuzzWorld;

  beforeAll(async () => {
    world = await startFuzzWorld(kind);
  });
  afterAll(async () => {
    await world?.dispose();
  });

  it(`survives hostile stanzas from mallory and alice (seed ${SEED})`, async () => {
    const report = await runFuzz(world, {
      seed: SEED,
      runs: RUNS,
      batchSize: BATCH,
      timeLimitMs: 60_000,
      timeoutMs: 5000,
      shrinkBudgetMs: 60_000,
      log: (line) => console.info(line),
    });
    const text = formatReport(report);
    console.info(text);
    expect(
      report.defects.map((d) => d.signature),
      text,
    ).toEqual([]);
  }, 240_000);
});
