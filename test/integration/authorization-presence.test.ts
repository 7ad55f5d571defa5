/**
 * Issue 4 / INTERFACE "IM clients": adding u@C to the roster (presence subscribe, RFC 6121) is a
 * follow request under the same policy as a pubsub subscribe. Open node: subscribed at once and a
 * presence whose status is the latest post; locked account: pending until the owner approves,
 * then subscribed; banned: unsubscribed. Presence unsubscribe ends the subscription.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { shortId } from "../../schemas/src/short-id.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  type AuthWorld,
  answerMessage,
  approvalFormFor,
  bare,
  counterDelta,
  lock,
  ownSubscriptions,
  runCommand,
  startAuthWorld,
  stats,
  subscriptionEvent,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  eventFrom,
  expectResult,
  forget,
  hasItem,
  publishPost,
  sleep,
  stanza,
  svc,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

/** A presence from u@C (any resource) of this type (undefined: available). */
const presenceFrom = (owner: string, type?: string) => (el: Element) =>
  el.name === "presence" &&
  (el.attrs.from as string | undefined)?.split("/")[0] === svc(owner) &&
  el.attrs.type === type;

/** Poll `check` every 100 ms until true (at most 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error("condition not reached within 5 s");
}

const items = (owner: string) => eventFrom(owner, (e) => e.getChild("items") !== undefined);

/** A post to an IM follower: a chat message from u@C whose <relayed/> names the item. */
const chatPost = (owner: string, id?: string) => (el: Element) =>
  el.name === "message" &&
  el.attrs.type === "chat" &&
  (el.attrs.from as string | undefined)?.split("/")[0] === svc(owner) &&
  el.getChild("relayed", NS_WARBLE) !== undefined &&
  (id === undefined || el.getChild("relayed", NS_WARBLE)?.attrs.item === id);

describe.each(WORLDS)("presence follow requests on %s with %s", (kind, store) => {
  let w: AuthWorld;
  const c = (user: string) => w.clients[user] as TestClient;
  const sendPresence = (client: TestClient, type: string, owner: string) =>
    client.send(stanza(`<presence type='${type}' to='${svc(owner)}'/>`));

  beforeAll(async () => {
    w = await startAuthWorld(kind, ["alice", "bob", "carol", "dave"], {}, store);
    // An IM client fetches its roster first: that makes it an "interested resource" (RFC 6121
    // §2.1.6), to which the server delivers inbound subscribed / unsubscribed presences.
    for (const user of ["bob", "dave"]) {
      expectResult(
        await c(user).iq(stanza("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>")),
      );
    }
    await publishPost(c("alice"), "an older post");
    await publishPost(c("alice"), "alice's latest news");
    await publishPost(c("carol"), "carol's latest");
    await lock(c("carol"), "carol");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("open node: subscribed, then a presence whose status is the latest post, then posts", async () => {
    forget(c("bob"));
    await sendPresence(c("bob"), "subscribe", "alice");
    await c("bob").waitFor(presenceFrom("alice", "subscribed"));
    const status = await c("bob").waitFor(presenceFrom("alice"));
    expect(status.getChildText("status")).toBe("alice's latest news");
    expect(await ownSubscriptions(c("bob"), "alice")).toEqual([[bare("bob"), "subscribed"]]);
    forget(c("bob"));
    const id = await publishPost(c("alice"), "for my roster followers");
    // A chat message, which the server keeps for an offline follower; not a headline.
    const note = await c("bob").waitFor(chatPost("alice", id));
    const short = shortId(svc("alice"), "urn:xmpp:microblog:0", id);
    expect(note.getChildText("body")).toBe(`alice@localhost: for my roster followers [${short}]`);
    const update = await c("bob").waitFor(presenceFrom("alice"));
    expect(update.getChildText("status")).toBe("for my roster followers");
    expect(c("bob").received.filter(eventFrom("alice", hasItem(id)))).toEqual([]);
  });

  it("locked account: pending (no answer yet); the owner's approval sends subscribed", async () => {
    forget(c("bob"), c("carol"));
    await sendPresence(c("bob"), "subscribe", "carol");
    const form = await c("carol").waitFor(approvalFormFor("carol", bare("bob")));
    expect(form.getChildText("body")).toContain(bare("bob"));
    // IM clients and servers repeat a subscribe that is still unanswered (RFC 6121 §3.1.3):
    // the request stays pending, and is neither refused nor asked twice.
    await sendPresence(c("bob"), "subscribe", "carol");
    await sleep(300);
    expect(c("bob").received.filter(presenceFrom("carol", "unsubscribed"))).toEqual([]);
    expect(c("carol").received.filter(approvalFormFor("carol", bare("bob")))).toHaveLength(1);
    expect(c("bob").received.filter(presenceFrom("carol", "subscribed"))).toEqual([]);
    expect(c("bob").received.filter(items("carol"))).toEqual([]);
    expect(await ownSubscriptions(c("bob"), "carol")).toEqual([[bare("bob"), "pending"]]);

    await c("carol").send(answerMessage("carol", bare("bob"), true, form.attrs.id));
    await c("bob").waitFor(presenceFrom("carol", "subscribed"));
    const status = await c("bob").waitFor(presenceFrom("carol"));
    expect(status.getChildText("status")).toBe("carol's latest");
    await c("bob").waitFor(subscriptionEvent("carol", bare("bob"), "subscribed"));
    const id = await publishPost(c("carol"), "approved followers read this");
    await c("bob").waitFor(chatPost("carol", id));
  });

  it("locked account: a denied presence request is answered unsubscribed", async () => {
    forget(c("dave"), c("carol"));
    await sendPresence(c("dave"), "subscribe", "carol");
    await c("carol").waitFor(approvalFormFor("carol", bare("dave")));
    expect((await runCommand(c("carol"), "deny", { jid: bare("dave") })).status).toBe("completed");
    await c("dave").waitFor(presenceFrom("carol", "unsubscribed"));
    expect(await ownSubscriptions(c("dave"), "carol")).toEqual([]);
  });

  it("a banned user's presence subscribe is answered unsubscribed and counted", async () => {
    expect((await runCommand(c("alice"), "block", { jid: bare("dave") })).status).toBe("completed");
    const before = await stats(c("admin"));
    forget(c("dave"));
    await sendPresence(c("dave"), "subscribe", "alice");
    await c("dave").waitFor(presenceFrom("alice", "unsubscribed"));
    expect(c("dave").received.filter(presenceFrom("alice", "subscribed"))).toEqual([]);
    expect(await ownSubscriptions(c("dave"), "alice")).toEqual([]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({ "refused:outcast-jid": 1 });
  });

  it("presence unsubscribe ends the subscription: no more posts", async () => {
    await sendPresence(c("bob"), "unsubscribe", "alice");
    // The server routes the unsubscribe to u@C (RFC 6121 §3.3); it has no reply to wait for.
    await until(async () => (await ownSubscriptions(c("bob"), "alice")).length === 0);
    forget(c("bob"));
    await publishPost(c("alice"), "bob left");
    await sleep(400);
    expect(c("bob").received.filter(items("alice"))).toEqual([]);
    expect(c("bob").received.filter(chatPost("alice"))).toEqual([]);
  });
});
