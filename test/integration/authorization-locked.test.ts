/**
 * Issue 4, locked accounts (pubsub#access_model = authorize): a request is pending, the owner
 * gets the XEP-0060 §8.6 form and answers it by message, by §8.7 get-pending, by §8.8 manage
 * subscriptions, or by the `approve` / `deny` commands; the subscriber is told (§12.7) and then
 * gets posts, or not. The owner is told of new followers (pubsub#notify_sub) and lists them.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_COMMANDS, NS_DATA_FORMS } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  type AuthWorld,
  answerMessage,
  approvalFormFor,
  authorizationForm,
  bare,
  commandIq,
  counterDelta,
  formFields,
  formValues,
  listed,
  lock,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
  ownSubscriptions,
  runCommand,
  startAuthWorld,
  stats,
  subscribeIq,
  subscriptionEvent,
  subscriptionOf,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  configure,
  eventFrom,
  expectError,
  expectResult,
  forget,
  getItems,
  hasItem,
  NODE,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_OWNER,
  ownerIq,
  publishPost,
  sleep,
  stanza,
  svc,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";

describe.each(WORLDS)("locked accounts on %s with %s", (kind, store) => {
  let w: AuthWorld;
  const c = (user: string) => w.clients[user] as TestClient;
  const alice = () => c("alice");
  /** The §8.6 form message alice got about each subscriber. */
  const asked = new Map<string, Element>();

  /** No event from alice's microblog reached `client` (after a short wait). */
  const expectNoPosts = async (...clients: TestClient[]) => {
    await sleep(400);
    for (const cl of clients) {
      expect(
        cl.received.filter(eventFrom("alice", (e) => e.getChild("items") !== undefined)),
      ).toEqual([]);
    }
  };

  beforeAll(async () => {
    w = await startAuthWorld(
      kind,
      ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank"],
      {},
      store,
    );
    await publishPost(alice(), "written before the lock");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("a subscribe to a locked account is pending; the owner gets the §8.6 form with a body", async () => {
    await lock(alice(), "alice");
    forget(alice(), c("bob"));
    const sub = subscriptionOf(await subscribeIq(c("bob"), "alice"));
    expect(sub).toMatchObject({ node: NODE, jid: bare("bob"), subscription: "pending" });
    expect(sub.subid).toBeTruthy();

    const msg = await alice().waitFor(approvalFormFor("alice", bare("bob")));
    asked.set("bob", msg);
    expect(msg.attrs.from).toBe(svc("alice"));
    expect(msg.attrs.to).toMatch(/^alice@localhost/);
    expect(msg.attrs.id).toBeTruthy();
    const x = authorizationForm(msg)!;
    expect(x.attrs.type).toBe("form");
    expect(formValues(x)).toEqual({
      FORM_TYPE: NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
      "pubsub#subid": sub.subid,
      "pubsub#node": NODE,
      "pubsub#subscriber_jid": bare("bob"),
      "pubsub#allow": "false",
    });
    const allow = x.getChildren("field").find((f) => f.attrs.var === "pubsub#allow")!;
    expect(allow.attrs.type).toBe("boolean");
    const body = msg.getChildText("body") ?? "";
    expect(body).toContain(`${bare("bob")} asks to follow your microblog`);

    // Pending is not subscribed: no items, and asking again is refused as pending (§6.1.3.4).
    expectError(await getItems(c("bob"), "alice"), {
      type: "auth",
      condition: "not-authorized",
      pubsub: "not-subscribed",
    });
    expectError(await subscribeIq(c("bob"), "alice"), {
      type: "auth",
      condition: "not-authorized",
      pubsub: "pending-subscription",
    });
    expect(await ownSubscriptions(c("bob"), "alice")).toEqual([[bare("bob"), "pending"]]);
    await publishPost(alice(), "bob must not see this yet");
    await expectNoPosts(c("bob"));
  });

  it("approval by the submitted form (§8.6): the subscriber is told, then receives posts", async () => {
    const form = asked.get("bob")!;
    const subid = formValues(authorizationForm(form)!)["pubsub#subid"];
    forget(c("bob"));
    await alice().send(answerMessage("alice", bare("bob"), true, form.attrs.id, subid));

    const told = await c("bob").waitFor(subscriptionEvent("alice", bare("bob"), "subscribed"));
    const el = told.getChild("event", NS_PUBSUB_EVENT)!.getChild("subscription")!;
    expect(el.attrs).toMatchObject({ node: NODE, jid: bare("bob"), subscription: "subscribed" });
    expect(told.getChildText("body")).toContain("You now follow alice@localhost");
    // The last item follows the approval (§6.1.7), then new posts arrive as they are published.
    await c("bob").waitFor(eventFrom("alice", (e) => e.getChild("items") !== undefined));
    const id = await publishPost(alice(), "hello bob");
    const note = await c("bob").waitFor(eventFrom("alice", hasItem(id)));
    expect(note.getChildText("body")).toBe("alice@localhost: hello bob");
    expect(await ownSubscriptions(c("bob"), "alice")).toEqual([[bare("bob"), "subscribed"]]);
  });

  it("denial by the submitted form: the subscriber is told none and gets no posts", async () => {
    const before = await stats(c("admin"));
    forget(alice(), c("carol"));
    expect(subscriptionOf(await subscribeIq(c("carol"), "alice")).subscription).toBe("pending");
    const form = await alice().waitFor(approvalFormFor("alice", bare("carol")));
    await alice().send(answerMessage("alice", bare("carol"), false, form.attrs.id));

    const told = await c("carol").waitFor(subscriptionEvent("alice", bare("carol"), "none"));
    expect(told.getChildText("body")).toContain("declined your request");
    expect(await ownSubscriptions(c("carol"), "alice")).toEqual([]);
    forget(c("bob"), c("carol"));
    const id = await publishPost(alice(), "not for carol");
    await c("bob").waitFor(eventFrom("alice", hasItem(id)));
    await expectNoPosts(c("carol"));
    expect(counterDelta(before, await stats(c("admin")))).toMatchObject({
      "refused:denied-by-owner": 1,
    });
  });

  it("a cancelled form (§8.6) leaves the request pending", async () => {
    forget(alice());
    expect(subscriptionOf(await subscribeIq(c("dave"), "alice")).subscription).toBe("pending");
    const form = await alice().waitFor(approvalFormFor("alice", bare("dave")));
    forget(alice(), c("dave"));
    await alice().send(
      stanza(
        `<message to='${svc("alice")}' id='${form.attrs.id}'>` +
          `<x xmlns='${NS_DATA_FORMS}' type='cancel'><field var='FORM_TYPE' type='hidden'>` +
          `<value>${NS_PUBSUB_SUBSCRIBE_AUTHORIZATION}</value></field></x></message>`,
      ),
    );
    await sleep(300);
    expect(alice().received.filter((el) => el.attrs.type === "error")).toEqual([]);
    expect(c("dave").received.filter(subscriptionEvent("alice", bare("dave"), "none"))).toEqual([]);
    expect(await ownSubscriptions(c("dave"), "alice")).toEqual([[bare("dave"), "pending"]]);
  });

  it("§8.7 get-pending: a form with the node, then completed, then one §8.6 form per request", async () => {
    expect(subscriptionOf(await subscribeIq(c("erin"), "alice")).subscription).toBe("pending");
    // Stage 1: the XEP's "Owner requests pending subscription requests".
    const first = await alice().iq(commandIq(svc("alice"), GET_PENDING));
    expectResult(first);
    const cmd = first.getChild("command", NS_COMMANDS)!;
    expect(cmd.attrs).toMatchObject({ node: GET_PENDING, status: "executing" });
    expect(cmd.attrs.sessionid).toBeTruthy();
    const x = cmd.getChild("x", NS_DATA_FORMS)!;
    expect(x.attrs.type).toBe("form");
    expect(formFields(x).FORM_TYPE).toEqual([NS_PUBSUB_SUBSCRIBE_AUTHORIZATION]);
    const nodeField = x.getChildren("field").find((f) => f.attrs.var === "pubsub#node")!;
    expect(nodeField.attrs.type).toBe("list-single");
    expect(nodeField.getChildren("option").map((o) => o.getChildText("value"))).toEqual([NODE]);

    // Stage 2: "Owner requests all pending subscription requests for a node", verbatim.
    forget(alice());
    const second = await alice().iq(
      commandIq(
        svc("alice"),
        GET_PENDING,
        `sessionid='${cmd.attrs.sessionid}' action='execute'`,
        `<x xmlns='${NS_DATA_FORMS}' type='submit'><field var='pubsub#node'><value>${NODE}</value></field></x>`,
      ),
    );
    expectResult(second);
    expect(second.getChild("command", NS_COMMANDS)!.attrs).toMatchObject({
      node: GET_PENDING,
      status: "completed",
      sessionid: cmd.attrs.sessionid,
    });
    const forDave = await alice().waitFor(approvalFormFor("alice", bare("dave")));
    await alice().waitFor(approvalFormFor("alice", bare("erin")));
    expect(alice().received.filter((el) => authorizationForm(el) !== undefined)).toHaveLength(2);

    // Answering the form that get-pending sent works like the first one.
    forget(c("dave"));
    await alice().send(answerMessage("alice", bare("dave"), true, forDave.attrs.id));
    await c("dave").waitFor(subscriptionEvent("alice", bare("dave"), "subscribed"));
  });

  it("§8.8 manage subscriptions: the owner sets subscription='subscribed' for a pending JID", async () => {
    forget(c("erin"), c("frank"));
    // Only an approval: frank never asked, so the whole change is refused (§8.8.2.4).
    const before = await stats(c("admin"));
    const forced = await alice().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<subscriptions node='${NODE}'><subscription jid='${bare("erin")}' subscription='subscribed'/>` +
          `<subscription jid='${bare("frank")}' subscription='subscribed'/></subscriptions>`,
      ),
    );
    expectError(forced, { type: "modify", condition: "not-acceptable" });
    expect(await ownSubscriptions(c("frank"), "alice")).toEqual([]);
    expect(await ownSubscriptions(c("erin"), "alice")).toEqual([[bare("erin"), "pending"]]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:unrequested-subscription": 1,
    });
    const reply = await alice().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<subscriptions node='${NODE}'><subscription jid='${bare("erin")}' subscription='subscribed'/></subscriptions>`,
      ),
    );
    expectResult(reply);
    await c("erin").waitFor(subscriptionEvent("alice", bare("erin"), "subscribed"));
    const id = await publishPost(alice(), "hello erin");
    await c("erin").waitFor(eventFrom("alice", hasItem(id)));

    const list = await alice().iq(ownerIq("get", svc("alice"), `<subscriptions node='${NODE}'/>`));
    const subs = list
      .getChild("pubsub", NS_PUBSUB_OWNER)!
      .getChild("subscriptions")!
      .getChildren("subscription")
      .map((s) => [s.attrs.jid, s.attrs.subscription]);
    expect(subs.sort()).toEqual([
      [bare("bob"), "subscribed"],
      [bare("dave"), "subscribed"],
      [bare("erin"), "subscribed"],
    ]);
    expect(await listed(alice(), "pending")).toEqual([]);
  });

  it("notify_sub: the owner is told of new followers; followers and pending list JIDs with counts", async () => {
    await configure(alice(), "alice", { "pubsub#notify_sub": "1" });
    forget(alice());
    expect(subscriptionOf(await subscribeIq(c("frank"), "alice")).subscription).toBe("pending");
    await alice().waitFor(approvalFormFor("alice", bare("frank")));
    expect(await listed(alice(), "pending")).toEqual([bare("frank")]);

    const approved = await runCommand(alice(), "approve", { jid: bare("frank") });
    expect(approved.status).toBe("completed");
    expect(approved.note).toContain(bare("frank"));
    await c("frank").waitFor(subscriptionEvent("alice", bare("frank"), "subscribed"));
    const toOwner = await alice().waitFor(subscriptionEvent("alice", bare("frank"), "subscribed"));
    expect(toOwner.getChildText("body")).toBe(`${bare("frank")} now follows your microblog.`);
    expect(await listed(alice(), "pending")).toEqual([]);
    expect(await listed(alice(), "followers")).toEqual(["bob", "dave", "erin", "frank"].map(bare));

    // The deny command answers like a denied form; an open node notifies the owner at once.
    expect(subscriptionOf(await subscribeIq(c("gina"), "alice")).subscription).toBe("pending");
    expect(await listed(alice(), "pending")).toEqual([bare("gina")]);
    expect((await runCommand(alice(), "deny", { jid: bare("gina") })).status).toBe("completed");
    await c("gina").waitFor(subscriptionEvent("alice", bare("gina"), "none"));
    await configure(alice(), "alice", { "pubsub#access_model": "open" });
    forget(alice());
    expect(subscriptionOf(await subscribeIq(c("gina"), "alice")).subscription).toBe("subscribed");
    const opened = await alice().waitFor(subscriptionEvent("alice", bare("gina"), "subscribed"));
    expect(opened.getChildText("body")).toBe(`${bare("gina")} now follows your microblog.`);
    expect(await listed(alice(), "followers")).toHaveLength(5);
  });

  it("a request sent as HANK@DOMAIN/resource is stored normalised; `approve hank@domain` answers it", async () => {
    await lock(alice(), "alice");
    forget(alice(), c("hank"));
    const full = c("hank").xmpp.jid?.toString() ?? "";
    const resource = full.slice(full.indexOf("/"));
    expect(resource).toMatch(/^\/./);
    const shouted = `${bare("hank").toUpperCase()}${resource}`;
    expect(subscriptionOf(await subscribeIq(c("hank"), "alice", shouted))).toMatchObject({
      jid: full,
      subscription: "pending",
    });
    await alice().waitFor(approvalFormFor("alice", full));
    const approved = await runCommand(alice(), "approve", { jid: bare("hank") });
    expect(approved.status).toBe("completed");
    await c("hank").waitFor(subscriptionEvent("alice", full, "subscribed"));
    expect(await ownSubscriptions(c("hank"), "alice")).toEqual([[full, "subscribed"]]);
  });
});
