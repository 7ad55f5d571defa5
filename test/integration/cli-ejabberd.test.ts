/**
 * The `warble` CLI as a process against a real ejabberd with Warble (issue 10), a shorter flow
 * than cli.test.ts: alice posts (by argument and by stdin), bob follows her and reads his home
 * timeline as JSON and as a table, and `show`s her node; the component found by disco; a wrong
 * password.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliPost,
  type CliWorld,
  describeRun,
  errorLine,
  expectedShortId,
  itemUri,
  MICROBLOG_NODE as NODE,
  runCli,
  startCliWorld,
} from "../harness/cli.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the warble CLI on ejabberd", () => {
  let w: CliWorld;
  let ALICE = "";
  const posted: { text: string; id: string; short: string }[] = [];

  beforeAll(async () => {
    w = await startCliWorld("ejabberd", ["alice", "bob"]);
    ALICE = `alice@${w.D}`;
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("alice posts by argument and by stdin", async () => {
    const a = await w.json<{ id: string; short: string; uri: string }>("alice", [
      "post",
      "hello from ejabberd",
    ]);
    expect(a.uri).toBe(itemUri(`alice@${w.C}`, a.id));
    expect(a.short).toBe(expectedShortId(`alice@${w.C}`, NODE, a.id));
    posted.push({ text: "hello from ejabberd", ...a });
    const b = await w.json<{ id: string; short: string }>("alice", ["post", "-"], {
      stdin: "by stdin on ejabberd\n",
    });
    posted.push({ text: "by stdin on ejabberd", ...b });
  });

  it("bob follows alice, and alice's next post reaches his timeline (JSON, oldest first)", async () => {
    expect(await w.json("bob", ["follow", ALICE])).toEqual({ target: ALICE, state: "subscribed" });
    const c = await w.json<{ id: string; short: string }>("alice", ["post", "after the follow"]);
    posted.push({ text: "after the follow", ...c });
    let posts: CliPost[] = [];
    for (let i = 0; i < 30; i++) {
      posts = await w.json<CliPost[]>("bob", ["timeline"]);
      if (posts.some((p) => p.text === "after the follow")) break;
      await sleep(300);
    }
    expect([...posts.map((p) => p.text)].sort()).toEqual(posted.map((p) => p.text).sort());
    expect(posts[posts.length - 1]?.text).toBe("after the follow");
    for (const p of posts) {
      const mine = posted.find((x) => x.text === p.text);
      expect(p).toMatchObject({
        author: ALICE,
        service: `alice@${w.C}`,
        node: NODE,
        item: mine?.id,
        short: mine?.short,
        uri: itemUri(`alice@${w.C}`, mine?.id as string),
      });
    }
    const table = await w.run("bob", ["timeline"]);
    expect(table.code, describeRun(table)).toBe(0);
    for (const p of posted) expect(table.stdout).toContain(p.short);
  });

  it("show alice@D: her node's posts, oldest first", async () => {
    const posts = await w.json<CliPost[]>("bob", ["show", ALICE]);
    expect(posts.map((p) => p.text)).toEqual(posted.map((p) => p.text));
  });

  it("no --component: found by disco on ejabberd too", async () => {
    const out = await w.json<{ uri: string }>("alice", ["post", "found by disco"], {
      component: false,
    });
    expect(out.uri.startsWith(`xmpp:alice@${w.C}?`)).toBe(true);
  });

  it("a wrong password: exit 3", async () => {
    const res = await runCli(["timeline"], {
      env: { ...w.as("alice").env, WARBLE_PASSWORD: "wrong" },
    });
    expect(res.code, describeRun(res)).toBe(3);
    expect(errorLine(res)).toBe(`warble: the server refused the password for ${ALICE}`);
  });
});
