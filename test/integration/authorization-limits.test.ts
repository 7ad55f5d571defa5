/**
 * Issue 4, abuse limits and expiry, configured in the component's config file: over
 * `maxPendingPerNode` a request is refused with policy-violation and nothing is stored; with
 * `pendingExpirySeconds` a pending request becomes denied by itself and the requester is told.
 * (The per-remote-domain limits apply only to remote domains: the federation test's.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import {
  type AuthWorld,
  answerMessage,
  approvalFormFor,
  bare,
  counterDelta,
  errorMessage,
  listed,
  lock,
  ownSubscriptions,
  startAuthWorld,
  stats,
  subscribeIq,
  subscriptionEvent,
  subscriptionOf,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import { forget, publishPost, sleep } from "../harness/pubsub.js";
import { SERVER_KINDS } from "../harness/servers.js";

describe.each(SERVER_KINDS)("abuse limits and expiry on %s", (kind) => {
  let w: AuthWorld;
  const c = (user: string) => w.clients[user] as TestClient;
  const alice = () => c("alice");

  beforeAll(async () => {
    w = await startAuthWorld(kind, ["alice", "bob", "carol", "dave", "erin"], {
      limits: { maxPendingPerNode: 2 },
    });
    await publishPost(alice(), "locked post");
    await lock(alice(), "alice");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("maxPendingPerNode 2: the third pending request is policy-violation, nothing stored", async () => {
    for (const u of ["bob", "carol"]) {
      expect(subscriptionOf(await subscribeIq(c(u), "alice")).subscription).toBe("pending");
    }
    await alice().waitFor(approvalFormFor("alice", bare("carol")));
    const before = await stats(c("admin"));
    const reply = await subscribeIq(c("dave"), "alice");
    expect(reply.attrs.type).toBe("error");
    const err = parseStanzaError(reply);
    expect(err).toMatchObject({ type: "wait", condition: "policy-violation" });
    expect(err.text).toBe("this node has too many pending requests");
    await sleep(300);
    expect(alice().received.filter(approvalFormFor("alice", bare("dave")))).toEqual([]);
    expect(await ownSubscriptions(c("dave"), "alice")).toEqual([]);
    expect(await listed(alice(), "pending")).toEqual([bare("bob"), bare("carol")]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:limit-pending-per-node": 1,
    });

    // An answered request frees its place.
    await alice().send(answerMessage("alice", bare("bob"), true));
    await c("bob").waitFor(subscriptionEvent("alice", bare("bob"), "subscribed"));
    expect(subscriptionOf(await subscribeIq(c("dave"), "alice")).subscription).toBe("pending");
  });

  it("pendingExpirySeconds 2: pending requests become denied by themselves; requesters are told", async () => {
    forget(c("carol"), c("dave"));
    const before = await stats(c("admin"));
    await w.reconfigure({ limits: { maxPendingPerNode: 2, pendingExpirySeconds: 2 } });
    // carol's and dave's requests are older than 2 s by now: the first sweep denies them.
    for (const u of ["carol", "dave"]) {
      const told = await c(u).waitFor(subscriptionEvent("alice", bare(u), "none"), 5000);
      expect(told.getChildText("body")).toBe(
        "Your request to follow alice@localhost's microblog expired.",
      );
      expect(await ownSubscriptions(c(u), "alice")).toEqual([]);
    }
    expect(await listed(alice(), "pending")).toEqual([]);

    // A new request lives about 2 s (the sweep runs every second).
    forget(c("erin"));
    const start = Date.now();
    expect(subscriptionOf(await subscribeIq(c("erin"), "alice")).subscription).toBe("pending");
    expect(await listed(alice(), "pending")).toEqual([bare("erin")]);
    await c("erin").waitFor(subscriptionEvent("alice", bare("erin"), "none"), 5000);
    const lived = Date.now() - start;
    expect(lived).toBeGreaterThanOrEqual(1900);
    expect(lived).toBeLessThan(4500);
    expect(await listed(alice(), "pending")).toEqual([]);
    expect(await ownSubscriptions(c("erin"), "alice")).toEqual([]);
    // Expired means denied: the owner's late approval finds nothing to approve.
    await alice().send(answerMessage("alice", bare("erin"), true, "late-1"));
    const late = await alice().waitFor(errorMessage("alice", "late-1"));
    expect(parseStanzaError(late).condition).toBe("item-not-found");
    expect(await ownSubscriptions(c("erin"), "alice")).toEqual([]);
    // bob, approved before, is untouched.
    expect(await listed(alice(), "followers")).toEqual([bare("bob")]);
    expect(counterDelta(before, await stats(c("admin")))).toEqual({
      "refused:pending-expired": 3,
    });
  });
});
