import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/servers.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { SERVER_KINDS, startTestServer, type TestServer, tempDir } from "../harness/servers.js";

const run = promisify(execFile);
const SCRIPT = join(repoRoot(), "test", "slixmpp", "microblog_flow.py");

interface FlowResult {
  subscription: string;
  published_ids: string[];
  notifications: string[];
  bodies: string[];
  max_items_2: Array<{ id: string; title: string }>;
  rsm_pages: Array<{ items: Array<{ id: string; title: string }>; count: number; last: string }>;
  retracted: string[];
  after_retract: string[];
}

describe.each(SERVER_KINDS)("an independent client (slixmpp) on %s", (kind) => {
  let server: TestServer;
  let component: ComponentProcess;
  let result: FlowResult;

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
    const { stdout } = await run("/usr/bin/python3", args, { timeout: 90_000 });
    result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as FlowResult;
  });

  afterAll(async () => {
    await component?.stop();
    await server?.dispose();
  });

  it("subscribes", () => {
    expect(result.subscription).toBe("subscribed");
  });

  it("publishes five posts and gets the ids the service assigned", () => {
    expect(result.published_ids).toHaveLength(5);
    expect(new Set(result.published_ids).size).toBe(5);
  });

  it("receives the last published item on subscribing, then a notification with a readable body for each post", () => {
    expect(result.notifications).toEqual(["post 1", "post 2", "post 3", "post 4", "post 5"]);
    expect(result.bodies).toEqual(
      [1, 2, 3, 4, 5].map((n) => `alice@${server.usersDomain}: post ${n}`),
    );
  });

  it("reads the newest items first with max_items", () => {
    expect(result.max_items_2.map((i) => i.title)).toEqual(["post 5", "post 4"]);
  });

  it("pages with RSM max/after and gets the count", () => {
    const [first, second] = result.rsm_pages;
    expect(first?.items.map((i) => i.title)).toEqual(["post 5", "post 4"]);
    expect(second?.items.map((i) => i.title)).toEqual(["post 3", "post 2"]);
    expect(first?.count).toBe(5);
  });

  it("retracts with a notification", () => {
    expect(result.retracted).toEqual([result.published_ids[4]]);
    expect(result.after_retract).toEqual(["post 4", "post 3", "post 2", "post 1"]);
  });
});
