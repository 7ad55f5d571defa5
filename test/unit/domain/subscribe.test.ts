import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  CAROL,
  EVE,
  eventTypes,
  expectError,
  makeHarness,
  NODE,
  ofType,
  withPosts,
} from "./fixture.js";

describe("subscribe", () => {
  it("refuses a jid other than the sender's bare JID: bad-request + invalid-jid, counted", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.subscribe(BOB, NODE, { jid: CAROL }), {
      condition: "bad-request",
      pubsubCondition: "invalid-jid",
      reason: "invalid-jid",
    });
    expect((await service.getRefusalCounts())["invalid-jid"]).toBe(1);
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result).toEqual([]);
  });

  it("answers item-not-found for a node that does not exist, and at an address that is nobody's", async () => {
    const { service } = makeHarness();
    await expectError(() => service.subscribe(BOB, { ...NODE, node: "other" }, { jid: BOB }), {
      condition: "item-not-found",
    });
    const nobody = { service: "nobody@elsewhere.example", node: NODE.node };
    await expectError(() => service.subscribe(BOB, nobody, { jid: BOB }), {
      condition: "item-not-found",
    });
  });

  it("a user's microblog that was never published to: created on the first subscription", async () => {
    const { service } = makeHarness();
    const out = await service.subscribe(BOB, NODE, { jid: BOB });
    expect(out.result.state).toBe("subscribed");
    expect(out.events.map((e) => e.type)).toEqual(["node-created", "subscription-changed"]);
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => s.jid)).toEqual([
      BOB,
    ]);
  });

  it("open: subscribes at once and sends the last published item", async () => {
    const h = await withPosts(["a", "b"]);
    const out = await h.service.subscribe(`${BOB}/phone`, NODE, { jid: `${BOB}/phone` });
    expect(out.result).toEqual({
      ...NODE,
      jid: `${BOB}/phone`,
      subid: "sub-1",
      state: "subscribed",
      createdAt: h.clock.now,
    });
    expect(eventTypes(out.events)).toEqual(["subscription-changed", "last-item-for-subscriber"]);
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      state: "subscribed",
      cause: "subscribe",
      owner: ALICE,
      notifyOwner: false,
    });
    expect(ofType(out.events, "last-item-for-subscriber")[0]).toMatchObject({
      item: { id: "b" },
      recipient: { jid: `${BOB}/phone`, subid: "sub-1" },
    });
  });

  it("sends no last item when send_last_published_item is never or the node is empty", async () => {
    const { service } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { sendLastPublishedItem: "never", notifySub: true });
    const out = await service.subscribe(BOB, NODE, { jid: BOB });
    expect(eventTypes(out.events)).toEqual(["subscription-changed"]);
    expect(ofType(out.events, "subscription-changed")[0]?.notifyOwner).toBe(true);
    await service.purgeNode(ALICE, NODE);
    await service.configureNode(ALICE, NODE, { sendLastPublishedItem: "on_sub_and_presence" });
    expect(eventTypes((await service.subscribe(CAROL, NODE, { jid: CAROL })).events)).toEqual([
      "subscription-changed",
    ]);
  });

  it("returns the existing subscription to a repeated request, with no events", async () => {
    const { service } = await withPosts(["a"]);
    const first = (await service.subscribe(BOB, NODE, { jid: BOB })).result;
    expect(await service.subscribe(BOB, NODE, { jid: BOB })).toEqual({ result: first, events: [] });
  });

  it("refuses outcasts by JID and by domain with forbidden", async () => {
    const { service } = await withPosts(["a"]);
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "outcast" },
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    await expectError(() => service.subscribe(CAROL, NODE, { jid: CAROL }), {
      condition: "forbidden",
      reason: "outcast-jid",
    });
    await expectError(() => service.subscribe(EVE, NODE, { jid: EVE }), {
      condition: "forbidden",
      reason: "outcast-domain",
    });
    expect(await service.getRefusalCounts()).toMatchObject({
      "outcast-jid": 1,
      "outcast-domain": 1,
    });
  });

  it("whitelist: refuses non-members with not-allowed + closed-node; members subscribe", async () => {
    const { service } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    await expectError(() => service.subscribe(BOB, NODE, { jid: BOB }), {
      condition: "not-allowed",
      pubsubCondition: "closed-node",
    });
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: "remote.example", affiliation: "member" },
    ]);
    expect((await service.subscribe(CAROL, NODE, { jid: CAROL })).result.state).toBe("subscribed");
  });

  it("authorize: the request is pending and the owner is asked; asking again is pending-subscription", async () => {
    const { service } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    const out = await service.subscribe(CAROL, NODE, { jid: CAROL });
    expect(out.result.state).toBe("pending");
    expect(out.events).toEqual([
      { type: "subscription-requested", ...NODE, jid: CAROL, subid: "sub-1", owner: ALICE },
    ]);
    await expectError(() => service.subscribe(CAROL, NODE, { jid: CAROL }), {
      condition: "not-authorized",
      pubsubCondition: "pending-subscription",
    });
  });

  it("applies the operator's deny and allow lists", async () => {
    const denied = await withPosts(["a"], {
      policy: { usersDomains: ["example.org"], deniedDomains: ["rogue.example"] },
    });
    await expectError(() => denied.service.subscribe(EVE, NODE, { jid: EVE }), {
      condition: "forbidden",
      reason: "service-denied-domain",
    });
    const allowed = await withPosts(["a"], {
      policy: { usersDomains: ["example.org"], allowedDomains: ["remote.example"] },
    });
    expect((await allowed.service.subscribe(CAROL, NODE, { jid: CAROL })).result.state).toBe(
      "subscribed",
    );
    expect((await allowed.service.subscribe(BOB, NODE, { jid: BOB })).result.state).toBe(
      "subscribed",
    );
    await expectError(() => allowed.service.subscribe(EVE, NODE, { jid: EVE }), {
      condition: "forbidden",
      reason: "service-not-allowed-domain",
    });
  });

  it("at start, ends the subscriptions and requests the operator's lists now refuse", async () => {
    const before = await withPosts(["a"]);
    const other = { ...NODE, service: "bob@mb.example.org" };
    await before.service.subscribe(EVE, NODE, { jid: EVE });
    await before.service.subscribe(CAROL, NODE, { jid: CAROL });
    await before.service.publishItem(BOB, other, { id: "b", payload: "<entry>b</entry>" });
    await before.service.configureNode(BOB, other, { accessModel: "authorize" });
    await before.service.subscribe(`${EVE}/phone`, other, { jid: EVE });
    // The same store, restarted with rogue.example denied.
    const after = makeHarness({
      store: before.store,
      policy: { usersDomains: ["example.org"], deniedDomains: ["rogue.example"] },
    });
    const out = await after.service.enforceServicePolicy();
    expect(out.result).toBe(2);
    expect(ofType(out.events, "subscription-changed")).toMatchObject([
      { service: NODE.service, jid: EVE, state: "none", cause: "banned" },
      { service: other.service, jid: EVE, state: "none", cause: "banned" },
    ]);
    expect((await after.service.getSubscriptions(EVE, NODE.service)).result).toEqual([]);
    expect((await after.service.getSubscriptions(EVE, other.service)).result).toEqual([]);
    expect((await after.service.getSubscriptions(CAROL, NODE.service)).result).toHaveLength(1);
    // Without operator lists, nothing to do.
    expect(await before.service.enforceServicePolicy()).toEqual({ result: 0, events: [] });
  });
});

describe("unsubscribe", () => {
  it("removes the subscription and tells it", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const out = await service.unsubscribe(`${BOB}/phone`, NODE, { jid: BOB });
    expect(out.result.state).toBe("none");
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: BOB,
      state: "none",
      cause: "unsubscribe",
    });
    expect((await service.getSubscriptions(BOB, NODE.service)).result).toEqual([]);
  });

  it("answers unexpected-request + not-subscribed when there is no subscription", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.unsubscribe(BOB, NODE, { jid: BOB }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
  });

  it("refuses to unsubscribe someone else with forbidden, unless the owner asks", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await expectError(() => service.unsubscribe(CAROL, NODE, { jid: BOB }), {
      condition: "forbidden",
    });
    expect((await service.unsubscribe(ALICE, NODE, { jid: BOB })).result.jid).toBe(BOB);
  });

  it("checks a given subid: not-acceptable + invalid-subid when wrong", async () => {
    const { service } = await withPosts(["a"]);
    const { subid } = (await service.subscribe(BOB, NODE, { jid: BOB })).result;
    await expectError(() => service.unsubscribe(BOB, NODE, { jid: BOB, subid: "wrong" }), {
      condition: "not-acceptable",
      pubsubCondition: "invalid-subid",
    });
    expect((await service.unsubscribe(BOB, NODE, { jid: BOB, subid })).result.state).toBe("none");
  });

  it("answers item-not-found for an unknown node, and withdraws a pending request", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.unsubscribe(BOB, { ...NODE, node: "x" }, { jid: BOB }), {
      condition: "item-not-found",
    });
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await service.unsubscribe(CAROL, NODE, { jid: CAROL });
    expect((await service.listPending(ALICE, NODE.service)).result).toEqual([]);
  });
});

describe("an entity's own subscriptions and affiliations", () => {
  it("lists the sender's subscriptions (all its resources) and nobody else's", async () => {
    const { service } = await withPosts(["a"]);
    await service.createNode(ALICE, { ...NODE, node: "other" });
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.subscribe(`${BOB}/phone`, { ...NODE, node: "other" }, { jid: `${BOB}/phone` });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    const subs = (await service.getSubscriptions(`${BOB}/laptop`, NODE.service)).result;
    expect(subs.map((s) => `${s.node} ${s.jid}`)).toEqual([
      "other bob@example.org/phone",
      `${NODE.node} ${BOB}`,
    ]);
    expect((await service.getSubscriptions(BOB, NODE.service, "other")).result).toHaveLength(1);
  });

  it("lists the owner's nodes as owner and other entities' own entries", async () => {
    const { service } = await withPosts(["a"]);
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    expect((await service.getAffiliations(ALICE, NODE.service)).result).toEqual([
      { ...NODE, entity: ALICE, affiliation: "owner" },
    ]);
    expect((await service.getAffiliations(BOB, NODE.service)).result).toEqual([
      { ...NODE, entity: BOB, affiliation: "member" },
    ]);
    expect((await service.getAffiliations(CAROL, NODE.service)).result).toEqual([]);
  });
});
