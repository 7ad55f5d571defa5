import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS } from "../../../component/src/domain/capabilities.js";
import type { PubsubServiceOptions } from "../../../component/src/domain/pubsub-service.js";
import {
  ALICE,
  BOB,
  CAROL,
  eventTypes,
  expectError,
  type Harness,
  NODE,
  ofType,
  withPosts,
} from "./fixture.js";

/** Alice's node under authorize, with one post. */
async function locked(options: Partial<PubsubServiceOptions> = {}): Promise<Harness> {
  const h = await withPosts(["a"], options);
  await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
  return h;
}

describe("approving and denying pending requests", () => {
  it("approval subscribes, tells the subscriber and sends the last item", async () => {
    const { service } = await locked();
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    const out = await service.approveSubscription(`${ALICE}/phone`, NODE, CAROL, true);
    expect(out.result.state).toBe("subscribed");
    expect(eventTypes(out.events)).toEqual(["subscription-changed", "last-item-for-subscriber"]);
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: CAROL,
      state: "subscribed",
      cause: "approved",
    });
    expect((await service.getItems(CAROL, NODE)).result.count).toBe(1);
  });

  it("denial removes the request, tells the requester and counts denied-by-owner", async () => {
    const { service } = await locked();
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    const out = await service.approveSubscription(ALICE, NODE, CAROL, false);
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: CAROL,
      state: "none",
      cause: "denied",
    });
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result).toEqual([]);
    expect((await service.getRefusalCounts())["denied-by-owner"]).toBe(1);
  });

  it("an answer from anyone but the owner is forbidden and changes nothing", async () => {
    const { service } = await locked();
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await expectError(() => service.approveSubscription(BOB, NODE, CAROL, true), {
      condition: "forbidden",
    });
    await expectError(() => service.approveSubscription(CAROL, NODE, CAROL, true), {
      condition: "forbidden",
    });
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => s.state)).toEqual([
      "pending",
    ]);
  });

  it("answers item-not-found without a pending request; approving twice is a no-op", async () => {
    const { service } = await locked();
    await expectError(() => service.approveSubscription(ALICE, NODE, CAROL, true), {
      condition: "item-not-found",
    });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await service.approveSubscription(ALICE, NODE, CAROL, true);
    expect((await service.approveSubscription(ALICE, NODE, CAROL, true)).events).toEqual([]);
    await expectError(() => service.approveSubscription(ALICE, NODE, CAROL, false), {
      condition: "item-not-found",
    });
  });

  it("lists pending requests for the owner only, per node or for the whole service", async () => {
    const { service, clock } = await locked();
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    clock.now += 1;
    await service.subscribe(BOB, NODE, { jid: BOB });
    expect((await service.listPending(ALICE, NODE.service)).result.map((s) => s.jid)).toEqual([
      CAROL,
      BOB,
    ]);
    expect((await service.listPending(ALICE, NODE.service, NODE.node)).result).toHaveLength(2);
    await expectError(() => service.listPending(BOB, NODE.service), { condition: "forbidden" });
    await expectError(() => service.listPending(ALICE, NODE.service, "nope"), {
      condition: "item-not-found",
    });
  });

  it("approves pending requests when the owner makes the requester a member, or unlocks the node", async () => {
    const { service } = await locked();
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await service.subscribe(BOB, NODE, { jid: BOB });
    const member = await service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "member" },
    ]);
    expect(ofType(member.events, "subscription-changed").map((e) => [e.jid, e.state])).toEqual([
      [CAROL, "subscribed"],
    ]);
    const unlocked = await service.configureNode(ALICE, NODE, { accessModel: "open" });
    expect(ofType(unlocked.events, "subscription-changed").map((e) => [e.jid, e.cause])).toEqual([
      [BOB, "approved"],
    ]);
  });

  it("keeps existing followers when the owner locks the node", async () => {
    const h = await withPosts(["a"]);
    await h.service.subscribe(BOB, NODE, { jid: BOB });
    const out = await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(ofType(out.events, "subscription-changed")).toEqual([]);
    expect((await h.service.getItems(BOB, NODE)).result.count).toBe(1);
  });
});

describe("abuse limits", () => {
  const limits = {
    maxPendingPerDomainPerNode: 2,
    maxRequestsPerDomainPerMinute: 3,
    maxPendingPerNode: 3,
  };
  const remote = (i: number, domain = "remote.example") => `user${i}@${domain}`;

  it("refuses a remote domain's pending request over its per-node limit, storing nothing", async () => {
    const { service } = await locked({ limits });
    await service.subscribe(remote(1), NODE, { jid: remote(1) });
    await service.subscribe(remote(2), NODE, { jid: remote(2) });
    await expectError(() => service.subscribe(remote(3), NODE, { jid: remote(3) }), {
      condition: "policy-violation",
      reason: "limit-pending-per-domain",
    });
    expect((await service.listPending(ALICE, NODE.service)).result).toHaveLength(2);
    expect((await service.getRefusalCounts())["limit-pending-per-domain"]).toBe(1);
  });

  it("refuses the fourth request per minute from one remote domain, and accepts again after a minute", async () => {
    const h = await withPosts(["a"], { limits });
    for (const i of [1, 2, 3]) await h.service.subscribe(remote(i), NODE, { jid: remote(i) });
    await expectError(() => h.service.subscribe(remote(4), NODE, { jid: remote(4) }), {
      condition: "policy-violation",
      reason: "limit-requests-per-minute",
    });
    expect(
      (
        await h.service.subscribe(remote(5, "other.example"), NODE, {
          jid: remote(5, "other.example"),
        })
      ).result.state,
    ).toBe("subscribed");
    h.clock.now += RATE_WINDOW_MS;
    expect((await h.service.subscribe(remote(4), NODE, { jid: remote(4) })).result.state).toBe(
      "subscribed",
    );
  });

  it("refuses one remote account over its own per-minute limit, leaving its domain's budget to the others", async () => {
    const h = await withPosts(["a"], {
      limits: { maxRequestsPerDomainPerMinute: 5, maxRequestsPerRequesterPerMinute: 2 },
    });
    const eve = (r: number) => `eve@rogue.example/r${r}`;
    await h.service.subscribe(eve(1), NODE, { jid: eve(1) });
    await h.service.subscribe(eve(2), NODE, { jid: eve(2) });
    for (const r of [3, 4, 5, 6, 7])
      await expectError(() => h.service.subscribe(eve(r), NODE, { jid: eve(r) }), {
        condition: "policy-violation",
        reason: "limit-requests-per-requester",
      });
    // Her refused requests spent nothing: three more accounts of her domain still get in.
    for (const u of ["ann", "ben", "cid"]) {
      const jid = `${u}@rogue.example`;
      expect((await h.service.subscribe(jid, NODE, { jid })).result.state).toBe("subscribed");
    }
    await expectError(
      () => h.service.subscribe("dan@rogue.example", NODE, { jid: "dan@rogue.example" }),
      {
        condition: "policy-violation",
        reason: "limit-requests-per-minute",
      },
    );
    expect((await h.service.getRefusalCounts())["limit-requests-per-requester"]).toBe(5);
    h.clock.now += RATE_WINDOW_MS;
    expect((await h.service.subscribe(eve(8), NODE, { jid: eve(8) })).result.state).toBe(
      "subscribed",
    );
  });

  it("does not rate-limit the users domain", async () => {
    const { service } = await withPosts(["a"], { limits });
    for (const i of [1, 2, 3, 4, 5])
      await service.subscribe(`u${i}@example.org`, NODE, { jid: `u${i}@example.org` });
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result).toHaveLength(5);
  });

  it("refuses any pending request over the node's total pending limit", async () => {
    const { service } = await locked({ limits });
    const domains = ["a.example", "b.example", "c.example", "d.example"];
    for (const d of domains.slice(0, 3))
      await service.subscribe(remote(1, d), NODE, { jid: remote(1, d) });
    await expectError(
      () => service.subscribe(remote(9, "d.example"), NODE, { jid: remote(9, "d.example") }),
      { condition: "policy-violation", reason: "limit-pending-per-node" },
    );
    expect((await service.getRefusalCounts())["limit-pending-per-node"]).toBe(1);
  });
});

describe("pending expiry", () => {
  it("denies requests older than 7 days, tells the requesters and counts them", async () => {
    const h = await locked();
    await h.service.subscribe(CAROL, NODE, { jid: CAROL });
    h.clock.now += 24 * 3600 * 1000;
    await h.service.subscribe(BOB, NODE, { jid: BOB });
    h.clock.now += 6 * 24 * 3600 * 1000;
    const out = await h.service.expirePending();
    expect(out.result.map((s) => [s.jid, s.state])).toEqual([[CAROL, "none"]]);
    expect(out.events).toMatchObject([
      { type: "subscription-changed", jid: CAROL, state: "none", cause: "expired" },
    ]);
    expect((await h.service.listPending(ALICE, NODE.service)).result.map((s) => s.jid)).toEqual([
      BOB,
    ]);
    expect((await h.service.getRefusalCounts())["pending-expired"]).toBe(1);
  });

  it("honours a configured TTL and leaves nothing to do the second time", async () => {
    const h = await locked({ limits: { pendingTtlMs: 1000 } });
    await h.service.subscribe(CAROL, NODE, { jid: CAROL });
    h.clock.now += 999;
    expect((await h.service.expirePending()).result).toEqual([]);
    h.clock.now += 1;
    expect((await h.service.expirePending()).result).toHaveLength(1);
    expect((await h.service.expirePending()).result).toEqual([]);
  });
});
