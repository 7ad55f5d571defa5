/**
 * Issue 4: answers from anyone but the owner change nothing and are refused (a forged §8.6 form,
 * §8.7 get-pending, §8.8 / §8.9 owner requests, the account commands); a subscribe whose `jid`
 * is not the sender's bare JID is bad-request + invalid-jid (§6.1.3.1) and stores nothing. The
 * admin's `stats` command shows every refusal counted by reason.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import { NS_DATA_FORMS } from "../../schemas/src/ns.js";
import {
  type AuthWorld,
  answerMessage,
  approvalFormFor,
  authorizationForm,
  bare,
  commandIq,
  counterDelta,
  errorMessage,
  listed,
  lock,
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
  expectError,
  forget,
  NODE,
  ownerIq,
  publishPost,
  pubsubIq,
  sleep,
  svc,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";

describe.each(WORLDS)("refused answers and invalid JIDs on %s with %s", (kind, store) => {
  let w: AuthWorld;
  const c = (user: string) => w.clients[user] as TestClient;
  const alice = () => c("alice");
  const mallory = () => c("mallory");

  /** alice's pending requests are still exactly bob's and mallory's, and nobody was told. */
  const nothingChanged = async () => {
    expect(await listed(alice(), "pending")).toEqual([bare("bob"), bare("mallory")]);
    expect(await listed(alice(), "followers")).toEqual([]);
    expect(await ownSubscriptions(c("bob"), "alice")).toEqual([[bare("bob"), "pending"]]);
    expect(c("bob").received.filter(subscriptionEvent("alice", bare("bob"), "subscribed"))).toEqual(
      [],
    );
  };

  beforeAll(async () => {
    w = await startAuthWorld(kind, ["alice", "bob", "mallory", "carol"], {}, store);
    await publishPost(alice(), "locked post");
    await publishPost(c("carol"), "open post");
    await lock(alice(), "alice");
    expect(subscriptionOf(await subscribeIq(c("bob"), "alice")).subscription).toBe("pending");
    expect(subscriptionOf(await subscribeIq(mallory(), "alice")).subscription).toBe("pending");
    await alice().waitFor(approvalFormFor("alice", bare("mallory")));
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("a forged approval form from a third user: error message forbidden, still pending", async () => {
    const before = await stats(c("admin"));
    // mallory approves bob, then itself, with the owner's form (§8.6 "Owner approves").
    await mallory().send(answerMessage("alice", bare("bob"), true, "forged-1"));
    await mallory().send(answerMessage("alice", bare("mallory"), true, "forged-2"));
    for (const id of ["forged-1", "forged-2"]) {
      const err = await mallory().waitFor(errorMessage("alice", id));
      expect(err.attrs.to).toMatch(/^mallory@localhost/);
      expect(parseStanzaError(err)).toMatchObject({ type: "auth", condition: "forbidden" });
    }
    await sleep(200);
    await nothingChanged();
    expect(await ownSubscriptions(mallory(), "alice")).toEqual([[bare("mallory"), "pending"]]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:insufficient-privileges": 2,
    });
  });

  it("a non-owner's §8.7 get-pending is forbidden and sends no forms", async () => {
    const before = await stats(c("admin"));
    forget(mallory(), alice());
    const reply = await mallory().iq(commandIq(svc("alice"), GET_PENDING));
    expect(reply.attrs.type).toBe("error");
    expect(parseStanzaError(reply).condition).toBe("forbidden");
    // Straight to the second stage, with the form submitted in the first request.
    const direct = await mallory().iq(
      commandIq(
        svc("alice"),
        GET_PENDING,
        "action='execute'",
        `<x xmlns='${NS_DATA_FORMS}' type='submit'><field var='pubsub#node'><value>${NODE}</value></field></x>`,
      ),
    );
    expect(parseStanzaError(direct).condition).toBe("forbidden");
    await sleep(300);
    expect(mallory().received.filter((el) => authorizationForm(el) !== undefined)).toEqual([]);
    expect(alice().received.filter((el) => authorizationForm(el) !== undefined)).toEqual([]);
    await nothingChanged();
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:insufficient-privileges": 2,
    });
  });

  it("a non-owner's §8.8 / §8.9 requests are forbidden and change nothing", async () => {
    const before = await stats(c("admin"));
    const setSubs = await mallory().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<subscriptions node='${NODE}'><subscription jid='${bare("bob")}' subscription='subscribed'/>` +
          `<subscription jid='${bare("mallory")}' subscription='subscribed'/></subscriptions>`,
      ),
    );
    expectError(setSubs, { type: "auth", condition: "forbidden" });
    expectError(
      await mallory().iq(ownerIq("get", svc("alice"), `<subscriptions node='${NODE}'/>`)),
      {
        type: "auth",
        condition: "forbidden",
      },
    );
    const setAffs = await mallory().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<affiliations node='${NODE}'><affiliation jid='${bare("mallory")}' affiliation='member'/></affiliations>`,
      ),
    );
    expectError(setAffs, { type: "auth", condition: "forbidden" });
    // Unsubscribing someone else is an owner's request too.
    const unsub = await mallory().iq(
      pubsubIq("set", svc("alice"), `<unsubscribe node='${NODE}' jid='${bare("bob")}'/>`),
    );
    expectError(unsub, { type: "auth", condition: "forbidden" });
    await nothingChanged();
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:insufficient-privileges": 4,
    });
  });

  it("the approve command acts only on the sender's own account", async () => {
    const out = await runCommand(mallory(), "approve", { jid: bare("bob") });
    expect(out.reply.attrs.type).toBe("error");
    expect(parseStanzaError(out.reply).condition).toBe("item-not-found");
    const self = await runCommand(mallory(), "approve", { jid: bare("mallory") });
    expect(self.reply.attrs.type).toBe("error");
    await nothingChanged();
  });

  it("only the service's admins may read the counters", async () => {
    const out = await runCommand(mallory(), "stats");
    expect(out.reply.attrs.type).toBe("error");
    expect(parseStanzaError(out.reply).condition).toBe("forbidden");
  });

  it("subscribe with another user's jid: bad-request + invalid-jid, nothing stored (§6.1.3.1)", async () => {
    const before = await stats(c("admin"));
    for (const [owner, jid] of [
      ["alice", bare("carol")],
      ["carol", bare("bob")],
      ["carol", `${bare("bob")}/phone`],
    ] as const) {
      expectError(await subscribeIq(mallory(), owner, jid), {
        type: "modify",
        condition: "bad-request",
        pubsub: "invalid-jid",
      });
    }
    expect(await ownSubscriptions(c("bob"), "carol")).toEqual([]);
    expect(await ownSubscriptions(mallory(), "carol")).toEqual([]);
    expect(await listed(c("carol"), "followers")).toEqual([]);
    await nothingChanged();
    expect(counterDelta(before, await stats(c("admin")))).toEqual({ "refused:invalid-jid": 3 });
    // The sender's own full JID is its own: accepted.
    const own = subscriptionOf(await subscribeIq(mallory(), "carol", `${bare("mallory")}/desk`));
    expect(own).toMatchObject({ jid: `${bare("mallory")}/desk`, subscription: "subscribed" });
  });

  it("after all that, the owner's own answer still works", async () => {
    forget(c("bob"));
    await alice().send(answerMessage("alice", bare("bob"), true));
    await c("bob").waitFor(subscriptionEvent("alice", bare("bob"), "subscribed"));
    expect(await listed(alice(), "pending")).toEqual([bare("mallory")]);
  });
});
