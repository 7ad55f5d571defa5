import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  EVE,
  eventTypes,
  expectError,
  makeHarness,
  NODE,
  ofType,
  withPosts,
  write,
} from "./fixture.js";

const OTHER = { ...NODE, node: "other" };

describe("createNode", () => {
  it("creates a node for the service owner; conflict when it exists", async () => {
    const { service } = makeHarness();
    const out = await service.createNode(ALICE, OTHER, { title: "Notes" });
    expect(out.result).toMatchObject({ ...OTHER, owner: ALICE, config: { title: "Notes" } });
    expect(out.events).toEqual([{ type: "node-created", ...OTHER, owner: ALICE }]);
    await expectError(() => service.createNode(ALICE, OTHER), { condition: "conflict" });
  });

  it("refuses anyone else with forbidden, and invalid configuration with not-acceptable", async () => {
    const { service } = makeHarness();
    await expectError(() => service.createNode(BOB, OTHER), { condition: "forbidden" });
    await expectError(
      () => service.createNode(ALICE, OTHER, { accessModel: "presence" as never }),
      {
        condition: "not-acceptable",
      },
    );
  });
});

describe("configureNode and getNodeConfig", () => {
  it("gives the owner the defaults before the node exists, item-not-found to others", async () => {
    const { service } = makeHarness();
    expect((await service.getNodeConfig(ALICE, NODE)).result.accessModel).toBe("open");
    await expectError(() => service.getNodeConfig(BOB, { ...NODE, service: "nobody@elsewhere" }), {
      condition: "item-not-found",
    });
    await expectError(() => service.getNodeConfig(BOB, NODE), { condition: "forbidden" });
  });

  it("creates the node on the owner's first configure", async () => {
    const { service } = makeHarness();
    const out = await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(eventTypes(out.events)).toEqual(["node-created"]);
    expect((await service.getNodeConfig(ALICE, NODE)).result.accessModel).toBe("authorize");
  });

  it("refuses non-owners with forbidden and bad values with not-acceptable, changing nothing", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.configureNode(BOB, NODE, { title: "mine" }), {
      condition: "forbidden",
    });
    await expectError(() => service.configureNode(ALICE, NODE, { title: "ok", maxItems: -1 }), {
      condition: "not-acceptable",
    });
    expect((await service.getNodeConfig(ALICE, NODE)).result.title).toBe("alice's microblog");
  });

  it("notifies subscribers of the change when notify_config is on", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    expect((await service.configureNode(ALICE, NODE, { title: "x" })).events).toEqual([]);
    const out = await service.configureNode(ALICE, NODE, { notifyConfig: true });
    expect(ofType(out.events, "configuration-changed")[0]).toMatchObject({
      recipients: [{ jid: BOB }],
      config: { notifyConfig: true },
    });
  });

  it("removes non-members' subscriptions and requests when switching to whitelist", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    const out = await service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    expect(
      ofType(out.events, "subscription-changed").map((e) => [e.jid, e.state, e.cause]),
    ).toEqual([[CAROL, "none", "access-model"]]);
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => s.jid)).toEqual([
      BOB,
    ]);
  });

  it("trims at once when max_items shrinks", async () => {
    const { service } = await withPosts(["a", "b", "c"]);
    const out = await service.configureNode(ALICE, NODE, { maxItems: 1 });
    expect(ofType(out.events, "items-retracted")[0]?.itemIds).toEqual(["a", "b"]);
    expect((await service.getItems(ALICE, NODE)).result.count).toBe(1);
  });
});

describe("node subscriptions", () => {
  it("lists them for the owner only; item-not-found for an unknown node", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    expect(
      (await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => [s.jid, s.state]),
    ).toEqual([[BOB, "subscribed"]]);
    await expectError(() => service.getNodeSubscriptions(BOB, NODE), { condition: "forbidden" });
    await expectError(() => service.getNodeSubscriptions(ALICE, OTHER), {
      condition: "item-not-found",
    });
  });

  it("lets the owner approve requests and remove subscriptions, telling each subscriber", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect((await service.subscribe(CAROL, NODE, { jid: CAROL })).result.state).toBe("pending");
    const out = await service.setNodeSubscriptions(ALICE, NODE, [
      { jid: BOB, state: "none" },
      { jid: CAROL, state: "subscribed" },
    ]);
    expect(out.result.map((s) => [s.jid, s.state])).toEqual([[CAROL, "subscribed"]]);
    expect(eventTypes(out.events)).toEqual([
      "subscription-changed",
      "subscription-changed",
      "last-item-for-subscriber",
    ]);
    expect(
      ofType(out.events, "subscription-changed").map((e) => [e.jid, e.state, e.cause]),
    ).toEqual([
      [BOB, "none", "owner"],
      [CAROL, "subscribed", "owner"],
    ]);
  });

  it("subscribes nobody who did not ask: not-acceptable, nothing changed, counted", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const before = (await service.getNodeSubscriptions(ALICE, NODE)).result;
    for (const state of ["subscribed", "pending", "unconfigured"] as const) {
      const error = await expectError(
        () =>
          service.setNodeSubscriptions(ALICE, NODE, [
            { jid: BOB, state: "none" },
            { jid: CAROL, state },
          ]),
        { condition: "not-acceptable", reason: "unrequested-subscription" },
      );
      expect(error.message).toContain(CAROL);
    }
    // Nor may the owner push an active subscription back to pending or unconfigured.
    for (const state of ["pending", "unconfigured"] as const) {
      await expectError(() => service.setNodeSubscriptions(ALICE, NODE, [{ jid: BOB, state }]), {
        condition: "not-acceptable",
        reason: "unrequested-subscription",
      });
    }
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result).toEqual(before);
    expect((await service.getRefusalCounts())["unrequested-subscription"]).toBe(5);
    // Keeping an active subscription and ending anyone's (even a JID without one) are fine.
    expect(
      (
        await service.setNodeSubscriptions(ALICE, NODE, [
          { jid: BOB, state: "subscribed" },
          { jid: CAROL, state: "none" },
        ])
      ).events,
    ).toEqual([]);
  });

  it("refuses the whole change (not-acceptable) when one entry is invalid", async () => {
    const { service, store, clock } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    // A request the ban did not end (one stored behind its back): a banned JID is not approved.
    await write(store, (tx) =>
      tx.putSubscription({
        ...NODE,
        jid: EVE,
        subid: "e",
        state: "pending",
        createdAt: clock.now,
      }),
    );
    await expectError(
      () =>
        service.setNodeSubscriptions(ALICE, NODE, [
          { jid: BOB, state: "subscribed" },
          { jid: EVE, state: "subscribed" },
        ]),
      { condition: "not-acceptable" },
    );
    await expectError(
      () => service.setNodeSubscriptions(ALICE, NODE, [{ jid: BOB, state: "bogus" as never }]),
      { condition: "not-acceptable" },
    );
    await expectError(
      () => service.setNodeSubscriptions(BOB, NODE, [{ jid: BOB, state: "subscribed" }]),
      { condition: "forbidden" },
    );
    expect(
      (await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => [s.jid, s.state]),
    ).toEqual([
      [BOB, "pending"],
      [EVE, "pending"],
    ]);
  });
});

describe("node affiliations", () => {
  it("lists the owner first, then the entries; for the owner only", async () => {
    const { service } = await withPosts(["a"]);
    const out = await service.setNodeAffiliations(ALICE, NODE, [
      { entity: `${BOB}/phone`, affiliation: "member" },
      { entity: "Rogue.Example", affiliation: "outcast" },
    ]);
    expect(out.result.map((e) => [e.entity, e.affiliation])).toEqual([
      [ALICE, "owner"],
      [BOB, "member"],
      ["rogue.example", "outcast"],
    ]);
    expect((await service.getNodeAffiliations(ALICE, NODE)).result).toEqual(out.result);
    await expectError(() => service.getNodeAffiliations(BOB, NODE), { condition: "forbidden" });
    await expectError(
      () => service.setNodeAffiliations(BOB, NODE, [{ entity: BOB, affiliation: "owner" }]),
      { condition: "forbidden" },
    );
  });

  it("bans drop the banned subscriptions, by JID and by domain, and tell them", async () => {
    const { service } = await withPosts(["a"]);
    for (const jid of [BOB, CAROL, EVE]) await service.subscribe(jid, NODE, { jid });
    const out = await service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "outcast" },
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    expect(ofType(out.events, "subscription-changed").map((e) => [e.jid, e.cause])).toEqual([
      [CAROL, "banned"],
      [EVE, "banned"],
    ]);
    expect((await service.getNodeSubscriptions(ALICE, NODE)).result.map((s) => s.jid)).toEqual([
      BOB,
    ]);
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: CAROL, affiliation: "none" }]);
    expect((await service.subscribe(CAROL, NODE, { jid: CAROL })).result.state).toBe("subscribed");
  });

  it("keeps the owner an owner and domains below publisher: not-acceptable, nothing changed", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(
      () =>
        service.setNodeAffiliations(ALICE, NODE, [
          { entity: BOB, affiliation: "member" },
          { entity: ALICE, affiliation: "none" },
        ]),
      { condition: "not-acceptable" },
    );
    await expectError(
      () =>
        service.setNodeAffiliations(ALICE, NODE, [
          { entity: "remote.example", affiliation: "publisher" },
        ]),
      { condition: "not-acceptable" },
    );
    await expectError(
      () =>
        service.setNodeAffiliations(ALICE, NODE, [
          { entity: BOB, affiliation: "member" },
          { entity: BOB, affiliation: "none" },
        ]),
      { condition: "bad-request" },
    );
    expect((await service.getNodeAffiliations(ALICE, NODE)).result).toHaveLength(1);
  });

  it("gives owner, publisher and publish-only only to users of the users domains", async () => {
    const { service } = await withPosts(["a"]);
    for (const affiliation of ["owner", "publisher", "publish-only"] as const) {
      for (const entity of [CAROL, "Carol@Remote.Example/desk", "dave@sub.example.org"]) {
        await expectError(
          () =>
            service.setNodeAffiliations(ALICE, NODE, [
              { entity: BOB, affiliation: "member" },
              { entity, affiliation },
            ]),
          { condition: "not-acceptable", reason: "affiliation-not-grantable" },
        );
      }
    }
    expect((await service.getNodeAffiliations(ALICE, NODE)).result).toHaveLength(1);
    expect((await service.getRefusalCounts())["affiliation-not-grantable"]).toBe(9);
    // Remote JIDs may still be members (a whitelist) or banned; local users get any affiliation.
    const out = await service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "member" },
      { entity: EVE, affiliation: "outcast" },
      { entity: BOB, affiliation: "owner" },
      { entity: DAVE, affiliation: "publisher" },
    ]);
    expect(out.result.map((e) => [e.entity, e.affiliation])).toEqual([
      [ALICE, "owner"],
      [BOB, "owner"],
      [CAROL, "member"],
      [DAVE, "publisher"],
      [EVE, "outcast"],
    ]);
  });

  it("a co-owner of the users domain answers approval requests", async () => {
    const { service } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "owner" }]);
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    expect((await service.approveSubscription(BOB, NODE, CAROL, true)).result.state).toBe(
      "subscribed",
    );
  });
});

describe("purgeNode and deleteNode", () => {
  it("purges all items with one notification per subscriber", async () => {
    const { service } = await withPosts(["a", "b"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const out = await service.purgeNode(ALICE, NODE);
    expect(out).toEqual({
      result: { purged: 2 },
      events: [{ type: "node-purged", ...NODE, recipients: [{ jid: BOB, subid: "sub-1" }] }],
    });
    expect((await service.getItems(BOB, NODE)).result.count).toBe(0);
  });

  it("deletes the node, notifying subscribers and pending requesters", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    const out = await service.deleteNode(ALICE, NODE);
    expect(out.events).toEqual([
      {
        type: "node-deleted",
        ...NODE,
        recipients: [
          { jid: BOB, subid: "sub-1" },
          { jid: CAROL, subid: "sub-2" },
        ],
      },
    ]);
    await expectError(() => service.getItems(ALICE, NODE), { condition: "item-not-found" });
    expect((await service.getSubscriptions(BOB, NODE.service)).result).toEqual([]);
  });

  it("refuses non-owners with forbidden and unknown nodes with item-not-found", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await expectError(() => service.purgeNode(BOB, NODE), { condition: "forbidden" });
    await expectError(() => service.deleteNode(BOB, NODE), { condition: "forbidden" });
    await expectError(() => service.purgeNode(ALICE, OTHER), { condition: "item-not-found" });
    await expectError(() => service.deleteNode(ALICE, OTHER), { condition: "item-not-found" });
  });

  it("lets a publisher purge, as XEP-0060 §4.1 allows", async () => {
    const { service } = await withPosts(["a"]);
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "publisher" }]);
    expect((await service.purgeNode(BOB, NODE)).result.purged).toBe(1);
  });
});
