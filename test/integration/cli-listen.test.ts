/**
 * `warble listen --json` as a process against a real Prosody with Warble (issue 10): bob follows
 * alice; his listen prints nothing old, then each new post of his home timeline (alice's by the
 * CLI and by a plain XMPP client, and his own) as one JSON object a line, in order. The server
 * restarts in the middle (the component reconnects by itself); the posts made while bob's listen
 * is away are printed once it is back, each exactly once, in order. bob's listen goes through a
 * TCP gate (test/harness/cli.ts) that is kept shut while alice posts, so those posts can only
 * come by the MAM catch-up, not live. SIGINT and SIGTERM end it with exit 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliPost,
  type CliProcess,
  type CliWorld,
  expectedShortId,
  type Gate,
  itemUri,
  MICROBLOG_NODE as NODE,
  password,
  spawnCli,
  startCliWorld,
  startGate,
} from "../harness/cli.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { publishPost } from "../harness/pubsub.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parsed(lines: string[]): CliPost[] {
  return lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as CliPost);
}

describe("warble listen on prosody", () => {
  let w: CliWorld;
  let gate: Gate;
  let listen: CliProcess | undefined;
  let aliceXmpp: TestClient | undefined;
  let ALICE = "";
  let BOB = "";
  /** Texts posted since bob's listen started, in order. */
  const expected: string[] = [];
  const old = ["old post one", "old post two"];

  beforeAll(async () => {
    w = await startCliWorld("prosody", ["alice", "bob"]);
    ALICE = `alice@${w.D}`;
    BOB = `bob@${w.D}`;
    gate = await startGate(w.server.ports.c2s);
  });
  afterAll(async () => {
    await listen?.stop("SIGKILL").catch(() => {});
    await aliceXmpp?.stop();
    await gate?.dispose();
    await w?.dispose();
  });

  const connectAlice = async () => {
    await aliceXmpp?.stop();
    aliceXmpp = await connectClient(w.server.ports.c2s, w.D, "alice", password("alice"));
    return aliceXmpp;
  };
  const post = async (user: string, text: string) => {
    await w.json(user, ["post", text]);
    expected.push(text);
  };
  const texts = () => parsed(listen?.lines() ?? []).map((p) => p.text);
  const lineWith = (text: string) => (line: string) => {
    try {
      return (JSON.parse(line) as CliPost).text === text;
    } catch {
      return false;
    }
  };

  it("setup: bob follows alice; both have older posts", async () => {
    expect(await w.json("bob", ["follow", ALICE])).toEqual({ target: ALICE, state: "subscribed" });
    await w.json("alice", ["post", old[0] as string]);
    await w.json("bob", ["post", old[1] as string]);
  });

  it("SIGTERM ends a listen with exit 0; it printed nothing old", async () => {
    const p = spawnCli(["listen", "--json"], w.as("bob"));
    await sleep(3000);
    expect(await p.stop("SIGTERM")).toBe(0);
    expect(p.lines().filter((l) => l.trim() !== "")).toEqual([]);
    expect(p.stderr()).toBe("");
  });

  it("listen --json prints each new post as it is made, one object a line, in order", async () => {
    listen = spawnCli(["listen", "--json"], w.as("bob", { port: gate.port }));
    // Connected, then a moment to learn the newest MAM id.
    const deadline = Date.now() + 10_000;
    while (gate.connections() === 0 && Date.now() < deadline) await sleep(100);
    expect(gate.connections()).toBeGreaterThan(0);
    await sleep(2500);
    expect(texts()).toEqual([]);

    await post("alice", "live: by the CLI");
    await listen.waitForLine(lineWith("live: by the CLI"), 10_000);
    await post("bob", "live: bob's own");
    await listen.waitForLine(lineWith("live: bob's own"), 10_000);
    const xmpp = await connectAlice();
    await publishPost(xmpp, "live: by a plain client");
    expected.push("live: by a plain client");
    await listen.waitForLine(lineWith("live: by a plain client"), 10_000);
    expect(texts()).toEqual(expected);

    const posts = parsed(listen.lines());
    for (const p of posts) {
      const service = p.author === ALICE ? `alice@${w.C}` : `bob@${w.C}`;
      expect([ALICE, BOB]).toContain(p.author);
      expect(p).toMatchObject({ service, node: NODE });
      expect(p.id).toMatch(/\S/);
      expect(p.short).toBe(expectedShortId(service, NODE, p.item));
      expect(p.uri).toBe(itemUri(service, p.item));
      expect(Number.isNaN(Date.parse(p.published))).toBe(false);
    }
    // Same fields as `timeline --json`.
    const timeline = await w.json<CliPost[]>("bob", ["timeline", "--limit", "3"]);
    expect(timeline).toEqual(posts);
  });

  it("the server restarts while listen is away: the posts made meanwhile come once, in order", async () => {
    const l = listen as CliProcess;
    await w.server.restart();
    // Keep bob's listen away (it may have come back already) while alice posts.
    gate.close();
    const deadline = Date.now() + 30_000;
    while (w.readyCount() < 2 && Date.now() < deadline) await sleep(100);
    expect(w.readyCount(), w.component.output()).toBe(2);
    await post("alice", "missed: first, by the CLI");
    const xmpp = await connectAlice();
    await publishPost(xmpp, "missed: second, by a plain client");
    expected.push("missed: second, by a plain client");
    await post("alice", "missed: third, by the CLI");
    await post("bob", "missed: bob's own");
    expect(texts().filter((t) => t.startsWith("missed"))).toEqual([]);
    const through = gate.connections();
    gate.open();
    // Back within its backoff (at most 30 s between tries).
    await l.waitForLine(lineWith("missed: bob's own"), 45_000);
    // They came over a new connection (by the MAM catch-up), not over one kept through the cut.
    expect(gate.connections()).toBeGreaterThan(through);
    await post("alice", "after: live again");
    await l.waitForLine(lineWith("after: live again"), 15_000);
    expect(texts()).toEqual(expected);
  }, 120_000);

  it("a restart with listen reconnecting on its own: posts right after come exactly once", async () => {
    const l = listen as CliProcess;
    const readyBefore = w.readyCount();
    await w.server.restart();
    const deadline = Date.now() + 30_000;
    while (w.readyCount() < readyBefore + 1 && Date.now() < deadline) await sleep(100);
    expect(w.readyCount()).toBe(readyBefore + 1);
    await post("alice", "second restart: one");
    await post("alice", "second restart: two");
    await l.waitForLine(lineWith("second restart: two"), 45_000);
    // Past a 5 s poll and a relay or two: nothing printed again.
    await sleep(6000);
    expect(texts()).toEqual(expected);
    const ids = parsed(l.lines()).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(texts()).not.toContain(old[0]);
    expect(texts()).not.toContain(old[1]);
  }, 120_000);

  it("SIGINT: exit 0", async () => {
    expect(await (listen as CliProcess).stop("SIGINT")).toBe(0);
    listen = undefined;
  });
});
