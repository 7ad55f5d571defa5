/**
 * Issue 4, bans: the owner blocks a JID (the `block` command, or the §8.9 outcast affiliation) or
 * a whole domain; the banned requester gets `forbidden`, an existing subscription or pending
 * request ends (the subscriber is told, §8.7 note / §12.7) and no further posts reach it. The
 * operator's lists: the users domains are never caught by allowDomains, and a denyDomains entry
 * refuses and silences the users of that domain. (Deny and allow lists for remote domains are the
 * federation test's.)
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthWorld,
  bare,
  counterDelta,
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
  configure,
  D,
  eventFrom,
  expectError,
  expectResult,
  forget,
  getItems,
  hasItem,
  NODE,
  NS_PUBSUB_OWNER,
  ownerIq,
  publishPost,
  sleep,
  svc,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const FORBIDDEN = { type: "auth", condition: "forbidden" } as const;

describe.each(WORLDS)("bans on %s with %s", (kind, store) => {
  let w: AuthWorld;
  const c = (user: string) => w.clients[user] as TestClient;
  const alice = () => c("alice");

  /** alice publishes; `hear` get the post, `deaf` get nothing from alice. */
  const publishTo = async (hear: string[], deaf: string[]) => {
    forget(...hear.map(c), ...deaf.map(c));
    const id = await publishPost(alice(), `post ${Math.random()}`);
    for (const u of hear) await c(u).waitFor(eventFrom("alice", hasItem(id)));
    await sleep(300);
    for (const u of deaf) {
      expect(
        c(u).received.filter(eventFrom("alice", (e) => e.getChild("items") !== undefined)),
      ).toEqual([]);
    }
  };
  const affiliations = async () => {
    const reply = await alice().iq(ownerIq("get", svc("alice"), `<affiliations node='${NODE}'/>`));
    expectResult(reply);
    return reply
      .getChild("pubsub", NS_PUBSUB_OWNER)!
      .getChild("affiliations")!
      .getChildren("affiliation")
      .map((a) => [a.attrs.jid, a.attrs.affiliation]);
  };

  beforeAll(async () => {
    // The operator allows one remote domain and denies another: neither touches the users domain.
    w = await startAuthWorld(
      kind,
      ["alice", "bob", "carol", "dave", "erin", "frank"],
      {
        allowDomains: ["friends.example"],
        denyDomains: ["rogue.example"],
      },
      store,
    );
    await publishPost(alice(), "first");
    for (const u of ["bob", "carol", "dave"]) {
      expect(subscriptionOf(await subscribeIq(c(u), "alice")).subscription).toBe("subscribed");
    }
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("local users follow although allowDomains names another domain", async () => {
    await publishTo(["bob", "carol", "dave"], []);
    expect(await listed(alice(), "followers")).toEqual(["bob", "carol", "dave"].map(bare));
  });

  it("the block command bans a JID: its subscription ends, it is told, it gets forbidden", async () => {
    forget(c("bob"));
    const out = await runCommand(alice(), "block", { jid: bare("bob") });
    expect(out.status).toBe("completed");
    expect(out.note).toBe(`${bare("bob")} is blocked.`);
    const told = await c("bob").waitFor(subscriptionEvent("alice", bare("bob"), "none"));
    expect(told.getChildText("body")).toContain("You no longer follow alice@localhost");
    expect(await affiliations()).toContainEqual([bare("bob"), "outcast"]);
    await publishTo(["carol", "dave"], ["bob"]);

    const before = await stats(c("admin"));
    expectError(await subscribeIq(c("bob"), "alice"), FORBIDDEN);
    expectError(await getItems(c("bob"), "alice"), FORBIDDEN);
    expect(await ownSubscriptions(c("bob"), "alice")).toEqual([]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({ "refused:outcast-jid": 2 });

    expect((await runCommand(alice(), "unblock", { jid: bare("bob") })).status).toBe("completed");
    expect(subscriptionOf(await subscribeIq(c("bob"), "alice")).subscription).toBe("subscribed");
  });

  it("the §8.9 outcast affiliation bans a JID the same way", async () => {
    forget(c("carol"));
    expectResult(
      await alice().iq(
        ownerIq(
          "set",
          svc("alice"),
          `<affiliations node='${NODE}'><affiliation jid='${bare("carol")}' affiliation='outcast'/></affiliations>`,
        ),
      ),
    );
    await c("carol").waitFor(subscriptionEvent("alice", bare("carol"), "none"));
    await publishTo(["bob", "dave"], ["carol"]);
    expectError(await subscribeIq(c("carol"), "alice"), FORBIDDEN);
    expect(await listed(alice(), "followers")).toEqual(["bob", "dave"].map(bare));
  });

  it("a ban ends a pending request too; the requester is told none", async () => {
    await lock(alice(), "alice");
    expect(subscriptionOf(await subscribeIq(c("frank"), "alice")).subscription).toBe("pending");
    expect(await listed(alice(), "pending")).toEqual([bare("frank")]);
    forget(c("frank"));
    expect((await runCommand(alice(), "block", { jid: bare("frank") })).status).toBe("completed");
    await c("frank").waitFor(subscriptionEvent("alice", bare("frank"), "none"));
    expect(await listed(alice(), "pending")).toEqual([]);
    expectError(await subscribeIq(c("frank"), "alice"), FORBIDDEN);
    await configure(alice(), "alice", { "pubsub#access_model": "open" });
  });

  it("blocking a whole domain bans all its users but the owner; unblocking lets them back", async () => {
    forget(c("bob"), c("dave"));
    const out = await runCommand(alice(), "block", { jid: D });
    expect(out.note).toBe(`${D} is blocked.`);
    await c("bob").waitFor(subscriptionEvent("alice", bare("bob"), "none"));
    await c("dave").waitFor(subscriptionEvent("alice", bare("dave"), "none"));
    expect(await listed(alice(), "followers")).toEqual([]);
    expect(await affiliations()).toContainEqual([D, "outcast"]);

    const before = await stats(c("admin"));
    expectError(await subscribeIq(c("erin"), "alice"), FORBIDDEN);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({ "refused:outcast-domain": 1 });
    await publishTo([], ["bob", "dave", "erin"]);
    // The owner still reads and posts to their own microblog.
    expectResult(await getItems(alice(), "alice"));

    expect((await runCommand(alice(), "unblock", { jid: D })).status).toBe("completed");
    expect(subscriptionOf(await subscribeIq(c("erin"), "alice")).subscription).toBe("subscribed");
    // carol's own ban outlives the domain's.
    expectError(await subscribeIq(c("carol"), "alice"), FORBIDDEN);
  });

  it("operator denyDomains: a denied domain's user is unsubscribed, told, and refused", async () => {
    expect(await listed(alice(), "followers")).toEqual([bare("erin")]);
    forget(c("erin"));
    await w.reconfigure({ denyDomains: [D] });
    // At start the component re-applies the operator's lists: erin's subscription ends, she is told.
    await c("erin").waitFor(subscriptionEvent("alice", bare("erin"), "none"));
    expect(await listed(alice(), "followers")).toEqual([]);
    const before = await stats(c("admin"));
    expectError(await subscribeIq(c("dave"), "alice"), FORBIDDEN);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:service-denied-domain": 1,
    });
    await publishTo([], ["erin", "dave"]);
    // The owner of a microblog is never denied its own.
    expectResult(await getItems(alice(), "alice"));
  });
});
