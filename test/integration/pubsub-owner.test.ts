/**
 * XEP-0060 §8 owner use cases at u@C: create (and configure), default configuration, configure,
 * manage subscriptions and affiliations, purge, delete with notifications.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DATA_FORMS, NS_DISCO_ITEMS } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  configure,
  D,
  eventFrom,
  expectError,
  expectResult,
  forget,
  getItems,
  hasItem,
  hasRetract,
  idsOf,
  itemsOf,
  NODE,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_OWNER,
  ownerIq,
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

/** §8.1.3 "Entity requests a new node with non-default configuration", verbatim but the node. */
const CREATE_AND_CONFIGURE = `
<create node='${NODE}'/>
<configure>
  <x xmlns='jabber:x:data' type='submit'>
    <field var='FORM_TYPE' type='hidden'>
      <value>http://jabber.org/protocol/pubsub#node_config</value>
    </field>
    <field var='pubsub#title'><value>Princely Musings (Atom)</value></field>
    <field var='pubsub#deliver_notifications'><value>1</value></field>
    <field var='pubsub#deliver_payloads'><value>1</value></field>
    <field var='pubsub#persist_items'><value>1</value></field>
    <field var='pubsub#max_items'><value>10</value></field>
    <field var='pubsub#item_expire'><value>604800</value></field>
    <field var='pubsub#access_model'><value>open</value></field>
    <field var='pubsub#publish_model'><value>publishers</value></field>
    <field var='pubsub#purge_offline'><value>0</value></field>
    <field var='pubsub#send_last_published_item'><value>never</value></field>
    <field var='pubsub#presence_based_delivery'><value>false</value></field>
    <field var='pubsub#notification_type'><value>headline</value></field>
    <field var='pubsub#notify_config'><value>0</value></field>
    <field var='pubsub#notify_delete'><value>0</value></field>
    <field var='pubsub#notify_retract'><value>0</value></field>
    <field var='pubsub#notify_sub'><value>0</value></field>
    <field var='pubsub#max_payload_size'><value>1028</value></field>
    <field var='pubsub#type'><value>urn:example:e2ee:bundle</value></field>
    <field var='pubsub#body_xslt'>
      <value>http://jabxslt.jabberstudio.org/atom_body.xslt</value>
    </field>
  </x>
</configure>`;

/** var → first value of a data form. */
function formValues(x: Element): Record<string, string | null> {
  return Object.fromEntries(
    x.getChildren("field").map((f) => [f.attrs.var as string, f.getChildText("value")]),
  );
}

describe.each(WORLDS)("owner use cases on %s with %s", (kind, store) => {
  let w: World;
  const alice = () => w.clients.alice!;
  const bob = () => w.clients.bob!;
  const carol = () => w.clients.carol!;
  const configForm = async () => {
    const reply = await alice().iq(ownerIq("get", svc("alice"), `<configure node='${NODE}'/>`));
    expectResult(reply);
    const configureEl = reply.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("configure")!;
    expect(configureEl.attrs.node).toBe(NODE);
    return configureEl.getChild("x", NS_DATA_FORMS)!;
  };

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "bob", "carol"], store);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("returns the default node configuration (§8.3)", async () => {
    const reply = await alice().iq(ownerIq("get", svc("alice"), "<default/>"));
    expectResult(reply);
    const x = reply.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("default")!.getChild("x")!;
    expect(x.attrs.type).toBe("form");
    expect(formValues(x)).toMatchObject({
      FORM_TYPE: "http://jabber.org/protocol/pubsub#node_config",
      "pubsub#access_model": "open",
      "pubsub#send_last_published_item": "on_sub",
    });
  });

  it("creates and configures the node with the XEP's form (§8.1.3); a second create is conflict", async () => {
    expectResult(await alice().iq(pubsubIq("set", svc("alice"), CREATE_AND_CONFIGURE)));
    expect(formValues(await configForm())).toMatchObject({
      "pubsub#title": "Princely Musings (Atom)",
      "pubsub#max_items": "10",
      "pubsub#send_last_published_item": "never",
      "pubsub#notify_retract": "0",
    });
    const again = await alice().iq(pubsubIq("set", svc("alice"), `<create node='${NODE}'/>`));
    expectError(again, { type: "cancel", condition: "conflict" });
  });

  it("answers the configuration form with current values, labels and options (§8.2.2)", async () => {
    const x = await configForm();
    expect(x.attrs.type).toBe("form");
    const access = x.getChildren("field").find((f) => f.attrs.var === "pubsub#access_model")!;
    expect(access.attrs.type).toBe("list-single");
    expect(access.getChildren("option").map((o) => o.getChildText("value"))).toEqual([
      "open",
      "authorize",
      "whitelist",
    ]);
  });

  it("applies a submitted form (§8.2.4) and ignores a cancelled one", async () => {
    await configure(alice(), "alice", {
      "pubsub#access_model": "open",
      "pubsub#max_items": "3",
      "pubsub#title": "Alice's thoughts",
      "pubsub#notify_retract": "1",
      "pubsub#send_last_published_item": "on_sub",
      "pubsub#include_body": "1",
      "pubsub#deliver_payloads": "1",
      "pubsub#notify_delete": "1",
    });
    const expected = {
      "pubsub#access_model": "open",
      "pubsub#max_items": "3",
      "pubsub#title": "Alice's thoughts",
      "pubsub#notify_retract": "1",
      "pubsub#send_last_published_item": "on_sub",
      "pubsub#include_body": "1",
      "pubsub#deliver_payloads": "1",
    };
    expect(formValues(await configForm())).toMatchObject(expected);
    const cancel = await alice().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<configure node='${NODE}'><x xmlns='jabber:x:data' type='cancel'/></configure>`,
      ),
    );
    expectResult(cancel);
    expect(formValues(await configForm())).toMatchObject(expected);
  });

  it("keeps max_items and notifies subscribers of the dropped items (notify_retract)", async () => {
    await subscribe(bob(), "alice");
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await publishPost(alice(), `kept ${n}`));
    forget(bob());
    const newest = await publishPost(alice(), "kept 4");
    await bob().waitFor(eventFrom("alice", hasRetract(ids[0]!)));
    expect(idsOf(itemsOf(await getItems(bob(), "alice")))).toEqual([newest, ids[2], ids[1]]);
  });

  it("notifies subscribers of configuration changes with the form (notify_config, §8.2.5)", async () => {
    await configure(alice(), "alice", { "pubsub#notify_config": "1" });
    forget(bob());
    await configure(alice(), "alice", { "pubsub#title": "Renamed" });
    const renamed = (e: Element) => {
      const x = e.getChild("configuration")?.getChild("x", NS_DATA_FORMS);
      return x !== undefined && formValues(x)["pubsub#title"] === "Renamed";
    };
    const msg = await bob().waitFor(eventFrom("alice", renamed));
    expect(msg.getChild("event", NS_PUBSUB_EVENT)!.getChild("configuration")!.attrs.node).toBe(
      NODE,
    );
    await configure(alice(), "alice", { "pubsub#notify_config": "0" });
  });

  it("lists and modifies subscriptions (§8.8): approves a request, removes one; the subscriber is told (§8.8.4)", async () => {
    const listed = async () => {
      const list = await alice().iq(
        ownerIq("get", svc("alice"), `<subscriptions node='${NODE}'/>`),
      );
      const subs = list.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("subscriptions")!;
      expect(subs.attrs.node).toBe(NODE);
      return subs.getChildren("subscription").map((s) => s.attrs);
    };
    expect(await listed()).toEqual([
      expect.objectContaining({ jid: `bob@${D}`, subscription: "subscribed" }),
    ]);
    const change = (entries: string) =>
      alice().iq(
        ownerIq("set", svc("alice"), `<subscriptions node='${NODE}'>${entries}</subscriptions>`),
      );
    forget(bob(), carol());
    // Carol never asked: the owner cannot subscribe her (§8.8.2.4 invalid entry), nothing changes.
    expectError(
      await change(
        `<subscription jid='carol@${D}' subscription='subscribed'/>` +
          `<subscription jid='bob@${D}' subscription='none'/>`,
      ),
      { type: "modify", condition: "not-acceptable" },
    );
    expect(await listed()).toEqual([
      expect.objectContaining({ jid: `bob@${D}`, subscription: "subscribed" }),
    ]);
    await sleep(300);
    expect(carol().received.filter(eventFrom("alice"))).toEqual([]);
    expect(bob().received.filter(eventFrom("alice"))).toEqual([]);
    await configure(alice(), "alice", { "pubsub#access_model": "authorize" });
    const asked = await carol().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='carol@${D}'/>`),
    );
    expectResult(asked);
    expect(asked.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!.attrs.subscription).toBe(
      "pending",
    );
    // Now she asked: setting her subscription to subscribed approves the request.
    const set = await change(
      `<subscription jid='carol@${D}' subscription='subscribed'/>` +
        `<subscription jid='bob@${D}' subscription='none'/>`,
    );
    expectResult(set);
    await configure(alice(), "alice", { "pubsub#access_model": "open" });
    const added = await carol().waitFor(
      eventFrom("alice", (e) => e.getChild("subscription")?.attrs.subscription === "subscribed"),
    );
    expect(added.getChildText("body")).toContain(`alice@${D}`);
    await carol().waitFor(eventFrom("alice", (e) => e.getChild("items") !== undefined));
    const removed = await bob().waitFor(
      eventFrom("alice", (e) => e.getChild("subscription") !== undefined),
    );
    expect(
      removed.getChild("event", NS_PUBSUB_EVENT)!.getChild("subscription")!.attrs,
    ).toMatchObject({ node: NODE, jid: `bob@${D}`, subscription: "none" });
  });

  it("lists and modifies affiliations (§8.9): publisher, outcast; the owner stays owner", async () => {
    const set = (jid: string, affiliation: string) =>
      alice().iq(
        ownerIq(
          "set",
          svc("alice"),
          `<affiliations node='${NODE}'><affiliation jid='${jid}' affiliation='${affiliation}'/></affiliations>`,
        ),
      );
    // Only JIDs of the users domain may act as alice: own the node or publish on it.
    for (const affiliation of ["owner", "publisher", "publish-only"]) {
      expectError(await set("someone@elsewhere.example", affiliation), {
        type: "modify",
        condition: "not-acceptable",
      });
    }
    expectResult(await set(`bob@${D}`, "publisher"));
    const list = await alice().iq(ownerIq("get", svc("alice"), `<affiliations node='${NODE}'/>`));
    const affs = list.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("affiliations")!;
    expect(affs.getChildren("affiliation").map((a) => a.attrs)).toEqual([
      { jid: `alice@${D}`, affiliation: "owner" },
      { jid: `bob@${D}`, affiliation: "publisher" },
    ]);
    const byBob = await bob().iq(
      pubsubIq(
        "set",
        svc("alice"),
        `<publish node='${NODE}'><item><entry xmlns='http://www.w3.org/2005/Atom'><title>guest post</title></entry></item></publish>`,
      ),
    );
    expectResult(byBob);
    expectResult(await set(`bob@${D}`, "outcast"));
    const blocked = await bob().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='bob@${D}'/>`),
    );
    expectError(blocked, { type: "auth", condition: "forbidden" });
    expectError(await set(`alice@${D}`, "none"), { type: "modify", condition: "not-acceptable" });
    expectResult(await set(`bob@${D}`, "none"));
  });

  it("purges the node (§8.5): one <purge/> per subscriber, no items left", async () => {
    forget(carol());
    expectResult(await alice().iq(ownerIq("set", svc("alice"), `<purge node='${NODE}'/>`)));
    await carol().waitFor(eventFrom("alice", (e) => e.getChild("purge")?.attrs.node === NODE));
    expect(itemsOf(await getItems(carol(), "alice"))).toHaveLength(0);
  });

  it("deletes the node (§8.4) and notifies subscribers, with the redirect", async () => {
    const id = await publishPost(alice(), "last words");
    await carol().waitFor(eventFrom("alice", hasItem(id)));
    forget(carol());
    const redirect = `xmpp:alice@${D}?;node=blog`;
    const reply = await alice().iq(
      ownerIq("set", svc("alice"), `<delete node='${NODE}'><redirect uri='${redirect}'/></delete>`),
    );
    expectResult(reply);
    const msg = await carol().waitFor(
      eventFrom("alice", (e) => e.getChild("delete") !== undefined),
    );
    const del = msg.getChild("event", NS_PUBSUB_EVENT)!.getChild("delete")!;
    expect(del.attrs.node).toBe(NODE);
    expect(del.getChild("redirect")?.attrs.uri).toBe(redirect);
    expectError(await getItems(carol(), "alice"), { type: "cancel", condition: "item-not-found" });
    const disco = await carol().iq(
      stanza(`<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_ITEMS}'/></iq>`),
    );
    expect(disco.getChild("query", NS_DISCO_ITEMS)!.getChildren("item")).toHaveLength(0);
    const subs = await carol().iq(pubsubIq("get", svc("alice"), "<subscriptions/>"));
    expect(
      subs.getChild("pubsub", NS_PUBSUB)!.getChild("subscriptions")!.getChildren("subscription"),
    ).toHaveLength(0);
  });
});
