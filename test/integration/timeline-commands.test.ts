/**
 * The ad-hoc commands of following and the home timeline at C (XEP-0050), against real Prosody
 * and ejabberd: alice and bob on one server. bob follows alice with `follow`; her posts (by
 * `post` and by a pubsub publish) are relayed to him as chat messages from bob@C and kept in
 * his home timeline, read by MAM; `following` lists them; `settings` turns the relay off and
 * locks alice's account (then a follow waits for approval); `unfollow` and `block` end the
 * follow and take her posts out of his timeline. Refusals end the command with an error note;
 * a sender who is not a local user may not run the commands at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DataForm, parseDataForm } from "../../schemas/src/data-form.js";
import { parseStanzaError } from "../../schemas/src/errors.js";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { NS_COMMANDS, NS_DATA_FORMS, NS_FORWARD, NS_MAM } from "../../schemas/src/ns.js";
import { shortId } from "../../schemas/src/short-id.js";
import type { Element } from "../../schemas/src/xml.js";
import { approvalFormFor, commandIq, runCommand } from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  C,
  escapeXml,
  forget,
  getItems,
  itemsOf,
  NODE,
  publishPost,
  stanza,
  svc,
  titleOf,
} from "../harness/pubsub.js";
import { SERVER_KINDS } from "../harness/servers.js";
import { STRANGER, type StrangerWorld, startStrangerWorld } from "../harness/stranger.js";

const ALICE = "alice@localhost";

interface Outcome {
  reply: Element;
  status?: string;
  sessionid?: string;
  note?: string;
  noteType?: string;
  form?: DataForm;
}

function outcomeOf(reply: Element): Outcome {
  const cmd = reply.getChild("command", NS_COMMANDS);
  const note = cmd?.getChild("note");
  const x = cmd?.getChild("x", NS_DATA_FORMS);
  const out: Outcome = { reply };
  if (cmd?.attrs.status) out.status = cmd.attrs.status;
  if (cmd?.attrs.sessionid) out.sessionid = cmd.attrs.sessionid;
  if (note) Object.assign(out, { note: note.getText(), noteType: note.attrs.type ?? "info" });
  if (x) out.form = parseDataForm(x);
  return out;
}

type Values = Record<string, string | string[]>;

function submitted(values: Values): string {
  const fields = Object.entries(values)
    .map(([v, value]) => {
      const list = Array.isArray(value) ? value : [value];
      return `<field var='${v}'>${list.map((x) => `<value>${escapeXml(x)}</value>`).join("")}</field>`;
    })
    .join("");
  return `<x xmlns='${NS_DATA_FORMS}' type='submit'>${fields}</x>`;
}

/** Stage one: execute; the form (status executing). */
async function execute(client: TestClient, node: string): Promise<Outcome> {
  const out = outcomeOf(await client.iq(commandIq(C, node)));
  expect(out.status, out.reply.toString()).toBe(
    out.form?.type === "form" ? "executing" : "completed",
  );
  return out;
}

/** Stage two: submit the form of `first` with `values`. */
async function submit(client: TestClient, first: Outcome, values: Values, timeoutMs = 10_000) {
  const attrs = `sessionid='${first.sessionid}' action='complete'`;
  const node = first.reply.getChild("command", NS_COMMANDS)?.attrs.node as string;
  const reply = await client.iq(commandIq(C, node, attrs, submitted(values)), timeoutMs);
  const out = outcomeOf(reply);
  expect(out.status, reply.toString()).toBe("completed");
  return out;
}

/** Both stages. */
async function run(client: TestClient, node: string, values: Values = {}, timeoutMs = 10_000) {
  const first = await execute(client, node);
  return first.status === "executing" ? submit(client, first, values, timeoutMs) : first;
}

const fieldOf = (form: DataForm | undefined, name: string) =>
  form?.fields.find((f) => f.var === name);
const firstValue = (form: DataForm | undefined, name: string) => fieldOf(form, name)?.values[0];

/** `following` as [address, state] rows of its result table. */
async function following(client: TestClient): Promise<string[][]> {
  const out = await run(client, "following");
  expect(out.form?.reported?.map((f) => [f.var, f.label])).toEqual([
    ["jid", "Address"],
    ["state", "State"],
  ]);
  const rows = (out.form?.items ?? []).map((row) =>
    ["jid", "state"].map((v) => firstValue({ type: "result", fields: row }, v) ?? ""),
  );
  expect(firstValue(out.form, "count")).toBe(String(rows.length));
  return rows;
}

async function post(client: TestClient, text: string): Promise<string> {
  const out = await run(client, "post", { text: text.split("\n") });
  expect(out.noteType, out.note).toBe("info");
  const id = firstValue(out.form, "item") ?? "";
  expect(id).toBeTruthy();
  return id;
}

/** A relayed post: chat from bob@C with <relayed/> naming the item. */
const relayOf = (to: string, item: string) => (el: Element) =>
  el.name === "message" &&
  el.attrs.type === "chat" &&
  (el.attrs.from as string | undefined)?.split("/")[0] === svc(to) &&
  el.getChild("relayed", NS_WARBLE)?.attrs.item === item;

let queries = 0;

/** The whole home timeline of `client` by one MAM query: [service, item id, body] oldest first. */
async function timeline(client: TestClient): Promise<string[][]> {
  const queryid = `mam${++queries}`;
  const user = client.jid.split("@")[0] ?? "";
  const reply = await client.iq(
    stanza(`<iq type='set' to='${svc(user)}'><query xmlns='${NS_MAM}' queryid='${queryid}'/></iq>`),
  );
  expect(reply.attrs.type, reply.toString()).toBe("result");
  expect(reply.getChild("fin", NS_MAM)?.attrs.complete).toBe("true");
  return client.received
    .filter((m) => m.getChild("result", NS_MAM)?.attrs.queryid === queryid)
    .map((m) => {
      const inner = m
        .getChild("result", NS_MAM)
        ?.getChild("forwarded", NS_FORWARD)
        ?.getChild("message");
      const item = inner?.getChild("event")?.getChild("items")?.getChild("item");
      return [inner?.attrs.from ?? "", item?.attrs.id ?? "", inner?.getChildText("body") ?? ""];
    });
}

/** Ask the timeline until `pred` holds (each try is a real MAM round trip). */
async function timelineUntil(client: TestClient, pred: (rows: string[][]) => boolean) {
  for (let i = 0; i < 50; i++) {
    const rows = await timeline(client);
    if (pred(rows)) return rows;
  }
  throw new Error(`the timeline never matched: ${JSON.stringify(await timeline(client))}`);
}

describe.each(SERVER_KINDS)("timeline commands on %s", (kind) => {
  let w: StrangerWorld;
  const alice = () => w.clients.alice as TestClient;
  const bob = () => w.clients.bob as TestClient;
  /** alice's posts in bob's timeline: [item id, text]. */
  const alicePosts: [string, string][] = [];
  let bobsOwn = "";

  beforeAll(async () => {
    w = await startStrangerWorld(kind, ["alice", "bob"]);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("post: a form with a title, instructions and a text-multi field; the answer names the item", async () => {
    const first = await execute(alice(), "post");
    expect(first.form?.title).toBe("Post to your microblog");
    expect(first.form?.instructions?.[0]).toContain("500 characters");
    // Not required: a repost has no text of its own.
    expect(fieldOf(first.form, "text")).toMatchObject({ type: "text-multi", label: "Text" });
    expect(fieldOf(first.form, "repost-of")).toMatchObject({ type: "text-single" });
    const out = await submit(alice(), first, { text: ["hello from the", "post command"] });
    const id = firstValue(out.form, "item") ?? "";
    const uri = `xmpp:${svc("alice")}?;node=${encodeURIComponent(NODE)};item=${encodeURIComponent(id)}`;
    expect(firstValue(out.form, "uri")).toBe(uri);
    expect(out.note).toBe(`Posted as item ${id}: ${uri}`);
    // Stored as a pubsub publish would be: completed with author, id and dates.
    const item = itemsOf(await getItems(alice(), "alice", `<item id='${id}'/>`))[0] as Element;
    expect(titleOf(item)).toBe("hello from the\npost command");
    const entry = item.getChildren("entry")[0] as Element;
    expect(entry.getChild("author")?.getChildText("uri")).toBe(`xmpp:${ALICE}`);
    expect(entry.getChildText("id")).toMatch(/^tag:/);
    alicePosts.push([id, "hello from the\npost command"]);
  });

  it("post: a refusal (too long, empty) ends the command with an error note", async () => {
    const long = await run(alice(), "post", { text: "x".repeat(501) });
    expect([long.noteType, long.note]).toEqual([
      "error",
      "The post is 501 characters long; the limit is 500.",
    ]);
    const empty = await run(alice(), "post", { text: "" });
    expect([empty.noteType, empty.note]).toEqual(["error", "Write something to post."]);
  });

  it("follow: bob follows alice@localhost and is subscribed; her earlier post enters his timeline quietly", async () => {
    const first = await execute(bob(), "follow");
    expect(first.form?.title).toBe("Follow a microblog");
    expect(first.form?.instructions?.[0]).toContain("xmpp: URI");
    expect(fieldOf(first.form, "jid")).toMatchObject({
      type: "text-single",
      label: "Whom to follow",
    });
    const out = await submit(bob(), first, { jid: ALICE });
    // Her post comes by the §6.1.7 last-item notification or by the catch-up fetch, whichever
    // is first: the note counts what the fetch added.
    expect(out.noteType).toBe("info");
    expect(out.note).toMatch(
      /^You now follow alice@localhost\.( 1 of their posts entered your timeline\.)?$/,
    );
    expect(firstValue(out.form, "state")).toBe("subscribed");
    const [id] = alicePosts[0] as [string, string];
    // The first fill of a follow is old news: in the timeline, not relayed as chat.
    const rows = await timelineUntil(bob(), (r) => r.some((row) => row[1] === id));
    expect(rows.find((row) => row[1] === id)?.[2]).toBe(`${ALICE}: hello from the\npost command`);
    expect(bob().received.filter(relayOf("bob", id))).toEqual([]);
    expect((await run(bob(), "follow", { jid: ALICE })).note).toBe(
      "You already follow alice@localhost.",
    );
  });

  it("alice's posts by `post` and by pubsub reach bob as chat from bob@C with <relayed/>", async () => {
    const byCommand = await post(alice(), "second, by the command");
    const byPubsub = await publishPost(alice(), "third, by pubsub");
    alicePosts.push([byCommand, "second, by the command"], [byPubsub, "third, by pubsub"]);
    for (const [id, text] of alicePosts.slice(1)) {
      const msg = await bob().waitFor(relayOf("bob", id));
      expect(msg.attrs.to).toMatch(/^bob@localhost/);
      const short = shortId(svc("alice"), "urn:xmpp:microblog:0", id);
      expect(msg.getChildText("body")).toBe(`${ALICE}: ${text} [${short}]`);
      expect(msg.getChild("relayed", NS_WARBLE)?.attrs).toEqual({
        xmlns: NS_WARBLE,
        service: svc("alice"),
        node: NODE,
        item: id,
      });
    }
  });

  it("following: a table of address and state", async () => {
    expect(await following(bob())).toEqual([[ALICE, "subscribed"]]);
    expect(await following(alice())).toEqual([]);
  });

  it("MAM at bob@C: alice's posts and bob's own, complete", async () => {
    bobsOwn = await publishPost(bob(), "bob's own post");
    const rows = await timeline(bob());
    const expected = [
      ...alicePosts.map(([id, text]) => [svc("alice"), id, `${ALICE}: ${text}`]),
      [svc("bob"), bobsOwn, "bob@localhost: bob's own post"],
    ];
    expect(rows).toHaveLength(expected.length);
    expect(rows).toEqual(expect.arrayContaining(expected));
    // Nobody else reads bob's timeline.
    const peek = await alice().iq(
      stanza(`<iq type='set' to='${svc("bob")}'><query xmlns='${NS_MAM}'/></iq>`),
    );
    expect(peek.attrs.type).toBe("error");
  });

  it("settings: current values preselected; relay off → the next post is kept but not relayed", async () => {
    const first = await execute(bob(), "settings");
    expect(first.form?.title).toBe("Account settings");
    const access = fieldOf(first.form, "access_model");
    expect(access).toMatchObject({
      type: "list-single",
      label: "Who may follow you",
      values: ["open"],
    });
    expect(access?.options?.map((o) => o.value)).toEqual(["open", "authorize", "whitelist"]);
    expect(fieldOf(first.form, "relay")).toMatchObject({ type: "boolean", values: ["1"] });
    const off = await submit(bob(), first, { access_model: "open", relay: "0" });
    expect(off.note).toBe("Who may follow you: open. Relay: off.");
    expect(firstValue((await execute(bob(), "settings")).form, "relay")).toBe("0");

    const quiet = await publishPost(alice(), "kept, not relayed");
    await timelineUntil(bob(), (rows) => rows.some((r) => r[1] === quiet));
    expect((await run(bob(), "settings", { relay: "1" })).note).toBe(
      "Who may follow you: open. Relay: on.",
    );
    const loud = await publishPost(alice(), "relayed again");
    alicePosts.push([quiet, "kept, not relayed"], [loud, "relayed again"]);
    // Relays leave in timeline order: had the quiet one been relayed, it came first.
    await bob().waitFor(relayOf("bob", loud));
    expect(bob().received.filter(relayOf("bob", quiet))).toEqual([]);
  });

  it("unfollow: a list of the follows; alice's posts leave bob's timeline", async () => {
    const first = await execute(bob(), "unfollow");
    expect(first.form?.title).toBe("Stop following a microblog");
    const list = fieldOf(first.form, "following");
    expect(list?.type).toBe("list-single");
    expect(list?.options).toEqual([{ value: ALICE, label: "alice@localhost (subscribed)" }]);
    expect(fieldOf(first.form, "jid")?.type).toBe("text-single");
    const out = await submit(bob(), first, { following: ALICE });
    expect(out.note).toBe(
      `You no longer follow alice@localhost; ${alicePosts.length} posts left your timeline.`,
    );
    expect(await timeline(bob())).toEqual([[svc("bob"), bobsOwn, "bob@localhost: bob's own post"]]);
    expect(await following(bob())).toEqual([]);
    const again = await run(bob(), "unfollow", { jid: ALICE });
    expect([again.noteType, again.note]).toEqual(["error", "you do not follow alice@localhost"]);
  });

  it("a locked account: bob's follow waits for alice's approval, then he is subscribed", async () => {
    const locked = await run(alice(), "settings", { access_model: "authorize", relay: "1" });
    expect(locked.note).toBe("Who may follow you: authorize. Relay: on.");
    forget(alice(), bob());
    const out = await run(bob(), "follow", { jid: ALICE });
    expect([out.noteType, out.note]).toEqual([
      "info",
      "Your request to follow alice@localhost is waiting for approval.",
    ]);
    expect(await following(bob())).toEqual([[ALICE, "pending"]]);
    await alice().waitFor(approvalFormFor("alice", svc("bob")));
    const approved = await runCommand(alice(), "approve", { jid: svc("bob") });
    expect(approved.status).toBe("completed");
    // The approval reaches bob@C; alice's posts are fetched into his timeline (quietly).
    const [last] = alicePosts[alicePosts.length - 1] as [string, string];
    await timelineUntil(bob(), (r) => r.some((row) => row[1] === last));
    expect(await following(bob())).toEqual([[ALICE, "subscribed"]]);
  });

  it("follow of what has no microblog: one clear refusal each, nothing followed", async () => {
    const refusals: [string, RegExp][] = [
      // Every user of a Warble's domain has a microblog (posts or not); a PEP node that is not
      // there is nobody's.
      [
        "xmpp:nobody@localhost?;node=urn%3Axmpp%3Amicroblog%3A0",
        /^xmpp:nobody@localhost\?;node=urn%3Axmpp%3Amicroblog%3A0 (has no microblog|does not let you follow)/,
      ],
      [
        "nobody@some-unknown-domain.localhost",
        /^some-unknown-domain\.localhost .*try again later$/,
      ],
      ["not a jid", /is not a JID/],
    ];
    for (const [target, text] of refusals) {
      const out = await run(bob(), "follow", { jid: target }, 40_000);
      expect(out.noteType, target).toBe("error");
      expect(out.note, target).toMatch(text);
      expect(out.reply.toString()).not.toMatch(/at \w+ \(|Error:/);
    }
    expect(await following(bob())).toEqual([[ALICE, "subscribed"]]);
  }, 120_000);

  it("a sender who is not a local user may not run follow (nor see the commands)", async () => {
    const executed = await w.stranger.iq(commandIq(C, "follow"));
    expect(parseStanzaError(executed)).toMatchObject({ type: "auth", condition: "forbidden" });
    const direct = await w.stranger.iq(
      commandIq(C, "follow", "action='execute'", submitted({ jid: ALICE })),
    );
    expect(parseStanzaError(direct)).toMatchObject({ type: "auth", condition: "forbidden" });
    const items = await w.stranger.iq(
      stanza(
        `<iq type='get' to='${C}'><query xmlns='http://jabber.org/protocol/disco#items' node='${NS_COMMANDS}'/></iq>`,
      ),
    );
    const nodes = items
      .getChild("query")
      ?.getChildren("item")
      .map((i) => i.attrs.node);
    expect(nodes).not.toContain("follow");
    expect(STRANGER).not.toBe("localhost");
  });

  it("block: bob blocks alice and no longer follows her; her posts leave his timeline", async () => {
    const out = await runCommand(bob(), "block", { jid: ALICE });
    expect(out.note).toBe("alice@localhost is blocked. You no longer follow alice@localhost.");
    expect(await following(bob())).toEqual([]);
    expect(await timeline(bob())).toEqual([[svc("bob"), bobsOwn, "bob@localhost: bob's own post"]]);
  });
});
