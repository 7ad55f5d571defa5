import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/servers.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { SERVER_KINDS, startTestServer, type TestServer, tempDir } from "../harness/servers.js";

const run = promisify(execFile);
const SCRIPT = join(repoRoot(), "test", "slixmpp", "mam_paging.py");

interface Page {
  titles: string[];
  ids: string[];
  first: string | null;
  first_index: number | null;
  last: string | null;
  count: number | null;
  complete: boolean;
}

interface Result {
  slixmpp: string;
  published: number;
  forward_pages: Page[];
  iterate_first: {
    mam_id: string;
    queryid: string;
    from: string;
    stamp: string | null;
    inner_from: string;
    inner_type: string;
    node: string;
    item_id: string;
    title: string;
    body: string;
  } | null;
  backward_pages: Page[];
  /** Pages slixmpp's reverse iterator itself gave before stopping (1 with 1.8: see the script). */
  backward_iterator_pages: number;
  after_10th: string[];
  before_11th: string[];
  filters: {
    start_end: Page;
    start: string[];
    end: string[];
    with_service: number;
    with_author: number;
    with_other: Page;
    with_and_start: string[];
    start_end_pages: string[][];
  };
  other_user: { error: string | null; type?: string };
  other_own_timeline: { count: number | null; complete: boolean; titles: string[] };
  problems: string[];
}

const posts = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `post ${from + i}`);

describe.each(SERVER_KINDS)("the home timeline by MAM from slixmpp on %s", (kind) => {
  let server: TestServer;
  let component: ComponentProcess;
  let result: Result;
  let exitCode: number;

  beforeAll(async () => {
    server = await startTestServer(kind);
    await server.register("alice", "alice-pw");
    await server.register("bob", "bob-pw");
    component = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    await component.waitForLine(/"msg":"ready"/);
    const args = [
      SCRIPT,
      String(server.ports.c2s),
      server.usersDomain,
      server.componentDomain,
      "alice",
      "alice-pw",
      "bob",
      "bob-pw",
    ];
    let stdout: string;
    try {
      ({ stdout } = await run("/usr/bin/python3", args, { timeout: 60_000 }));
      exitCode = 0;
    } catch (err) {
      // A mismatch exits non-zero but still prints what it saw.
      const failed = err as { stdout?: string; stderr?: string; code?: number };
      stdout = failed.stdout ?? "";
      exitCode = typeof failed.code === "number" ? failed.code : -1;
      if (!stdout.trim()) throw new Error(`mam_paging.py failed: ${failed.stderr ?? String(err)}`);
    }
    result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Result;
  }, 60_000);

  afterAll(async () => {
    await component?.stop();
    await server?.dispose();
  });

  it("finds nothing amiss and exits 0", () => {
    expect(result.problems).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it("pages forward in pages of 10: three pages, all 25 posts in publish order, the last complete", () => {
    expect(result.published).toBe(25);
    const pages = result.forward_pages;
    expect(pages.map((p) => p.titles)).toEqual([posts(1, 10), posts(11, 20), posts(21, 25)]);
    expect(new Set(pages.flatMap((p) => p.ids)).size).toBe(25);
    expect(pages.map((p) => p.count)).toEqual([25, 25, 25]);
    expect(pages.map((p) => p.first_index)).toEqual([0, 10, 20]);
    expect(pages.map((p) => p.complete)).toEqual([false, false, true]);
    for (const p of pages) {
      expect(p.first).toBe(p.ids[0]);
      expect(p.last).toBe(p.ids[p.ids.length - 1]);
    }
  });

  it("forwards each post as its headline event from u@C, with a delay stamp and a readable body", () => {
    const first = result.iterate_first;
    const service = `alice@${server.componentDomain}`;
    expect(first).toMatchObject({
      from: service,
      inner_from: service,
      inner_type: "headline",
      node: "urn:xmpp:microblog:0",
      title: "post 1",
      body: `alice@${server.usersDomain}: post 1`,
      mam_id: result.forward_pages[0]?.ids[0],
    });
    expect(first?.stamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("pages backwards from the end (<before/> empty), each page oldest first", () => {
    const pages = result.backward_pages;
    expect(pages.map((p) => p.titles)).toEqual([posts(16, 25), posts(6, 15), posts(1, 5)]);
    expect(pages.map((p) => p.first_index)).toEqual([15, 5, 0]);
    expect(pages.map((p) => p.complete)).toEqual([false, false, true]);
    expect([...pages].reverse().flatMap((p) => p.ids)).toEqual(
      result.forward_pages.flatMap((p) => p.ids),
    );
    expect(result.backward_iterator_pages).toBeGreaterThanOrEqual(1);
    expect(pages.map((p) => p.count)).toEqual([25, 25, 25]);
  });

  it("takes the MAM ids as RSM after/before", () => {
    expect(result.after_10th).toEqual(posts(11, 13));
    expect(result.before_11th).toEqual(posts(8, 10));
  });

  it("filters on arrival time (start/end) and on the post's service or author (with)", () => {
    const f = result.filters;
    expect(f.start_end.titles).toEqual(posts(11, 20));
    expect(f.start_end).toMatchObject({ count: 10, first_index: 0, complete: true });
    expect(f.start_end_pages).toEqual([posts(11, 20)]);
    expect(f.start).toEqual(posts(21, 25));
    expect(f.end).toEqual(posts(1, 10));
    expect(f.with_service).toBe(25);
    expect(f.with_author).toBe(25);
    expect(f.with_other).toMatchObject({ titles: [], count: 0, complete: true });
    expect(f.with_and_start).toEqual(posts(21, 25));
  });

  it("refuses another user's query with forbidden; that user's own timeline is empty", () => {
    expect(result.other_user).toEqual({ error: "forbidden", type: expect.any(String) });
    expect(result.other_own_timeline).toEqual({ count: 0, complete: true, titles: [] });
  });
});
