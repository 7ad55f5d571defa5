/**
 * Hostile input: one test per finding, each with the stanza that showed the defect. After each
 * test the component must still answer a ping at C, run, and never have lost its stream.
 */
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import { NS_COMMANDS, NS_DATA_FORMS, NS_DISCO_ITEMS, NS_PING } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  type AttackWorld,
  home,
  presenceFrom,
  rogue,
  startAttackWorld,
} from "../harness/attacks.js";
import {
  commandIq,
  formValues,
  ownSubscriptions,
  runCommand,
  subscribeIq,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import {
  C,
  entryXml,
  expectError,
  expectResult,
  getItems,
  idsOf,
  itemsOf,
  NODE,
  NS_ATOM,
  NS_PUBSUB,
  NS_PUBSUB_OWNER,
  ownerIq,
  publishIq,
  publishPost,
  pubsubIq,
  stanza,
  startWorld,
  svc,
  titleOf,
  type World,
} from "../harness/pubsub.js";
import { SERVER_KINDS } from "../harness/servers.js";

const BAD_PAYLOAD = { type: "modify", condition: "bad-request", pubsub: "invalid-payload" };
const NOT_FOUND = { type: "cancel", condition: "item-not-found" };
const JID_MALFORMED = { type: "modify", condition: "jid-malformed" };
const BAD_JIDS = ["a@@b", "@", `${"x".repeat(3000)}@example.org`];
const STREAM_LOST = /retrying|disconnected/i;

/** An Atom entry whose title is `<title type='html'>` with this (already escaped) XML text. */
const htmlTitleEntry = (titleXml: string) =>
  `<entry xmlns='${NS_ATOM}'><title type='html'>${titleXml}</title></entry>`;

/** `<a xmlns='urn:example:deep'><a>…</a></a>`, `depth` elements deep. */
const nested = (depth: number) =>
  `<a xmlns='urn:example:deep'>${"<a>".repeat(depth - 1)}${"</a>".repeat(depth)}`;

/** Whether text holds a character XML 1.0 forbids (controls but tab/LF/CR, U+FFFE, U+FFFF). */
const hasIllegalXmlChar = (text: string) =>
  [...text].some((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return (c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) || c === 0xfffe || c === 0xffff;
  });

/** Send raw XML (too deep for the client's serializer) and wait for the IQ reply with `id`. */
async function rawIq(client: TestClient, id: string, text: string, ms = 10_000) {
  await client.xmpp.write(text);
  return client
    .waitFor((el) => el.name === "iq" && el.attrs.id === id, ms)
    .catch(() => {
      throw new Error(`no reply to the IQ ${id} within ${ms} ms`);
    });
}

function ping(client: TestClient): Promise<Element> {
  return client.iq(stanza(`<iq type='get' to='${C}'><ping xmlns='${NS_PING}'/></iq>`), 5_000);
}

function discoItems(client: TestClient, to: string): Promise<Element> {
  return client.iq(stanza(`<iq type='get' to='${to}'><query xmlns='${NS_DISCO_ITEMS}'/></iq>`));
}

/** The node names disco#items lists at an address. */
async function discoNodes(client: TestClient, to: string): Promise<string[]> {
  const reply = await discoItems(client, to);
  expectResult(reply);
  return reply
    .getChild("query", NS_DISCO_ITEMS)!
    .getChildren("item")
    .flatMap((i) => (i.attrs.node ? [i.attrs.node as string] : []));
}

/**
 * After a test: the component runs, answers a ping, and has not lost its stream since `offset`
 * of its output. A dead component is restarted (`restart`, so later tests run) and reported.
 */
async function checkAlive(
  component: ComponentProcess,
  offset: number,
  pinger: TestClient,
  restart?: () => Promise<void>,
): Promise<void> {
  const problems: string[] = [];
  const exited = component.proc.exitCode ?? component.proc.signalCode;
  if (exited !== null) problems.push(`the component exited (${exited})`);
  else {
    const reply = await ping(pinger).catch((err: Error) => err.message);
    if (typeof reply === "string") problems.push(`no ping reply: ${reply}`);
    else if (reply.attrs.type !== "result")
      problems.push(`ping answered ${reply.toString().slice(0, 300)}`);
  }
  const log = component.output().slice(offset);
  if (STREAM_LOST.test(log)) problems.push("the component lost its stream");
  if (problems.length === 0) return;
  if (exited !== null) await restart?.();
  throw new Error(`${problems.join("; ")}; component output:\n${log.slice(-3000)}`);
}

/** An error reply, checked without serializing it (a deep echo would overflow the stack). */
function expectShallowError(
  reply: Element,
  expected: { type: string; condition: string; pubsub?: string },
): void {
  expect(reply.attrs.type).toBe("error");
  const err = parseStanzaError(reply);
  expect({ type: err.type, condition: err.condition, pubsub: err.pubsubCondition }).toEqual({
    pubsub: undefined,
    ...expected,
  });
}

function startComponentOn(w: World): Promise<ComponentProcess> {
  const proc = spawnComponent(w.server.componentArgs(w.db), { WARBLE_SECRET: w.server.secret });
  return proc.waitForLine(/"msg":"ready"/).then(() => proc);
}

const USERS = ["alice", "bob", "carol", "pat", "olga", "dora", "sam", "eve", "pinger"] as const;

describe.each(SERVER_KINDS)("hostile input on %s", (kind) => {
  let w: World;
  let mark = { component: undefined as ComponentProcess | undefined, offset: 0 };
  const c = (user: (typeof USERS)[number]) => w.clients[user] as TestClient;
  const A = svc("alice");
  // ejabberd 23.01 itself goes down on a client stanza nested 4,000 deep (before the component
  // sees it); 2,000 is what it survives.
  const DEEP = kind === "ejabberd" ? [2_000] : [5_000, 20_000];

  /** Item ids at u@C, newest first (as bob reads them). */
  const ids = async (user: string) => idsOf(itemsOf(await getItems(c("bob"), user)));

  beforeAll(async () => {
    w = await startWorld(kind, USERS);
    for (const user of ["alice", "pat", "olga", "dora"] as const) {
      await publishPost(c(user), `${user}'s first post`);
    }
  });
  afterAll(async () => {
    await w?.dispose();
  });
  beforeEach(() => {
    mark = { component: w.component, offset: w.component.output().length };
  });
  afterEach(async () => {
    const offset = mark.component === w.component ? mark.offset : 0;
    await checkAlive(w.component, offset, c("pinger"), async () => {
      w.component = await startComponentOn(w);
    });
  });

  it("1. an html title holding &#1; or &#xFFFF;: bad-request + invalid-payload, nothing stored", async () => {
    const before = await ids("pat");
    for (const title of ["ctl &amp;#1; char", "&amp;#xFFFF;"]) {
      const reply = await c("pat").iq(publishIq(svc("pat"), htmlTitleEntry(title)));
      expectError(reply, BAD_PAYLOAD);
    }
    expect(await ids("pat")).toEqual(before);
  });

  it("1. a stored post with such a title (older Warble) goes out without cutting the stream", async () => {
    const olga = svc("olga");
    const [latest] = await ids("olga");
    expect(await w.component.stop()).toBe(0);
    const db = new Database(w.db);
    try {
      const row = db
        .prepare("SELECT payload FROM items WHERE service = ? AND item_id = ?")
        .get(olga, latest) as { payload: string };
      const payload = row.payload.replace(
        /<title[^>]*>[^<]*<\/title>/,
        "<title type='html'>ctl &amp;#1; char &amp;#xFFFF;</title>",
      );
      expect(payload).toContain("&amp;#1;");
      db.prepare(
        "INSERT INTO items (service, node, item_id, payload, publisher, created, updated) " +
          "SELECT service, node, 'legacy-ctl', ?, publisher, created, updated FROM items " +
          "WHERE service = ? AND item_id = ?",
      ).run(payload, olga, latest);
    } finally {
      db.close();
    }
    w.component = await startComponentOn(w);

    // bob adds olga@C to his roster: subscribed, then a presence whose status is that post.
    const bob = c("bob");
    expectResult(await bob.iq(stanza("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>")));
    await bob.send(stanza(`<presence type='subscribe' to='${olga}'/>`));
    const status = await bob.waitFor(presenceFrom("olga"), 10_000).catch(() => {
      throw new Error("no presence (status) from olga@C after bob's subscribe");
    });
    const text = status.getChildText("status") ?? "";
    expect(text).toMatch(/^ctl .*char/);
    expect(hasIllegalXmlChar(text)).toBe(false);
    const items = itemsOf(await getItems(bob, "olga"));
    expect(idsOf(items)[0]).toBe("legacy-ctl");
    expect(hasIllegalXmlChar(titleOf(items[0]!) ?? "")).toBe(false);
    // Ten probes in a row: each answered with the status, and a ping after each.
    for (let i = 0; i < 10; i++) {
      bob.received.length = 0;
      await bob.send(stanza(`<presence type='probe' to='${olga}'/>`));
      const answer = await bob.waitFor(presenceFrom("olga"), 5_000).catch(() => {
        throw new Error(`probe ${i + 1}: no presence from olga@C`);
      });
      expect(hasIllegalXmlChar(answer.getChildText("status") ?? "")).toBe(false);
      expectResult(await ping(c("pinger")));
    }
    expect(w.component.output()).not.toMatch(STREAM_LOST);
  });

  it(`2. an IQ whose payload is nested ${DEEP.join(" and ")} deep: policy-violation (modify)`, async () => {
    for (const depth of DEEP) {
      const id = `deep-${depth}`;
      const started = Date.now();
      const reply = await rawIq(
        c("eve"),
        id,
        `<iq type='get' to='${C}' id='${id}'>${nested(depth)}</iq>`,
      );
      expectShallowError(reply, { type: "modify", condition: "policy-violation" });
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it(`2. an entry with children nested ${DEEP[0]} deep: bad-request + invalid-payload, nothing stored`, async () => {
    const before = await ids("dora");
    const id = "deep-publish";
    const reply = await rawIq(
      c("dora"),
      id,
      `<iq type='set' to='${svc("dora")}' id='${id}'><pubsub xmlns='${NS_PUBSUB}'>` +
        `<publish node='${NODE}'><item><entry xmlns='${NS_ATOM}'><title>deep</title>` +
        `${nested(DEEP[0]!)}</entry></item></publish></pubsub></iq>`,
    );
    expectShallowError(reply, BAD_PAYLOAD);
    expect(await ids("dora")).toEqual(before);
  });

  it("3. &#x110000; or &#99999999999; in an html title: bad-request + invalid-payload", async () => {
    const before = await ids("pat");
    for (const title of ["&amp;#x110000;", "&amp;#99999999999;"]) {
      const reply = await c("pat").iq(publishIq(svc("pat"), htmlTitleEntry(title)));
      expectError(reply, BAD_PAYLOAD);
    }
    expect(await ids("pat")).toEqual(before);
  });

  it("4. a publish to alice\\40localhost@C (her escaped JID): item-not-found, no node there", async () => {
    const escaped = `alice\\40localhost@${C}`;
    const reply = await c("alice").iq(
      publishIq(escaped, entryXml("posted to the escaped address")),
    );
    expectError(reply, NOT_FOUND);
    // No node there: disco#items lists none, or knows no such address.
    const disco = await discoItems(c("alice"), escaped);
    if (disco.attrs.type === "error") expectError(disco, NOT_FOUND);
    else expect(await discoNodes(c("alice"), escaped)).toEqual([]);
    expectError(
      await c("alice").iq(pubsubIq("get", escaped, `<items node='${NODE}'/>`)),
      NOT_FOUND,
    );
    const id = await publishPost(c("alice"), "at my own address");
    expect((await ids("alice"))[0]).toBe(id);
  });

  describe("5. malformed JIDs", () => {
    const affiliations = async () => {
      const reply = await c("alice").iq(ownerIq("get", A, `<affiliations node='${NODE}'/>`));
      expectResult(reply);
      return reply
        .getChild("pubsub", NS_PUBSUB_OWNER)!
        .getChild("affiliations")!
        .getChildren("affiliation")
        .map((a) => `${a.attrs.jid} ${a.attrs.affiliation}`)
        .sort();
    };

    it.each(BAD_JIDS.map((jid) => [jid.length > 40 ? "a 3,000-byte local part" : jid, jid]))(
      "§8.9 affiliations set with %s: jid-malformed, nothing changes",
      async (_, jid) => {
        const before = await affiliations();
        const reply = await c("alice").iq(
          ownerIq(
            "set",
            A,
            `<affiliations node='${NODE}'><affiliation jid='${jid}' affiliation='outcast'/></affiliations>`,
          ),
        );
        expectError(reply, JID_MALFORMED);
        expect(await affiliations()).toEqual(before);
      },
    );

    it.each(BAD_JIDS.map((jid) => [jid.length > 40 ? "a 3,000-byte local part" : jid, jid]))(
      "the block command with %s: jid-malformed, nothing stored",
      async (_, jid) => {
        const before = await affiliations();
        const out = await runCommand(c("alice"), "block", { jid });
        expect(out.reply.attrs.type, out.reply.toString().slice(0, 600)).toBe("error");
        expect(parseStanzaError(out.reply).condition).toBe("jid-malformed");
        expect(await affiliations()).toEqual(before);
      },
    );
  });

  it("6. a §8.2 configure with a form of type result: bad-request, configuration unchanged", async () => {
    const config = async () => {
      const reply = await c("alice").iq(ownerIq("get", A, `<configure node='${NODE}'/>`));
      expectResult(reply);
      const x = reply
        .getChild("pubsub", NS_PUBSUB_OWNER)!
        .getChild("configure")!
        .getChild("x", NS_DATA_FORMS)!;
      return formValues(x);
    };
    const form = (type: string, title: string) =>
      `<configure node='${NODE}'><x xmlns='${NS_DATA_FORMS}' type='${type}'>` +
      "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>" +
      `<field var='pubsub#title'><value>${title}</value></field></x></configure>`;
    const before = await config();
    const reply = await c("alice").iq(ownerIq("set", A, form("result", "hijacked by a result")));
    expectError(reply, { type: "modify", condition: "bad-request" });
    expect(await config()).toEqual(before);
    expectResult(await c("alice").iq(ownerIq("set", A, form("submit", "Alice's notes"))));
    expect((await config())["pubsub#title"]).toBe("Alice's notes");
  });

  it("7. followers of a user who never posted: count 0, and no node is created", async () => {
    const out = await runCommand(c("carol"), "followers");
    expectResult(out.reply);
    expect(out.status).toBe("completed");
    expect(out.fields.count).toEqual(["0"]);
    expect(await discoNodes(c("bob"), svc("carol"))).toEqual([]);
    expectError(await getItems(c("bob"), "carol"), NOT_FOUND);
  });

  it("9. 15 open block sessions: the 5 oldest expire (session-expired), the newest 10 complete", async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 15; i++) {
      const reply = await c("sam").iq(commandIq(C, "block"));
      expectResult(reply);
      const cmd = reply.getChild("command", NS_COMMANDS)!;
      expect(cmd.attrs.status).toBe("executing");
      sessions.push(cmd.attrs.sessionid as string);
    }
    const submit = (i: number) =>
      c("sam").iq(
        commandIq(
          C,
          "block",
          `sessionid='${sessions[i]}' action='complete'`,
          `<x xmlns='${NS_DATA_FORMS}' type='submit'><field var='jid'><value>spam${i}@example.org</value></field></x>`,
        ),
      );
    for (let i = 0; i < 5; i++) {
      const reply = await submit(i);
      expectError(reply, { type: "cancel", condition: "not-allowed" });
      expect(reply.getChild("error")?.getChild("session-expired", NS_COMMANDS)).toBeDefined();
    }
    for (let i = 5; i < 15; i++) {
      const reply = await submit(i);
      expectResult(reply);
      expect(reply.getChild("command", NS_COMMANDS)?.attrs.status).toBe("completed");
    }
  });
});

describe("8. per-requester limit over s2s (Prosody)", () => {
  const PER_REQUESTER = 5;
  const PER_DOMAIN = 15;
  const USERS_HERE = Array.from({ length: PER_DOMAIN + 1 }, (_, i) => `u${i + 1}`);
  const MALLORY = rogue("mallory");
  const RITA = rogue("rita");
  const ROSA = rogue("rosa");
  let w: AttackWorld;
  let offset = 0;

  beforeAll(async () => {
    w = await startAttackWorld([...USERS_HERE, "bob"], ["mallory", "rita", "rosa"], {
      limits: {
        maxRequestsPerDomainPerMinute: PER_DOMAIN,
        maxRequestsPerRequesterPerMinute: PER_REQUESTER,
      },
    });
    for (const u of USERS_HERE) await publishPost(w.c(home(u)), `${u}'s first post`);
  });
  afterAll(async () => {
    await w?.dispose();
  });
  beforeEach(() => {
    offset = w.component.output().length;
  });
  afterEach(async () => {
    await checkAlive(w.component, offset, w.c(home("bob")));
  });

  it("a remote requester gets policy-violation after its quota; its domain's budget is not spent", async () => {
    // One rogue account asks to follow 16 different users within the minute.
    const replies: Element[] = [];
    for (const u of USERS_HERE) replies.push(await subscribeIq(w.c(MALLORY), u));
    const outcomes = replies.map((r) =>
      r.attrs.type === "result" ? "result" : parseStanzaError(r).condition,
    );
    expect(outcomes).toEqual([
      ...Array<string>(PER_REQUESTER).fill("result"),
      ...Array<string>(USERS_HERE.length - PER_REQUESTER).fill("policy-violation"),
    ]);
    expect(await ownSubscriptions(w.c(MALLORY), USERS_HERE[PER_REQUESTER]!)).toEqual([]);
    // Another account of the same domain still may (16 requests would have spent 15).
    expectResult(await subscribeIq(w.c(RITA), USERS_HERE[0]!));
    // Local users have no such limit.
    for (const u of USERS_HERE) expectResult(await subscribeIq(w.c(home("bob")), u));
  });

  it("a flood of roster subscriptions is held by the same limits: a presence error, nothing kept", async () => {
    const rosa = w.c(ROSA);
    expectResult(await rosa.iq(stanza("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>")));
    const targets = USERS_HERE.slice(0, PER_REQUESTER + 2);
    for (const u of targets) {
      await rosa.send(stanza(`<presence type='subscribe' to='${svc(u)}'/>`));
    }
    const answered = (u: string) => (el: Element) =>
      el.name === "presence" &&
      String(el.attrs.from).split("/")[0] === svc(u) &&
      (el.attrs.type === "subscribed" || el.attrs.type === "error");
    const answers = [];
    for (const u of targets) answers.push(await rosa.waitFor(answered(u), 15_000));
    expect(answers.map((a) => a.attrs.type)).toEqual([
      ...Array<string>(PER_REQUESTER).fill("subscribed"),
      "error",
      "error",
    ]);
    const refused = parseStanzaError(answers[PER_REQUESTER] as Element);
    expect([refused.type, refused.condition]).toEqual(["wait", "policy-violation"]);
    expect(await ownSubscriptions(rosa, targets[PER_REQUESTER] as string)).toEqual([]);
  });
});
