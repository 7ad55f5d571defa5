/**
 * Hostile input at the new handlers: XEP-0313 queries at u@C, pubsub events pushed at u@C, and
 * the follow command. Each refusal is a defined error (never internal-server-error), nothing
 * is stored, and the component keeps its stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import { NS_MAM, NS_PING, NS_PUBSUB_EVENT } from "../../schemas/src/ns.js";
import { runCommand } from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  C,
  entryXml,
  expectError,
  publishPost,
  stanza,
  startWorld,
  svc,
  type World,
} from "../harness/pubsub.js";
import { SERVER_KINDS } from "../harness/servers.js";
import { mamAll, mamPage } from "../harness/timeline.js";

const form = (fields: string) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_MAM}</value></field>${fields}</x>`;
const field = (v: string, value: string) => `<field var='${v}'><value>${value}</value></field>`;

describe.each(SERVER_KINDS)("hostile input at timelines on %s", (kind) => {
  let w: World;
  const c = (u: string) => w.clients[u] as TestClient;
  const mam = (client: TestClient, inner: string, to = svc("alice")) =>
    client.iq(stanza(`<iq type='set' to='${to}'><query xmlns='${NS_MAM}'>${inner}</query></iq>`));

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "mallory"]);
    await publishPost(c("alice"), "alice's only post");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  const alive = async () => {
    const pong = await c("mallory").iq(
      stanza(`<iq type='get' to='${C}'><ping xmlns='${NS_PING}'/></iq>`),
    );
    expect(pong.attrs.type).toBe("result");
    expect(w.component?.output() ?? "").not.toMatch(/"level":50|disconnected/);
  };

  it("MAM: anyone but the owner is forbidden; bad queries get defined errors", async () => {
    expectError(await mam(c("mallory"), ""), { type: "auth", condition: "forbidden" });
    const cases: [string, { type: string; condition: string }][] = [
      [form(field("start", "yesterday")), { type: "modify", condition: "bad-request" }],
      [form(field("start", "2026-13-01T00:00:00Z")), { type: "modify", condition: "bad-request" }],
      [form(field("before-id", "1")), { type: "cancel", condition: "feature-not-implemented" }],
      [form(field("with", "a@@b")), { type: "modify", condition: "jid-malformed" }],
      [
        "<set xmlns='http://jabber.org/protocol/rsm'><after>abc</after></set>",
        { type: "cancel", condition: "item-not-found" },
      ],
      [
        "<set xmlns='http://jabber.org/protocol/rsm'><after>99999999999999999999</after></set>",
        { type: "cancel", condition: "item-not-found" },
      ],
      [
        "<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>",
        { type: "modify", condition: "bad-request" },
      ],
      ["<x xmlns='jabber:x:data' type='form'/>", { type: "modify", condition: "bad-request" }],
    ];
    for (const [inner, expected] of cases) {
      const reply = await mam(c("alice"), inner);
      expect(reply.attrs.type, inner).toBe("error");
      const err = parseStanzaError(reply);
      expect({ type: err.type, condition: err.condition }, inner).toEqual(expected);
    }
    // A huge max is capped, not refused.
    const big = await mamPage(c("alice"), svc("alice"), { max: 1_000_000 });
    expect(big.reply.attrs.type).toBe("result");
    expect(big.complete).toBe(true);
    await alive();
  });

  it("events pushed at u@C by someone alice does not follow are dropped, whatever they hold", async () => {
    const events = [
      `<items node='urn:xmpp:microblog:0'><item id='x1'>${entryXml("spam")}</item></items>`,
      `<items node='urn:xmpp:microblog:0'><item id='x2'><not-an-entry xmlns='urn:x'/></item></items>`,
      "<items node='urn:xmpp:microblog:0'><item id='x3'/></items>",
      "<items node='urn:xmpp:microblog:0'><retract id='anything'/></items>",
      "<purge node='urn:xmpp:microblog:0'/>",
      "<delete node='urn:xmpp:microblog:0'/>",
      `<subscription node='urn:xmpp:microblog:0' jid='${svc("alice")}' subscription='subscribed'/>`,
      "<items/>",
      "<bogus node='n'/>",
    ];
    for (const [i, ev] of events.entries()) {
      await c("mallory").send(
        stanza(
          `<message to='${svc("alice")}' id='ev${i}'><event xmlns='${NS_PUBSUB_EVENT}'>${ev}</event></message>`,
        ),
      );
    }
    await alive();
    const posts = await mamAll(c("alice"), svc("alice"));
    expect(posts.map((p) => p.body)).toEqual(["alice@localhost: alice's only post"]);
    const following = await runCommand(c("alice"), "following");
    expect(following.reply.attrs.type).toBe("result");
    expect(following.reply.toString()).not.toContain("mallory");
  });

  it("follow with hostile input: one readable refusal each, nothing followed", async () => {
    for (const target of [
      "a@@b",
      "x".repeat(3000),
      "xmpp:",
      "xmpp:?;node=",
      "xmpp:%ZZ@localhost",
      " ",
    ]) {
      const out = await runCommand(c("mallory"), "follow", { jid: target });
      expect(out.reply.attrs.type, target.slice(0, 40)).toBe("result");
      const note = out.reply.getChild("command")?.getChild("note");
      expect(note?.attrs.type, target.slice(0, 40)).toBe("error");
      expect(out.reply.toString()).not.toMatch(/at \w+ \(|internal-server-error/);
    }
    const following = await runCommand(c("mallory"), "following");
    expect(following.fields.count ?? ["0"]).toEqual(["0"]);
    await alive();
  });
});
