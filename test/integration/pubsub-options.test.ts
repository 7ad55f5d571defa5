/**
 * XEP-0060 subscription options at u@C: §6.3 configure subscription options (retrieve, submit,
 * the §6.3.4 / §6.3.6 errors), §6.4 default subscription options, §6.3.7 subscribe and
 * configure, and what the options do: pubsub#deliver off stops notifications, pubsub#include_body
 * per subscriber. The requests are the XEP's examples with Warble's node and JIDs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DATA_FORMS, NS_DELAY, NS_DISCO_INFO } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  D,
  eventFrom,
  expectError,
  expectResult,
  forget,
  hasItem,
  NODE,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  publishPost,
  pubsubIq,
  sleep,
  stanza,
  startWorld,
  subscribe,
  svc,
  type World,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const SUBSCRIBE_OPTIONS = "http://jabber.org/protocol/pubsub#subscribe_options";
const FORM_TYPE = `<field var='FORM_TYPE' type='hidden'><value>${SUBSCRIBE_OPTIONS}</value></field>`;

/** The form of §6.3.5 "Subscriber submits completed options form", as the XEP writes it. */
const XEP_SUBMIT = `<x xmlns='jabber:x:data' type='submit'>
        ${FORM_TYPE}
        <field var='pubsub#deliver'><value>1</value></field>
        <field var='pubsub#digest'><value>0</value></field>
        <field var='pubsub#include_body'><value>false</value></field>
        <field var='pubsub#show-values'>
          <value>chat</value>
          <value>online</value>
          <value>away</value>
        </field>
      </x>`;

const submit = (fields: string) =>
  `<x xmlns='jabber:x:data' type='submit'>${FORM_TYPE}${fields}</x>`;
const field = (v: string, value: string) => `<field var='${v}'><value>${value}</value></field>`;

/** var → values of the data form in `holder`. */
function fieldsOf(holder: Element | undefined): Record<string, string[]> {
  const x = holder?.getChild("x", NS_DATA_FORMS);
  if (!x) throw new Error(`no form in ${holder?.toString().slice(0, 300)}`);
  return Object.fromEntries(
    x
      .getChildren("field")
      .map((f) => [f.attrs.var, f.getChildren("value").map((v) => v.getText())]),
  );
}

const BAD_OPTIONS = {
  type: "modify",
  condition: "bad-request",
  pubsub: "invalid-options",
} as const;

describe.each(WORLDS)("subscription options on %s with %s", (kind, store) => {
  let w: World;
  const alice = () => w.clients.alice!;
  const bob = () => w.clients.bob!;
  const carol = () => w.clients.carol!;
  const dave = () => w.clients.dave!;
  const erin = () => w.clients.erin!;
  const A = svc("alice");
  const optionsGet = (client: () => World["clients"][string], jid: string, attrs = "") =>
    client().iq(pubsubIq("get", A, `<options node='${NODE}' jid='${jid}'${attrs}/>`));
  const optionsSet = (client: () => World["clients"][string], jid: string, form: string) =>
    client().iq(pubsubIq("set", A, `<options node='${NODE}' jid='${jid}'>${form}</options>`));

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "bob", "carol", "dave", "erin"], store);
    await publishPost(alice(), "first post");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("advertises subscription-options and retrieve-default-sub (§6.3.1, §6.4)", async () => {
    const info = await bob().iq(
      stanza(`<iq type='get' to='${A}'><query xmlns='${NS_DISCO_INFO}'/></iq>`),
    );
    const features = info
      .getChild("query", NS_DISCO_INFO)!
      .getChildren("feature")
      .map((f) => f.attrs.var);
    expect(features).toEqual(
      expect.arrayContaining([
        `${NS_PUBSUB}#subscription-options`,
        `${NS_PUBSUB}#retrieve-default-sub`,
      ]),
    );
  });

  it("answers the default subscription options of the node and of the service (§6.4)", async () => {
    const ofNode = await bob().iq(pubsubIq("get", A, `<default node='${NODE}'/>`));
    expectResult(ofNode);
    const def = ofNode.getChild("pubsub", NS_PUBSUB)!.getChild("default")!;
    expect(def.attrs.node).toBe(NODE);
    expect(def.getChild("x", NS_DATA_FORMS)!.attrs.type).toBe("result");
    expect(fieldsOf(def)).toEqual({
      FORM_TYPE: [SUBSCRIBE_OPTIONS],
      "pubsub#deliver": ["1"],
      "pubsub#include_body": ["1"],
    });
    const ofService = await bob().iq(pubsubIq("get", A, "<default/>"));
    expectResult(ofService);
    const all = ofService.getChild("pubsub", NS_PUBSUB)!.getChild("default")!;
    expect(all.attrs.node).toBeUndefined();
    expect(fieldsOf(all)).toMatchObject({ "pubsub#deliver": ["1"], "pubsub#include_body": ["1"] });
    expectError(await bob().iq(pubsubIq("get", A, "<default node='princely_musings'/>")), {
      type: "cancel",
      condition: "item-not-found",
    });
  });

  it("no such subscriber: unexpected-request (modify) + not-subscribed (§6.3.4.2)", async () => {
    expectError(await optionsGet(bob, `bob@${D}`), {
      type: "modify",
      condition: "unexpected-request",
      pubsub: "not-subscribed",
    });
    expectError(await optionsSet(bob, `bob@${D}`, XEP_SUBMIT), {
      type: "modify",
      condition: "unexpected-request",
      pubsub: "not-subscribed",
    });
  });

  it("retrieves the options form of a subscription (§6.3.1, §6.3.2)", async () => {
    await subscribe(bob(), "alice");
    const reply = await optionsGet(bob, `bob@${D}`);
    expectResult(reply);
    const options = reply.getChild("pubsub", NS_PUBSUB)!.getChild("options")!;
    expect(options.attrs).toEqual({ node: NODE, jid: `bob@${D}` });
    const x = options.getChild("x", NS_DATA_FORMS)!;
    expect(x.attrs.type).toBe("form");
    expect(x.getChildren("field").map((f) => [f.attrs.var, f.attrs.type])).toEqual([
      ["FORM_TYPE", "hidden"],
      ["pubsub#deliver", "boolean"],
      ["pubsub#include_body", "boolean"],
    ]);
    expect(fieldsOf(options)).toEqual({
      FORM_TYPE: [SUBSCRIBE_OPTIONS],
      "pubsub#deliver": ["1"],
      "pubsub#include_body": ["1"],
    });
  });

  it("submits the XEP's form (§6.3.5): an empty result; notifications lose their body", async () => {
    const reply = await optionsSet(bob, `bob@${D}`, XEP_SUBMIT);
    expectResult(reply);
    expect(reply.getChildElements()).toHaveLength(0);
    expect(
      fieldsOf((await optionsGet(bob, `bob@${D}`)).getChild("pubsub")!.getChild("options")),
    ).toMatchObject({
      "pubsub#deliver": ["1"],
      "pubsub#include_body": ["0"],
    });
    await subscribe(dave(), "alice");
    forget(bob(), dave());
    const id = await publishPost(alice(), "bodies are per subscriber");
    const toBob = await bob().waitFor(eventFrom("alice", hasItem(id)));
    expect(toBob.getChild("body")).toBeUndefined();
    const item = toBob.getChild("event", NS_PUBSUB_EVENT)!.getChild("items")!.getChild("item")!;
    expect(item.getChildElements()).toHaveLength(1);
    const toDave = await dave().waitFor(eventFrom("alice", hasItem(id)));
    expect(toDave.getChildText("body")).toBe(`alice@${D}: bodies are per subscriber`);
  });

  it("pubsub#deliver off: no notifications to that subscription, others unchanged", async () => {
    expectResult(await optionsSet(bob, `bob@${D}`, submit(field("pubsub#deliver", "0"))));
    forget(bob(), dave());
    const id = await publishPost(alice(), "bob does not hear this");
    await dave().waitFor(eventFrom("alice", hasItem(id)));
    await sleep(300);
    expect(bob().received.filter(eventFrom("alice"))).toHaveLength(0);
  });

  it("keeps the options across a restart of the component", async () => {
    await w.restartComponent();
    const reply = await optionsGet(bob, `bob@${D}`);
    expectResult(reply);
    expect(fieldsOf(reply.getChild("pubsub", NS_PUBSUB)!.getChild("options"))).toMatchObject({
      "pubsub#deliver": ["0"],
      "pubsub#include_body": ["0"],
    });
    expectResult(await optionsSet(bob, `bob@${D}`, submit(field("pubsub#deliver", "true"))));
    forget(bob());
    const id = await publishPost(alice(), "bob hears again, without a body");
    const msg = await bob().waitFor(eventFrom("alice", hasItem(id)));
    expect(msg.getChild("body")).toBeUndefined();
  });

  it("subscribes and configures in one request (§6.3.7) and answers with the options", async () => {
    forget(carol());
    const reply = await carol().iq(
      pubsubIq(
        "set",
        A,
        `<subscribe node='${NODE}' jid='carol@${D}'/>
    <options>
      ${XEP_SUBMIT}
    </options>`,
      ),
    );
    expectResult(reply);
    const pubsub = reply.getChild("pubsub", NS_PUBSUB)!;
    const sub = pubsub.getChild("subscription")!;
    expect(sub.attrs).toMatchObject({ node: NODE, jid: `carol@${D}`, subscription: "subscribed" });
    expect(sub.attrs.subid).toBeTruthy();
    const options = pubsub.getChild("options")!;
    expect(options.attrs).toEqual({});
    expect(options.getChild("x", NS_DATA_FORMS)!.attrs.type).toBe("result");
    expect(fieldsOf(options)).toEqual({
      FORM_TYPE: [SUBSCRIBE_OPTIONS],
      "pubsub#deliver": ["1"],
      "pubsub#include_body": ["0"],
    });
    // The last published item (§6.1.7) follows carol's options too.
    const last = await carol().waitFor(
      eventFrom("alice", (e) => e.getChild("items") !== undefined),
    );
    expect(last.getChild("delay", NS_DELAY)).toBeDefined();
    expect(last.getChild("body")).toBeUndefined();
    const again = await optionsGet(carol, `carol@${D}`, ` subid='${sub.attrs.subid}'`);
    expect(fieldsOf(again.getChild("pubsub", NS_PUBSUB)!.getChild("options"))).toMatchObject({
      "pubsub#include_body": ["0"],
    });
  });

  it("subscribe and configure: <options/> with a node or jid is bad-request; bad options subscribe nobody", async () => {
    const withNode = await erin().iq(
      pubsubIq(
        "set",
        A,
        `<subscribe node='${NODE}' jid='erin@${D}'/><options node='${NODE}' jid='erin@${D}'>${XEP_SUBMIT}</options>`,
      ),
    );
    expectError(withNode, { type: "modify", condition: "bad-request" });
    const badOptions = await erin().iq(
      pubsubIq(
        "set",
        A,
        `<subscribe node='${NODE}' jid='erin@${D}'/><options>${submit(field("pubsub#digest", "1"))}</options>`,
      ),
    );
    expectError(badOptions, BAD_OPTIONS);
    expectError(await optionsGet(erin, `erin@${D}`), {
      type: "modify",
      condition: "unexpected-request",
      pubsub: "not-subscribed",
    });
  });

  it("insufficient privileges: forbidden (§6.3.4.1); the node's owner may", async () => {
    expectError(await optionsGet(carol, `bob@${D}`), { type: "auth", condition: "forbidden" });
    expectError(await optionsSet(carol, `bob@${D}`, XEP_SUBMIT), {
      type: "auth",
      condition: "forbidden",
    });
    expectResult(await optionsGet(alice, `bob@${D}`));
  });

  it("a missing jid or node: bad-request + jid-required / nodeid-required (§6.3.4.3)", async () => {
    expectError(await bob().iq(pubsubIq("get", A, `<options node='${NODE}'/>`)), {
      type: "modify",
      condition: "bad-request",
      pubsub: "jid-required",
    });
    expectError(await bob().iq(pubsubIq("get", A, `<options jid='bob@${D}'/>`)), {
      type: "modify",
      condition: "bad-request",
      pubsub: "nodeid-required",
    });
  });

  it("a wrong SubID: not-acceptable + invalid-subid (§6.3.4.5)", async () => {
    expectError(await optionsGet(bob, `bob@${D}`, " subid='no-such-subid'"), {
      type: "modify",
      condition: "not-acceptable",
      pubsub: "invalid-subid",
    });
  });

  it("a node that does not exist: item-not-found (§6.3.4.7)", async () => {
    expectError(
      await bob().iq(pubsubIq("get", A, `<options node='princely_musings' jid='bob@${D}'/>`)),
      { type: "cancel", condition: "item-not-found" },
    );
    // Erin has never posted: her microblog node does not exist yet.
    expectError(
      await bob().iq(pubsubIq("get", svc("erin"), `<options node='${NODE}' jid='bob@${D}'/>`)),
      { type: "cancel", condition: "item-not-found" },
    );
  });

  it("invalid options: bad-request + invalid-options (§6.3.6), nothing changed", async () => {
    for (const form of [
      submit(field("pubsub#deliver", "maybe")),
      submit(field("pubsub#digest", "1")),
      submit(field("pubsub#expire", "2006-03-31T23:59Z")),
      submit(field("pubsub#no-such-option", "1")),
      `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>${field("pubsub#deliver", "0")}</x>`,
    ]) {
      expectError(await optionsSet(bob, `bob@${D}`, form), BAD_OPTIONS);
    }
    expectError(
      await bob().iq(pubsubIq("set", A, `<options node='${NODE}' jid='bob@${D}'/>`)),
      BAD_OPTIONS,
    );
    const reply = await optionsGet(bob, `bob@${D}`);
    expect(fieldsOf(reply.getChild("pubsub", NS_PUBSUB)!.getChild("options"))).toMatchObject({
      "pubsub#deliver": ["1"],
      "pubsub#include_body": ["0"],
    });
  });
});
