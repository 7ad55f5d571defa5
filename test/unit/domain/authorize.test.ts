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
function locked(options: Partial<PubsubServiceOptions> = {}): Harness {
  const h = withPosts(["a"], options);
  h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
  return h;
}

describe("approving and denying pending requests", () => {
  it("approval subscribes, tells the subscriber and sends the last item", () => {
    const { service } = locked();
    service.subscribe(CAROL, NODE, { jid: CAROL });
    const out = service.approveSubscription(`${ALICE}/phone`, NODE, CAROL, true);
    expect(out.result.state).toBe("subscribed");
    expect(eventTypes(out.events)).toEqual(["subscription-changed", "last-item-for-subscriber"]);
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: CAROL,
      state: "subscribed",
      cause: "approved",
    });
    expect(service.getItems(CAROL, NODE).result.count).toBe(1);
  });

  it("denial removes the request, tells the requester and counts denied-by-owner", () => {
    const { service } = locked();
    service.subscribe(CAROL, NODE, { jid: CAROL });
    const out = service.approveSubscription(ALICE, NODE, CAROL, false);
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: CAROL,
      state: "none",
      cause: "denied",
    });
    expect(service.getNodeSubscriptions(ALICE, NODE).result).toEqual([]);
    expect(service.getRefusalCounts()["denied-by-owner"]).toBe(1);
  });

  it("an answer from anyone but the owner is forbidden and changes nothing", () => {
    const { service } = locked();
    service.subscribe(CAROL, NODE, { jid: CAROL });
    expectError(() => service.approveSubscription(BOB, NODE, CAROL, true), {
      condition: "forbidden",
    });
    expectError(() => service.approveSubscription(CAROL, NODE, CAROL, true), {
      condition: "forbidden",
    });
    expect(service.getNodeSubscriptions(ALICE, NODE).result.map((s) => s.state)).toEqual([
      "pending",
    ]);
  });

  it("answers item-not-found without a pending request; approving twice is a no-op", () => {
    const { service } = locked();
    expectError(() => service.approveSubscription(ALICE, NODE, CAROL, true), {
      condition: "item-not-found",
    });
    service.subscribe(CAROL, NODE, { jid: CAROL });
    service.approveSubscription(ALICE, NODE, CAROL, true);
    expect(service.approveSubscription(ALICE, NODE, CAROL, true).events).toEqual([]);
    expectError(() => service.approveSubscription(ALICE, NODE, CAROL, false), {
      condition: "item-not-found",
    });
  });

  it("lists pending requests for the owner only, per node or for the whole service", () => {
    const { service, clock } = locked();
    service.subscribe(CAROL, NODE, { jid: CAROL });
    clock.now += 1;
    service.subscribe(BOB, NODE, { jid: BOB });
    expect(service.listPending(ALICE, NODE.service).result.map((s) => s.jid)).toEqual([CAROL, BOB]);
    expect(service.listPending(ALICE, NODE.service, NODE.node).result).toHaveLength(2);
    expectError(() => service.listPending(BOB, NODE.service), { condition: "forbidden" });
    expectError(() => service.listPending(ALICE, NODE.service, "nope"), {
      condition: "item-not-found",
    });
  });

  it("approves pending requests when the owner makes the requester a member, or unlocks the node", () => {
    const { service } = locked();
    service.subscribe(CAROL, NODE, { jid: CAROL });
    service.subscribe(BOB, NODE, { jid: BOB });
    const member = service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "member" },
    ]);
    expect(ofType(member.events, "subscription-changed").map((e) => [e.jid, e.state])).toEqual([
      [CAROL, "subscribed"],
    ]);
    const unlocked = service.configureNode(ALICE, NODE, { accessModel: "open" });
    expect(ofType(unlocked.events, "subscription-changed").map((e) => [e.jid, e.cause])).toEqual([
      [BOB, "approved"],
    ]);
  });

  it("keeps existing followers when the owner locks the node", () => {
    const h = withPosts(["a"]);
    h.service.subscribe(BOB, NODE, { jid: BOB });
    const out = h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(ofType(out.events, "subscription-changed")).toEqual([]);
    expect(h.service.getItems(BOB, NODE).result.count).toBe(1);
  });
});

describe("abuse limits", () => {
  const limits = {
    maxPendingPerDomainPerNode: 2,
    maxRequestsPerDomainPerMinute: 3,
    maxPendingPerNode: 3,
  };
  const remote = (i: number, domain = "remote.example") => `user${i}@${domain}`;

  it("refuses a remote domain's pending request over its per-node limit, storing nothing", () => {
    const { service } = locked({ limits });
    service.subscribe(remote(1), NODE, { jid: remote(1) });
    service.subscribe(remote(2), NODE, { jid: remote(2) });
    expectError(() => service.subscribe(remote(3), NODE, { jid: remote(3) }), {
      condition: "policy-violation",
      reason: "limit-pending-per-domain",
    });
    expect(service.listPending(ALICE, NODE.service).result).toHaveLength(2);
    expect(service.getRefusalCounts()["limit-pending-per-domain"]).toBe(1);
  });

  it("refuses the fourth request per minute from one remote domain, and accepts again after a minute", () => {
    const h = withPosts(["a"], { limits });
    for (const i of [1, 2, 3]) h.service.subscribe(remote(i), NODE, { jid: remote(i) });
    expectError(() => h.service.subscribe(remote(4), NODE, { jid: remote(4) }), {
      condition: "policy-violation",
      reason: "limit-requests-per-minute",
    });
    expect(
      h.service.subscribe(remote(5, "other.example"), NODE, { jid: remote(5, "other.example") })
        .result.state,
    ).toBe("subscribed");
    h.clock.now += RATE_WINDOW_MS;
    expect(h.service.subscribe(remote(4), NODE, { jid: remote(4) }).result.state).toBe(
      "subscribed",
    );
  });

  it("refuses one remote account over its own per-minute limit, leaving its domain's budget to the others", () => {
    const h = withPosts(["a"], {
      limits: { maxRequestsPerDomainPerMinute: 5, maxRequestsPerRequesterPerMinute: 2 },
    });
    const eve = (r: number) => `eve@rogue.example/r${r}`;
    h.service.subscribe(eve(1), NODE, { jid: eve(1) });
    h.service.subscribe(eve(2), NODE, { jid: eve(2) });
    for (const r of [3, 4, 5, 6, 7])
      expectError(() => h.service.subscribe(eve(r), NODE, { jid: eve(r) }), {
        condition: "policy-violation",
        reason: "limit-requests-per-requester",
      });
    // Her refused requests spent nothing: three more accounts of her domain still get in.
    for (const u of ["ann", "ben", "cid"]) {
      const jid = `${u}@rogue.example`;
      expect(h.service.subscribe(jid, NODE, { jid }).result.state).toBe("subscribed");
    }
    expectError(
      () => h.service.subscribe("dan@rogue.example", NODE, { jid: "dan@rogue.example" }),
      {
        condition: "policy-violation",
        reason: "limit-requests-per-minute",
      },
    );
    expect(h.service.getRefusalCounts()["limit-requests-per-requester"]).toBe(5);
    h.clock.now += RATE_WINDOW_MS;
    expect(h.service.subscribe(eve(8), NODE, { jid: eve(8) }).result.state).toBe("subscribed");
  });

  it("does not rate-limit the users domain", () => {
    const { service } = withPosts(["a"], { limits });
    for (const i of [1, 2, 3, 4, 5])
      service.subscribe(`u${i}@example.org`, NODE, { jid: `u${i}@example.org` });
    expect(service.getNodeSubscriptions(ALICE, NODE).result).toHaveLength(5);
  });

  it("refuses any pending request over the node's total pending limit", () => {
    const { service } = locked({ limits });
    const domains = ["a.example", "b.example", "c.example", "d.example"];
    for (const d of domains.slice(0, 3))
      service.subscribe(remote(1, d), NODE, { jid: remote(1, d) });
    expectError(
      () => service.subscribe(remote(9, "d.example"), NODE, { jid: remote(9, "d.example") }),
      { condition: "policy-violation", reason: "limit-pending-per-node" },
    );
    expect(service.getRefusalCounts()["limit-pending-per-node"]).toBe(1);
  });
});

describe("pending expiry", () => {
  it("denies requests older than 7 days, tells the requesters and counts them", () => {
    const h = locked();
    h.service.subscribe(CAROL, NODE, { jid: CAROL });
    h.clock.now += 24 * 3600 * 1000;
    h.service.subscribe(BOB, NODE, { jid: BOB });
    h.clock.now += 6 * 24 * 3600 * 1000;
    const out = h.service.expirePending();
    expect(out.result.map((s) => [s.jid, s.state])).toEqual([[CAROL, "none"]]);
    expect(out.events).toMatchObject([
      { type: "subscription-changed", jid: CAROL, state: "none", cause: "expired" },
    ]);
    expect(h.service.listPending(ALICE, NODE.service).result.map((s) => s.jid)).toEqual([BOB]);
    expect(h.service.getRefusalCounts()["pending-expired"]).toBe(1);
  });

  it("honours a configured TTL and leaves nothing to do the second time", () => {
    const h = locked({ limits: { pendingTtlMs: 1000 } });
    h.service.subscribe(CAROL, NODE, { jid: CAROL });
    h.clock.now += 999;
    expect(h.service.expirePending().result).toEqual([]);
    h.clock.now += 1;
    expect(h.service.expirePending().result).toHaveLength(1);
    expect(h.service.expirePending().result).toEqual([]);
  });
});
