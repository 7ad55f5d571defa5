/**
 * XEP-0060 §6.1 subscribe, §6.2 unsubscribe, §5.6 / §5.7 own subscriptions and affiliations,
 * notifications (headline + <body>), the last published item, access models whitelist/authorize.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DATA_FORMS, NS_DELAY } from "../../schemas/src/ns.js";
import {
  configure,
  D,
  eventFrom,
  expectError,
  expectResult,
  forget,
  getItems,
  hasItem,
  itemsOf,
  NODE,
  NS_ATOM,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  ownerIq,
  publishPost,
  pubsubIq,
  sleep,
  startWorld,
  subscribe,
  svc,
  type World,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

describe.each(WORLDS)("subscriptions and notifications on %s with %s", (kind, store) => {
  let w: World;
  const alice = () => w.clients.alice!;
  const bob = () => w.clients.bob!;
  const carol = () => w.clients.carol!;

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "bob", "carol"], store);
    await publishPost(alice(), "first post");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("subscribes with the XEP's request and answers subscribed with a subid (§6.1.2)", async () => {
    const reply = await bob().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='bob@${D}'/>`),
    );
    expectResult(reply);
    const sub = reply.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!;
    expect(sub.attrs).toMatchObject({ node: NODE, jid: `bob@${D}`, subscription: "subscribed" });
    expect(sub.attrs.subid).toBeTruthy();
    const again = await subscribe(bob(), "alice");
    expect(again.attrs.subid).toBe(sub.attrs.subid);
  });

  it("sends the last published item to a new subscriber, stamped with a delay (§6.1.7)", async () => {
    const msg = await bob().waitFor(eventFrom("alice", (e) => e.getChild("items") !== undefined));
    const item = msg.getChild("event", NS_PUBSUB_EVENT)!.getChild("items")!.getChild("item")!;
    expect(item.getChild("entry", NS_ATOM)!.getChildText("title", NS_ATOM)).toBe("first post");
    expect(msg.getChild("delay", NS_DELAY)?.attrs.stamp).toMatch(/Z$/);
    expect(msg.getChildText("body")).toBe(`alice@${D}: first post`);
  });

  it("lists the sender's own subscriptions, all and per node (§5.6)", async () => {
    const all = await bob().iq(pubsubIq("get", svc("alice"), "<subscriptions/>"));
    const list = all.getChild("pubsub", NS_PUBSUB)!.getChild("subscriptions")!;
    expect(list.getChildren("subscription").map((s) => s.attrs)).toEqual([
      expect.objectContaining({ node: NODE, jid: `bob@${D}`, subscription: "subscribed" }),
    ]);
    const one = await bob().iq(pubsubIq("get", svc("alice"), `<subscriptions node='${NODE}'/>`));
    expect(one.getChild("pubsub", NS_PUBSUB)!.getChild("subscriptions")!.attrs.node).toBe(NODE);
    const none = await carol().iq(pubsubIq("get", svc("alice"), "<subscriptions/>"));
    const empty = none.getChild("pubsub", NS_PUBSUB)!.getChild("subscriptions")!;
    expect(empty.getChildren("subscription")).toHaveLength(0);
  });

  it("lists the sender's own affiliations (§5.7)", async () => {
    const owner = await alice().iq(pubsubIq("get", svc("alice"), "<affiliations/>"));
    const affs = owner.getChild("pubsub", NS_PUBSUB)!.getChild("affiliations")!;
    expect(affs.getChildren("affiliation").map((a) => a.attrs)).toEqual([
      { node: NODE, affiliation: "owner" },
    ]);
    const stranger = await bob().iq(pubsubIq("get", svc("alice"), "<affiliations/>"));
    expect(
      stranger.getChild("pubsub", NS_PUBSUB)!.getChild("affiliations")!.getChildren("affiliation"),
    ).toHaveLength(0);
  });

  it("notifies subscribers with a headline message, the event and a readable body (§7.1.2.1)", async () => {
    forget(bob());
    const id = await publishPost(alice(), "Notifications <work> & have bodies");
    const msg = await bob().waitFor(eventFrom("alice", hasItem(id)));
    expect(msg.attrs).toMatchObject({ type: "headline", from: svc("alice") });
    expect(msg.attrs.to).toMatch(new RegExp(`^bob@${D}`));
    expect(msg.attrs.id).toBeTruthy();
    const items = msg.getChild("event", NS_PUBSUB_EVENT)!.getChild("items")!;
    expect(items.attrs.node).toBe(NODE);
    const entry = items.getChild("item")!.getChild("entry", NS_ATOM)!;
    expect(entry.getChildText("title", NS_ATOM)).toBe("Notifications <work> & have bodies");
    expect(msg.getChildText("body")).toBe(`alice@${D}: Notifications <work> & have bodies`);
  });

  it("follows include_body and deliver_payloads (§12.9, §7.1.2.2)", async () => {
    await configure(alice(), "alice", {
      "pubsub#include_body": "0",
      "pubsub#deliver_payloads": "0",
    });
    forget(bob());
    const id = await publishPost(alice(), "id only");
    const msg = await bob().waitFor(eventFrom("alice", hasItem(id)));
    expect(msg.getChild("body")).toBeUndefined();
    const item = msg.getChild("event", NS_PUBSUB_EVENT)!.getChild("items")!.getChild("item")!;
    expect(item.getChildElements()).toHaveLength(0);
    await configure(alice(), "alice", {
      "pubsub#include_body": "1",
      "pubsub#deliver_payloads": "1",
    });
  });

  it("unsubscribes (§6.2) and stops the notifications", async () => {
    await subscribe(carol(), "alice");
    const reply = await bob().iq(
      pubsubIq("set", svc("alice"), `<unsubscribe node='${NODE}' jid='bob@${D}'/>`),
    );
    expectResult(reply);
    const sub = reply.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!;
    expect(sub.attrs).toMatchObject({ node: NODE, jid: `bob@${D}`, subscription: "none" });
    forget(bob(), carol());
    const id = await publishPost(alice(), "only carol hears this");
    await carol().waitFor(eventFrom("alice", hasItem(id)));
    await sleep(300);
    expect(bob().received.filter(eventFrom("alice"))).toHaveLength(0);
  });

  it("whitelist: non-members are refused with not-allowed + closed-node; members get in", async () => {
    forget(carol());
    await configure(alice(), "alice", { "pubsub#access_model": "whitelist" });
    const dropped = await carol().waitFor(
      eventFrom("alice", (e) => e.getChild("subscription") !== undefined),
    );
    expect(
      dropped.getChild("event", NS_PUBSUB_EVENT)!.getChild("subscription")!.attrs,
    ).toMatchObject({
      node: NODE,
      jid: `carol@${D}`,
      subscription: "none",
    });
    const refused = await bob().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='bob@${D}'/>`),
    );
    expectError(refused, { type: "cancel", condition: "not-allowed", pubsub: "closed-node" });
    expectError(await getItems(bob(), "alice"), {
      type: "cancel",
      condition: "not-allowed",
      pubsub: "closed-node",
    });
    expectResult(
      await alice().iq(
        ownerIq(
          "set",
          svc("alice"),
          `<affiliations node='${NODE}'><affiliation jid='bob@${D}' affiliation='member'/></affiliations>`,
        ),
      ),
    );
    expect((await subscribe(bob(), "alice")).attrs.subscription).toBe("subscribed");
    expect(itemsOf(await getItems(bob(), "alice")).length).toBeGreaterThan(0);
    await configure(alice(), "alice", { "pubsub#access_model": "open" });
  });

  it("authorize: a request is pending and the owner gets the §8.6 form with a body", async () => {
    await configure(alice(), "alice", { "pubsub#access_model": "authorize" });
    forget(alice());
    const reply = await carol().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='carol@${D}'/>`),
    );
    expectResult(reply);
    const sub = reply.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!;
    expect(sub.attrs).toMatchObject({ node: NODE, jid: `carol@${D}`, subscription: "pending" });
    const ask = await alice().waitFor(
      (el) => el.name === "message" && el.getChild("x", NS_DATA_FORMS) !== undefined,
    );
    expect(ask.attrs.from).toBe(svc("alice"));
    const fields = Object.fromEntries(
      ask
        .getChild("x", NS_DATA_FORMS)!
        .getChildren("field")
        .map((f) => [f.attrs.var, f.getChildText("value")]),
    );
    expect(fields).toMatchObject({
      FORM_TYPE: "http://jabber.org/protocol/pubsub#subscribe_authorization",
      "pubsub#node": NODE,
      "pubsub#subscriber_jid": `carol@${D}`,
      "pubsub#allow": "false",
    });
    expect(ask.getChildText("body")).toContain(`carol@${D}`);
    const pending = await carol().iq(
      pubsubIq("set", svc("alice"), `<subscribe node='${NODE}' jid='carol@${D}'/>`),
    );
    expectError(pending, {
      type: "auth",
      condition: "not-authorized",
      pubsub: "pending-subscription",
    });
    await configure(alice(), "alice", { "pubsub#access_model": "open" });
  });
});
