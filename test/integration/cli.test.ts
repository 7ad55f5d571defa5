/**
 * The `warble` CLI as a process against a real Prosody with Warble (issue 10): alice, bob and
 * carol post (by argument, by `-` and by a pipe), follow, read the home timeline as a table and
 * as JSON, `show` someone they do not follow, lock an account and approve (or deny) a follower,
 * unfollow, list followers, delete; accounts from the environment, flags, and a config file of
 * named accounts; the component found by disco; help; and the errors with their exit codes, each
 * one line on stderr. The CLI's code is not imported: only its contract (the spec of issue 10).
 * `listen` is in cli-listen.test.ts, the ejabberd flow in cli-ejabberd.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/servers.js";
import {
  type CliPost,
  type CliResult,
  type CliWorld,
  cliHome,
  describeRun,
  errorLine,
  expectedShortId,
  hasAnsi,
  itemUri,
  MICROBLOG_NODE as NODE,
  runCli,
  runCliTty,
  startCliWorld,
  stripAnsi,
} from "../harness/cli.js";
import { connectClient } from "../harness/client.js";
import { getItems, itemsOf } from "../harness/pubsub.js";
import { tempDir } from "../harness/servers.js";

const COMMANDS = [
  "post",
  "delete",
  "follow",
  "unfollow",
  "following",
  "followers",
  "pending",
  "approve",
  "deny",
  "block",
  "unblock",
  "lock",
  "unlock",
  "timeline",
  "show",
  "listen",
];

interface Posted {
  id: string;
  short: string;
  uri: string;
}

/** Exit 0 required (the failure shows the run). */
function ok(res: CliResult): CliResult {
  expect(res.code, describeRun(res)).toBe(0);
  return res;
}

/** A failed run: the exit code and the one stderr line (`warble: …`, no stack trace). */
function failed(res: CliResult, code: number): string {
  expect(res.code, describeRun(res)).toBe(code);
  const line = errorLine(res);
  expect(line).toMatch(/^warble: \S/);
  return line;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ask until `pred` holds (each try a CLI run); the last value. */
async function until<T>(get: () => Promise<T>, pred: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await get();
  while (!pred(value) && Date.now() < deadline) {
    await sleep(300);
    value = await get();
  }
  return value;
}

describe("the warble CLI on prosody", () => {
  let w: CliWorld;
  let C = "";
  let ALICE = "";
  let BOB = "";
  let CAROL = "";
  /** alice's posts in order: text and what `post --json` said (short from text mode). */
  const alicePosts: { text: string; id?: string; short: string }[] = [];

  beforeAll(async () => {
    w = await startCliWorld("prosody", ["alice", "bob", "carol"]);
    C = w.C;
    ALICE = `alice@${w.D}`;
    BOB = `bob@${w.D}`;
    CAROL = `carol@${w.D}`;
  });
  afterAll(async () => {
    await w?.dispose();
  });

  const timelineOf = (user: string, args: string[] = []) =>
    w.json<CliPost[]>(user, ["timeline", ...args]);
  const textsBy = (posts: CliPost[], author: string) =>
    posts.filter((p) => p.author === author).map((p) => p.text);

  // ───────────────────────────── help and usage ─────────────────────────────

  it("--help lists every command, exit 0", async () => {
    const res = ok(await runCli(["--help"]));
    for (const cmd of COMMANDS) expect(res.stdout, cmd).toMatch(new RegExp(`\\b${cmd}\\b`));
  });

  it("`help post` and `post --help` show the options and an example", async () => {
    for (const args of [
      ["help", "post"],
      ["post", "--help"],
    ]) {
      const res = ok(await runCli(args));
      expect(res.stdout, args.join(" ")).toContain("--reply-to");
      expect(res.stdout, args.join(" ")).toMatch(/warble post ["']?\S/);
    }
    const show = ok(await runCli(["help", "timeline"]));
    expect(show.stdout).toContain("--limit");
    expect(show.stdout).toContain("--before");
    expect(show.stdout).toMatch(/warble timeline/);
  });

  it("an unknown command: exit 2, one line naming it", async () => {
    const res = await runCli(["frobnicate"]);
    expect(failed(res, 2)).toBe('warble: unknown command "frobnicate" (see warble --help)');
  });

  it("an unknown flag: exit 2, one line", async () => {
    failed(await w.run("alice", ["timeline", "--frobnicate"]), 2);
  });

  it("no password from anywhere and stdin not a terminal: exit 2, no prompt, no hang", async () => {
    const res = await runCli(["timeline"], {
      env: {
        WARBLE_JID: ALICE,
        WARBLE_XMPP_SERVICE: `xmpp://127.0.0.1:${w.server.ports.c2s}`,
        WARBLE_COMPONENT: C,
      },
      timeoutMs: 15_000,
    });
    failed(res, 2);
    expect(res.stdout).not.toContain("Password for");
  });

  // ───────────────────────────── post ─────────────────────────────

  it("post TEXT: says what was posted and how to undo it", async () => {
    const text = "hello from the command line";
    const res = ok(await w.run("alice", ["post", text]));
    const undo = /Undo: warble delete ([a-z2-7]{6})\b/.exec(res.stdout);
    expect(undo, res.stdout).not.toBeNull();
    const short = undo?.[1] as string;
    expect(res.stdout).toContain(short);
    alicePosts.push({ text, short });
  });

  it("post TEXT --json: id, short id and URI of the item at alice@C", async () => {
    const text = "second post, with JSON";
    const out = await w.json<Posted>("alice", ["post", text]);
    expect(Object.keys(out).sort()).toEqual(["id", "short", "uri"]);
    expect(out.id).toMatch(/\S/);
    expect(out.uri).toBe(itemUri(`alice@${C}`, out.id));
    expect(out.short).toBe(expectedShortId(`alice@${C}`, NODE, out.id));
    alicePosts.push({ text, id: out.id, short: out.short });
  });

  it("post -: the text from stdin (several lines kept, the final newline not)", async () => {
    const out = await w.json<Posted>("alice", ["post", "-"], {
      stdin: "from stdin with a dash\nand a second line\n",
    });
    expect(out.uri).toBe(itemUri(`alice@${C}`, out.id));
    alicePosts.push({ text: "from stdin with a dash\nand a second line", ...out });
  });

  it("post with no TEXT and a pipe on stdin: the text from stdin", async () => {
    const out = await w.json<Posted>("alice", ["post"], { stdin: "piped into warble post\n" });
    alicePosts.push({ text: "piped into warble post", ...out });
  });

  it("post over the length limit: exit 5 with the service's text (limit 500)", async () => {
    const res = await w.run("alice", ["post", "x".repeat(501)]);
    expect(failed(res, 5)).toMatch(/500/);
  });

  // ───────────────────────────── follow and the timeline ─────────────────────────────

  it("follow JID --json: subscribed (an open account); text mode says how to undo", async () => {
    expect(await w.json("bob", ["follow", ALICE])).toEqual({ target: ALICE, state: "subscribed" });
    const res = ok(await w.run("bob", ["follow", CAROL]));
    expect(res.stdout).toContain(`warble unfollow ${CAROL}`);
  });

  it("timeline --json: alice's posts in bob's timeline, every field, oldest first", async () => {
    for (const text of ["one", "two", "three"]) {
      const out = await w.json<Posted>("alice", ["post", text]);
      alicePosts.push({ text, ...out });
    }
    const all = alicePosts.map((p) => p.text);
    const posts = await until(
      () => timelineOf("bob"),
      (ps) => textsBy(ps, ALICE).includes("three"),
    );
    const mine = posts.filter((p) => p.author === ALICE);
    // Posted before the follow (fetched when he followed) or after it: all of them, once.
    expect([...textsBy(posts, ALICE)].sort()).toEqual([...all].sort());
    // Those posted after the follow arrived in order, the newest last.
    expect(textsBy(posts, ALICE).slice(-3)).toEqual(["one", "two", "three"]);
    for (const p of mine) {
      const posted = alicePosts.find((a) => a.text === p.text);
      expect(p).toMatchObject({ author: ALICE, service: `alice@${C}`, node: NODE });
      expect(p.id).toMatch(/\S/);
      expect(p.short).toBe(expectedShortId(p.service, p.node, p.item));
      expect(p.short).toBe(posted?.short);
      if (posted?.id) expect(p.item).toBe(posted.id);
      expect(p.uri).toBe(itemUri(p.service, p.item));
      expect(Number.isNaN(Date.parse(p.published)), p.published).toBe(false);
      expect(Math.abs(Date.now() - Date.parse(p.published))).toBeLessThan(10 * 60_000);
    }
    const last3 = mine.slice(-3).map((p) => Date.parse(p.published));
    expect([...last3].sort((a, b) => a - b)).toEqual(last3);
    // The text-mode post got its item id here.
    const first = alicePosts[0];
    if (first) first.id = mine.find((p) => p.text === first.text)?.item;
  });

  it("timeline: a table (author, text, short id), oldest first, 80 columns, no colour", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const out = await w.json<Posted>("alice", ["post", long]);
    alicePosts.push({ text: long, ...out });
    await until(
      () => timelineOf("bob"),
      (ps) => textsBy(ps, ALICE).includes(long),
    );
    const res = ok(await w.run("bob", ["timeline"]));
    const table = res.stdout;
    expect(hasAnsi(table)).toBe(false);
    for (const line of table.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table).toContain(ALICE);
    const at = (s: string) => table.indexOf(s);
    for (const p of alicePosts.filter((p) => !p.text.includes("\n"))) {
      if (p.text !== long) expect(table, p.text).toContain(p.text);
      expect(table, p.short).toContain(p.short);
    }
    expect(at("one")).toBeLessThan(at("two"));
    expect(at("two")).toBeLessThan(at("three"));
    expect(at("three")).toBeLessThan(at("word39"));
    // The long post is wrapped: every word is there, spread over several lines.
    for (let i = 0; i < 40; i++) expect(table).toMatch(new RegExp(`\\bword${i}\\b`));
    const lineOf = (s: string) =>
      table.split("\n").findIndex((l) => new RegExp(`\\b${s}\\b`).test(l));
    expect(lineOf("word39")).toBeGreaterThan(lineOf("word0"));
    // A relative time: "12s", "3m", "now"…
    expect(table).toMatch(/\b(\d+[smhd]|now)\b/);
  });

  it("timeline on a terminal: colour, wrapped to its width; with NO_COLOR no colour", async () => {
    const tty = ok(await runCliTty(["timeline"], { ...w.as("bob"), columns: 60 }));
    expect(hasAnsi(tty.stdout), tty.stdout).toBe(true);
    const shown = stripAnsi(tty.stdout);
    for (const line of shown.split("\n")) expect(line.length, line).toBeLessThanOrEqual(60);
    expect(shown).toContain("three");
    const plain = ok(
      await runCliTty(["timeline"], { ...w.as("bob", { env: { NO_COLOR: "1" } }), columns: 60 }),
    );
    expect(hasAnsi(plain.stdout), plain.stdout).toBe(false);
    expect(plain.stdout).toContain("three");
  });

  it("no password and a terminal: a prompt, the password not echoed", async () => {
    const env = { ...w.as("alice").env };
    delete env.WARBLE_PASSWORD;
    const res = ok(
      await runCliTty(["following", "--json"], {
        env,
        answer: { after: /Password for alice@localhost: /, send: "alice-pw\n" },
        timeoutMs: 20_000,
      }),
    );
    expect(res.stdout).toContain(`Password for ${ALICE}: `);
    expect(res.stdout).not.toContain("alice-pw");
    expect(res.stdout).toContain("[]");
  });

  it("timeline --limit and --before: the last page, and the page before a MAM id", async () => {
    const all = await timelineOf("bob");
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(await timelineOf("bob", ["--limit", "2"])).toEqual(all.slice(-2));
    const last = all[all.length - 1] as CliPost;
    expect(await timelineOf("bob", ["--limit", "2", "--before", last.id])).toEqual(
      all.slice(-3, -1),
    );
  });

  it("show JID: carol reads alice's posts straight from her node without following her", async () => {
    expect(await w.json("carol", ["following"])).toEqual([]);
    const posts = await w.json<CliPost[]>("carol", ["show", ALICE]);
    expect(posts.map((p) => p.text)).toEqual(alicePosts.map((p) => p.text));
    for (const [i, p] of posts.entries()) {
      expect(p).toMatchObject({ author: ALICE, service: `alice@${C}`, node: NODE });
      expect(p.item).toBe(alicePosts[i]?.id);
      expect(p.short).toBe(expectedShortId(p.service, NODE, p.item));
      expect(p.uri).toBe(itemUri(p.service, p.item));
    }
    const two = await w.json<CliPost[]>("carol", ["show", ALICE, "--limit", "2"]);
    expect(two.map((p) => p.text)).toEqual(alicePosts.slice(-2).map((p) => p.text));
    // By her Warble address too.
    const byService = await w.json<CliPost[]>("carol", ["show", `alice@${C}`]);
    expect(byService.map((p) => p.item)).toEqual(posts.map((p) => p.item));
    const table = ok(await w.run("carol", ["show", ALICE])).stdout;
    expect(table).toContain("three");
    expect(table.indexOf("one")).toBeLessThan(table.indexOf("three"));
  });

  it("following --json: whom bob follows and the state", async () => {
    const rows = await w.json<{ target: string; state: string }[]>("bob", ["following"]);
    expect([...rows].sort((a, b) => a.target.localeCompare(b.target))).toEqual([
      { target: ALICE, state: "subscribed" },
      { target: CAROL, state: "subscribed" },
    ]);
  });

  it("post --reply-to SHORT and --reply-to URI: the reply names alice's post (RFC 4685)", async () => {
    const three = alicePosts.find((p) => p.text === "three");
    const two = alicePosts.find((p) => p.text === "two");
    const byShort = await w.json<Posted>("bob", [
      "post",
      "a reply by short id",
      "--reply-to",
      three?.short as string,
    ]);
    const uri = itemUri(`alice@${C}`, two?.id as string);
    const byUri = await w.json<Posted>("bob", ["post", "a reply by URI", "--reply-to", uri]);
    const bob = await connectClient(w.server.ports.c2s, w.D, "bob", "bob-pw");
    try {
      const items = itemsOf(await getItems(bob, "bob"));
      const hrefOf = (id: string) =>
        items
          .find((i) => i.attrs.id === id)
          ?.getChild("entry")
          ?.getChildren("in-reply-to")[0]?.attrs.href;
      expect(hrefOf(byShort.id)).toBe(itemUri(`alice@${C}`, three?.id as string));
      expect(hrefOf(byUri.id)).toBe(uri);
    } finally {
      await bob.stop();
    }
    failed(await w.run("bob", ["post", "a reply to nothing", "--reply-to", "not-a-post"]), 2);
  });

  // ───────────────────────────── unfollow ─────────────────────────────

  it("unfollow JID --json: removed N (alice's posts leave bob's timeline); text mode: undo", async () => {
    const before = textsBy(await timelineOf("bob"), ALICE).length;
    expect(before).toBe(alicePosts.length);
    expect(await w.json("bob", ["unfollow", ALICE])).toEqual({ target: ALICE, removed: before });
    expect(textsBy(await timelineOf("bob"), ALICE)).toEqual([]);
    const res = ok(await w.run("bob", ["unfollow", CAROL]));
    expect(res.stdout).toContain(`warble follow ${CAROL}`);
    expect(await w.json("bob", ["following"])).toEqual([]);
  });

  // ───────────────────────────── a locked account ─────────────────────────────

  it("lock: text mode says how to undo; --json ok with the service's note", async () => {
    const res = ok(await w.run("alice", ["lock"]));
    expect(res.stdout).toContain("warble unlock");
    const out = await w.json<{ ok: boolean; message: string }>("alice", ["lock"]);
    expect(out.ok).toBe(true);
    expect(out.message).toMatch(/authorize/);
  });

  it("bob follows locked alice: pending; alice's `pending` lists bob@C", async () => {
    expect(await w.json("bob", ["follow", ALICE])).toEqual({ target: ALICE, state: "pending" });
    expect(await w.json("bob", ["following"])).toEqual([{ target: ALICE, state: "pending" }]);
    const pending = await until(
      () => w.json<{ count: number; jids: string[] }>("alice", ["pending"]),
      (p) => p.count > 0,
    );
    expect(pending).toEqual({ count: 1, jids: [`bob@${C}`] });
  });

  it("approve bob@C: bob's follow becomes subscribed; alice's followers list him", async () => {
    const out = await w.json<{ ok: boolean; message: string }>("alice", ["approve", `bob@${C}`]);
    expect(out.ok).toBe(true);
    expect(out.message).toMatch(/\S/);
    const rows = await until(
      () => w.json<{ target: string; state: string }[]>("bob", ["following"]),
      (r) => r[0]?.state === "subscribed",
    );
    expect(rows).toEqual([{ target: ALICE, state: "subscribed" }]);
    expect(await w.json("alice", ["pending"])).toEqual({ count: 0, jids: [] });
    const followers = await w.json<{ count: number; jids: string[] }>("alice", ["followers"]);
    expect(followers.jids).toContain(`bob@${C}`);
    expect(followers.count).toBe(followers.jids.length);
    // Her posts are fetched into his timeline once approved.
    const back = await until(
      () => timelineOf("bob"),
      (ps) => textsBy(ps, ALICE).length === alicePosts.length,
    );
    expect([...textsBy(back, ALICE)].sort()).toEqual(alicePosts.map((p) => p.text).sort());
  });

  it("deny carol@C: carol's request ends", async () => {
    expect(await w.json("carol", ["follow", ALICE])).toEqual({ target: ALICE, state: "pending" });
    await until(
      () => w.json<{ count: number; jids: string[] }>("alice", ["pending"]),
      (p) => p.jids.includes(`carol@${C}`),
    );
    const out = await w.json<{ ok: boolean; message: string }>("alice", ["deny", `carol@${C}`]);
    expect(out.ok).toBe(true);
    const rows = await until(
      () => w.json<{ target: string }[]>("carol", ["following"]),
      (r) => r.length === 0,
    );
    expect(rows).toEqual([]);
    expect(await w.json("alice", ["pending"])).toEqual({ count: 0, jids: [] });
  });

  it("approve a JID that never asked: exit 5, the service's text", async () => {
    failed(await w.run("alice", ["approve", `nobody@${C}`]), 5);
  });

  it("unlock --json: open again", async () => {
    const out = await w.json<{ ok: boolean; message: string }>("alice", ["unlock"]);
    expect(out).toMatchObject({ ok: true });
    expect(out.message).toMatch(/open/);
  });

  it("follow of a PEP node that does not exist: exit 5, no microblog", async () => {
    const target = "xmpp:nobody@localhost?;node=urn%3Axmpp%3Amicroblog%3A0";
    const res = await w.run("bob", ["follow", target], { timeoutMs: 45_000 });
    expect(failed(res, 5)).toMatch(/has no microblog|does not let you follow/);
  }, 60_000);

  // ───────────────────────────── block ─────────────────────────────

  it("block and unblock: ok, and text mode says how to undo", async () => {
    const res = ok(await w.run("carol", ["block", BOB]));
    expect(res.stdout).toContain(`warble unblock ${BOB}`);
    expect(await w.json("carol", ["unblock", BOB])).toMatchObject({ ok: true });
  });

  // ───────────────────────────── delete ─────────────────────────────

  it("delete SHORT and delete ID --json: the items leave alice's node", async () => {
    const one = alicePosts.find((p) => p.text === "one");
    const two = alicePosts.find((p) => p.text === "two");
    ok(await w.run("alice", ["delete", two?.short as string]));
    expect(await w.json("alice", ["delete", one?.id as string])).toEqual({ deleted: one?.id });
    const left = await w.json<CliPost[]>("carol", ["show", ALICE]);
    expect(left.map((p) => p.text)).toEqual(
      alicePosts.map((p) => p.text).filter((t) => t !== "one" && t !== "two"),
    );
  });

  // ───────────────────────────── errors ─────────────────────────────

  it("a wrong password: exit 3, the server refused the password", async () => {
    const res = await runCli(["timeline"], {
      env: { ...w.as("alice").env, WARBLE_PASSWORD: "not-the-password" },
    });
    expect(failed(res, 3)).toBe(`warble: the server refused the password for ${ALICE}`);
  });

  it("an unreachable server (a closed port): exit 4 within the timeout", async () => {
    const port = await freePort();
    const res = await w.run("alice", ["post", "nobody hears this"], {
      env: { WARBLE_XMPP_SERVICE: `xmpp://127.0.0.1:${port}` },
      timeoutMs: 20_000,
    });
    expect(failed(res, 4)).toMatch(
      new RegExp(`^warble: cannot reach 127\\.0\\.0\\.1:${port}: \\S`),
    );
    expect(res.ms).toBeLessThan(12_000);
  });

  it("a server that accepts and never answers: exit 4 after the 10 s timeout, no hang", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const { port } = silent.address() as AddressInfo;
    try {
      const res = await w.run("alice", ["post", "nobody answers"], {
        env: { WARBLE_XMPP_SERVICE: `xmpp://127.0.0.1:${port}` },
        timeoutMs: 30_000,
      });
      expect(failed(res, 4)).toMatch(
        new RegExp(`^warble: cannot reach 127\\.0\\.0\\.1:${port}: \\S`),
      );
      expect(res.ms).toBeGreaterThan(9_000);
      expect(res.ms).toBeLessThan(16_000);
    } finally {
      silent.close();
    }
  }, 40_000);

  it("a config file others can read: exit 2, says chmod 600", async () => {
    const home = cliHome();
    const dir = join(home, ".config", "warble");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ accounts: { a: { jid: ALICE, password: "alice-pw" } } }));
    chmodSync(file, 0o644);
    const res = await runCli(["timeline"], { home });
    expect(failed(res, 2)).toBe(
      `warble: ${file} can be read by other users; run: chmod 600 ${file}`,
    );
  });

  it("a password file others can read: exit 2, says chmod 600", async () => {
    const file = join(tempDir("cli-pw"), "password");
    writeFileSync(file, "alice-pw\n");
    chmodSync(file, 0o640);
    const env = { ...w.as("alice").env };
    delete env.WARBLE_PASSWORD;
    const res = await runCli(["timeline", "--password-file", file], { env });
    expect(failed(res, 2)).toBe(
      `warble: ${file} can be read by other users; run: chmod 600 ${file}`,
    );
  });

  // ───────────────────────────── accounts ─────────────────────────────

  describe("a config file with two named accounts", () => {
    let home = "";
    let file = "";
    const service = () => `xmpp://127.0.0.1:${w.server.ports.c2s}`;
    const writeConfig = (config: object) => {
      writeFileSync(file, JSON.stringify(config));
      chmodSync(file, 0o600);
    };
    const accounts = () => {
      const pwFile = join(home, "bob.pw");
      writeFileSync(pwFile, "bob-pw\n");
      chmodSync(pwFile, 0o600);
      return {
        a: { jid: ALICE, password: "alice-pw", service: service(), component: C },
        b: { jid: BOB, passwordFile: pwFile, service: service(), component: C },
      };
    };
    const postAs = (args: string[], env: Record<string, string> = {}) =>
      runCli(["post", ...args, "--json"], { home, env });
    const serviceOf = (res: CliResult) => {
      ok(res);
      return (JSON.parse(res.stdout) as Posted).uri.split("?")[0];
    };

    beforeAll(() => {
      home = cliHome();
      mkdirSync(join(home, ".config", "warble"), { recursive: true, mode: 0o700 });
      file = join(home, ".config", "warble", "config.json");
    });

    it("the default account, and --account NAME (its password from passwordFile)", async () => {
      writeConfig({ default: "a", accounts: accounts() });
      expect(serviceOf(await postAs(["by the default account"]))).toBe(`xmpp:alice@${C}`);
      expect(serviceOf(await postAs(["--account", "b", "by account b"]))).toBe(`xmpp:bob@${C}`);
    });

    it("two accounts and no default: --account is needed (exit 2); an unknown one is exit 2", async () => {
      writeConfig({ accounts: accounts() });
      failed(await postAs(["which account?"]), 2);
      failed(await postAs(["--account", "nosuch", "no such account"]), 2);
    });

    it("the only account needs no --account", async () => {
      writeConfig({ accounts: { b: accounts().b } });
      expect(serviceOf(await postAs(["by the only account"]))).toBe(`xmpp:bob@${C}`);
    });

    it("the environment beats the file; flags beat the environment", async () => {
      // A setting of the environment beats the same one of the file's account.
      const { a, b } = accounts();
      const closed = `xmpp://127.0.0.1:${await freePort()}`;
      writeConfig({ default: "a", accounts: { a: { ...a, service: closed }, b } });
      const env = { WARBLE_XMPP_SERVICE: service() };
      expect(serviceOf(await postAs(["env service beats the file"], env))).toBe(`xmpp:alice@${C}`);
      // An account of the environment (carol) is not mixed with the file's default (alice).
      writeConfig({ default: "a", accounts: { a, b } });
      const carol = {
        WARBLE_JID: CAROL,
        WARBLE_PASSWORD: "carol-pw",
        WARBLE_XMPP_SERVICE: service(),
        WARBLE_COMPONENT: C,
      };
      expect(serviceOf(await postAs(["env beats the file"], carol))).toBe(`xmpp:carol@${C}`);
      // Flags beat the environment.
      const pwFile = join(home, "bob.pw");
      const flags = ["--jid", BOB, "--password-file", pwFile, "flags beat env"];
      expect(serviceOf(await postAs(flags, carol))).toBe(`xmpp:bob@${C}`);
    });
  });

  // ───────────────────────────── disco ─────────────────────────────

  it("no --component: the component is found by disco on the user's domain", async () => {
    const out = await w.json<Posted>("alice", ["post", "found by disco"], {
      component: false,
    });
    expect(out.uri.startsWith(`xmpp:alice@${C}?`)).toBe(true);
    const posts = await w.json<CliPost[]>("carol", ["show", ALICE], { component: false });
    expect(posts.map((p) => p.text)).toContain("found by disco");
  });
});
