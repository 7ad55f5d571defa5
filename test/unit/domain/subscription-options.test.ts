/** Subscription options (XEP-0060 §6.3, §6.4): the use cases, the fields, and who gets notified. */
import { describe, expect, it } from "vitest";
import { parseSubscriptionOptionFields } from "../../../component/src/domain/subscription-options.js";
import {
  ALICE,
  BOB,
  CAROL,
  COMPONENT,
  EVE,
  eventTypes,
  expectError,
  makeHarness,
  NODE,
  ofType,
  read,
  withPosts,
} from "./fixture.js";

const INVALID = { condition: "bad-request", pubsubCondition: "invalid-options" } as const;

describe("the subscribe_options fields", () => {
  it("reads the XEP's submitted form (§6.3.5): deliver and include_body; digest 0 and show-values accepted", () => {
    expect(
      parseSubscriptionOptionFields({
        FORM_TYPE: ["http://jabber.org/protocol/pubsub#subscribe_options"],
        "pubsub#deliver": ["1"],
        "pubsub#digest": ["0"],
        "pubsub#include_body": ["false"],
        "pubsub#show-values": ["chat", "online", "away"],
      }),
    ).toEqual({ deliver: true, includeBody: false });
    expect(parseSubscriptionOptionFields({ "pubsub#deliver": [" true "] })).toEqual({
      deliver: true,
    });
    expect(parseSubscriptionOptionFields({})).toEqual({});
  });

  it.each([
    ["a value that is not a boolean", { "pubsub#deliver": ["yes"] }],
    ["two values for a boolean", { "pubsub#include_body": ["1", "0"] }],
    ["no value for a boolean", { "pubsub#deliver": [] }],
    ["digests, which Warble does not send", { "pubsub#digest": ["1"] }],
    ["a leased subscription", { "pubsub#expire": ["2006-03-31T23:59Z"] }],
    ["node notifications (collections)", { "pubsub#subscription_type": ["nodes"] }],
    ["an unknown show value", { "pubsub#show-values": ["sleepy"] }],
    ["a field outside the registry", { "pubsub#frequency": ["1"] }],
  ])("refuses %s with bad-request + invalid-options", async (_what, fields) => {
    await expectError(() => parseSubscriptionOptionFields(fields), INVALID);
  });
});

describe("getSubscriptionOptions and setSubscriptionOptions (§6.3)", () => {
  it("gives the options in force: deliver on, include_body the node's until chosen", async () => {
    const { service } = await withPosts(["a"]);
    const sub = (await service.subscribe(BOB, NODE, { jid: BOB })).result;
    expect(
      (await service.getSubscriptionOptions(`${BOB}/phone`, NODE, { jid: BOB })).result,
    ).toEqual({
      subscription: sub,
      options: { deliver: true, includeBody: true },
    });
    await service.configureNode(ALICE, NODE, { includeBody: false });
    expect((await service.getSubscriptionOptions(BOB, NODE, { jid: BOB })).result.options).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("sets the options named, keeps the others, and stores them with the subscription", async () => {
    const { service, store } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const out = await service.setSubscriptionOptions(BOB, NODE, {
      jid: BOB,
      options: { deliver: false },
    });
    expect(out.events).toEqual([]);
    expect(out.result.options).toEqual({ deliver: false, includeBody: true });
    await service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: { includeBody: false } });
    expect((await read(store, (tx) => tx.getSubscription(NODE, BOB)))?.options).toEqual({
      "pubsub#deliver": "0",
      "pubsub#include_body": "0",
    });
    // A chosen include_body no longer follows the node's.
    await service.configureNode(ALICE, NODE, { includeBody: true });
    expect((await service.getSubscriptionOptions(BOB, NODE, { jid: BOB })).result.options).toEqual({
      deliver: false,
      includeBody: false,
    });
  });

  it("checks in the order of §6.3.4: node, privileges, subscriber, subid", async () => {
    const { service } = await withPosts(["a"]);
    const { subid } = (await service.subscribe(BOB, NODE, { jid: BOB })).result;
    const other = { ...NODE, service: `nobody@${COMPONENT}` };
    await expectError(() => service.getSubscriptionOptions(BOB, other, { jid: BOB }), {
      condition: "item-not-found",
    });
    await expectError(() => service.getSubscriptionOptions(CAROL, NODE, { jid: BOB }), {
      condition: "forbidden",
      reason: "insufficient-privileges",
    });
    await expectError(() => service.getSubscriptionOptions(CAROL, NODE, { jid: CAROL }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
    // One subscription per JID: the exact JID subscribed is asked for.
    await expectError(() => service.getSubscriptionOptions(BOB, NODE, { jid: `${BOB}/phone` }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
    await expectError(
      () => service.getSubscriptionOptions(BOB, NODE, { jid: BOB, subid: "wrong" }),
      {
        condition: "not-acceptable",
        pubsubCondition: "invalid-subid",
      },
    );
    expect(
      (await service.getSubscriptionOptions(BOB, NODE, { jid: BOB, subid })).result.options,
    ).toEqual({
      deliver: true,
      includeBody: true,
    });
    await expectError(
      () => service.setSubscriptionOptions(CAROL, NODE, { jid: BOB, options: { deliver: false } }),
      { condition: "forbidden" },
    );
    await expectError(
      () => service.setSubscriptionOptions(BOB, NODE, { jid: BOB, subid: "x", options: {} }),
      { condition: "not-acceptable", pubsubCondition: "invalid-subid" },
    );
  });

  it("lets the node's owner read and set a subscriber's options; outcasts are forbidden", async () => {
    const { service } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.setSubscriptionOptions(ALICE, NODE, {
      jid: BOB,
      options: { includeBody: false },
    });
    expect(
      (await service.getSubscriptionOptions(ALICE, NODE, { jid: BOB })).result.options,
    ).toEqual({
      deliver: true,
      includeBody: false,
    });
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    await expectError(() => service.getSubscriptionOptions(EVE, NODE, { jid: EVE }), {
      condition: "forbidden",
      reason: "outcast-domain",
    });
  });

  it("configures a pending subscription; the options survive its approval", async () => {
    const { service, store } = await withPosts(["a"]);
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await service.subscribe(CAROL, NODE, { jid: CAROL });
    await service.setSubscriptionOptions(CAROL, NODE, {
      jid: CAROL,
      options: { includeBody: false },
    });
    const approved = await service.approveSubscription(ALICE, NODE, CAROL, true);
    expect(ofType(approved.events, "last-item-for-subscriber")[0]?.recipient).toEqual({
      jid: CAROL,
      subid: "sub-1",
      includeBody: false,
    });
    expect(await read(store, (tx) => tx.getSubscription(NODE, CAROL))).toMatchObject({
      state: "subscribed",
      options: { "pubsub#include_body": "0" },
    });
  });

  it("refuses values that are not booleans with bad-request + invalid-options, changing nothing", async () => {
    const { service, store } = await withPosts(["a"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const bad = { deliver: "no" } as unknown as { deliver: boolean };
    await expectError(
      () => service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: bad }),
      INVALID,
    );
    expect((await read(store, (tx) => tx.getSubscription(NODE, BOB)))?.options).toBeUndefined();
  });
});

describe("subscribe and configure (§6.3.7)", () => {
  it("stores the options with a new subscription", async () => {
    const { service, store } = await withPosts(["a"]);
    const out = await service.subscribe(BOB, NODE, { jid: BOB, options: { includeBody: false } });
    expect(out.result.options).toEqual({ "pubsub#include_body": "0" });
    expect((await read(store, (tx) => tx.getSubscription(NODE, BOB)))?.options).toEqual({
      "pubsub#include_body": "0",
    });
    expect(ofType(out.events, "last-item-for-subscriber")[0]?.recipient.includeBody).toBe(false);
  });

  it("sets them on an existing subscription, with no events", async () => {
    const { service } = await withPosts(["a"]);
    const first = (await service.subscribe(BOB, NODE, { jid: BOB })).result;
    const again = await service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    expect(again).toEqual({
      result: { ...first, options: { "pubsub#deliver": "0" } },
      events: [],
    });
  });

  it("sends no last item when delivery is off", async () => {
    const { service } = await withPosts(["a"]);
    const out = await service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    expect(eventTypes(out.events)).toEqual(["subscription-changed"]);
  });

  it("refuses invalid options before subscribing", async () => {
    const { service, store } = await withPosts(["a"]);
    const bad = { digest: true } as unknown as { deliver: boolean };
    await expectError(() => service.subscribe(BOB, NODE, { jid: BOB, options: bad }), INVALID);
    expect(await read(store, (tx) => tx.getSubscription(NODE, BOB))).toBeUndefined();
  });
});

describe("recipients honour the options", () => {
  async function followed() {
    const h = await withPosts(["a"]);
    await h.service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    await h.service.subscribe(CAROL, NODE, { jid: CAROL, options: { includeBody: false } });
    await h.service.subscribe(EVE, NODE, { jid: EVE });
    return h;
  }

  it("pubsub#deliver off: no item, retract, purge or configuration notifications", async () => {
    const { service } = await followed();
    const expected = [
      { jid: CAROL, subid: "sub-2", includeBody: false },
      { jid: EVE, subid: "sub-3" },
    ];
    const published = await service.publishItem(ALICE, NODE, {
      id: "b",
      payload: "<entry>b</entry>",
    });
    expect(ofType(published.events, "item-published")[0]?.recipients).toEqual(expected);
    const retracted = await service.retractItem(ALICE, NODE, { id: "b" });
    expect(ofType(retracted.events, "items-retracted")[0]?.recipients).toEqual(expected);
    const configured = await service.configureNode(ALICE, NODE, { notifyConfig: true });
    expect(ofType(configured.events, "configuration-changed")[0]?.recipients).toEqual(expected);
    const purged = await service.purgeNode(ALICE, NODE);
    expect(ofType(purged.events, "node-purged")[0]?.recipients).toEqual(expected);
  });

  it("the node's deletion reaches every subscription, delivery off or not", async () => {
    const { service } = await followed();
    const deleted = await service.deleteNode(ALICE, NODE);
    expect(ofType(deleted.events, "node-deleted")[0]?.recipients.map((r) => r.jid)).toEqual([
      BOB,
      CAROL,
      EVE,
    ]);
  });

  it("turning delivery back on brings the notifications back", async () => {
    const { service } = await followed();
    await service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: { deliver: true } });
    const published = await service.publishItem(ALICE, NODE, {
      id: "c",
      payload: "<entry>c</entry>",
    });
    expect(ofType(published.events, "item-published")[0]?.recipients.map((r) => r.jid)).toEqual([
      BOB,
      CAROL,
      EVE,
    ]);
  });
});

describe("getDefaultSubscriptionOptions (§6.4)", () => {
  it("of a node: deliver on, the node's include_body", async () => {
    const { service } = await withPosts(["a"]);
    expect((await service.getDefaultSubscriptionOptions(NODE.service, NODE.node)).result).toEqual({
      deliver: true,
      includeBody: true,
    });
    await service.configureNode(ALICE, NODE, { includeBody: false });
    expect((await service.getDefaultSubscriptionOptions(NODE.service, NODE.node)).result).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("of the service: the default configuration's include_body", async () => {
    const { service } = makeHarness({ defaultConfig: { includeBody: false } });
    expect((await service.getDefaultSubscriptionOptions(NODE.service)).result).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("item-not-found for a node that does not exist or a service that is nobody's", async () => {
    const { service } = makeHarness();
    await expectError(() => service.getDefaultSubscriptionOptions(NODE.service, NODE.node), {
      condition: "item-not-found",
    });
    await expectError(() => service.getDefaultSubscriptionOptions(`x@elsewhere.example`), {
      condition: "item-not-found",
    });
  });
});
