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
  ])("refuses %s with bad-request + invalid-options", (_what, fields) => {
    expectError(() => parseSubscriptionOptionFields(fields), INVALID);
  });
});

describe("getSubscriptionOptions and setSubscriptionOptions (§6.3)", () => {
  it("gives the options in force: deliver on, include_body the node's until chosen", () => {
    const { service } = withPosts(["a"]);
    const sub = service.subscribe(BOB, NODE, { jid: BOB }).result;
    expect(service.getSubscriptionOptions(`${BOB}/phone`, NODE, { jid: BOB }).result).toEqual({
      subscription: sub,
      options: { deliver: true, includeBody: true },
    });
    service.configureNode(ALICE, NODE, { includeBody: false });
    expect(service.getSubscriptionOptions(BOB, NODE, { jid: BOB }).result.options).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("sets the options named, keeps the others, and stores them with the subscription", () => {
    const { service, store } = withPosts(["a"]);
    service.subscribe(BOB, NODE, { jid: BOB });
    const out = service.setSubscriptionOptions(BOB, NODE, {
      jid: BOB,
      options: { deliver: false },
    });
    expect(out.events).toEqual([]);
    expect(out.result.options).toEqual({ deliver: false, includeBody: true });
    service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: { includeBody: false } });
    expect(store.getSubscription(NODE, BOB)?.options).toEqual({
      "pubsub#deliver": "0",
      "pubsub#include_body": "0",
    });
    // A chosen include_body no longer follows the node's.
    service.configureNode(ALICE, NODE, { includeBody: true });
    expect(service.getSubscriptionOptions(BOB, NODE, { jid: BOB }).result.options).toEqual({
      deliver: false,
      includeBody: false,
    });
  });

  it("checks in the order of §6.3.4: node, privileges, subscriber, subid", () => {
    const { service } = withPosts(["a"]);
    const { subid } = service.subscribe(BOB, NODE, { jid: BOB }).result;
    const other = { ...NODE, service: `nobody@${COMPONENT}` };
    expectError(() => service.getSubscriptionOptions(BOB, other, { jid: BOB }), {
      condition: "item-not-found",
    });
    expectError(() => service.getSubscriptionOptions(CAROL, NODE, { jid: BOB }), {
      condition: "forbidden",
      reason: "insufficient-privileges",
    });
    expectError(() => service.getSubscriptionOptions(CAROL, NODE, { jid: CAROL }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
    // One subscription per JID: the exact JID subscribed is asked for.
    expectError(() => service.getSubscriptionOptions(BOB, NODE, { jid: `${BOB}/phone` }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
    expectError(() => service.getSubscriptionOptions(BOB, NODE, { jid: BOB, subid: "wrong" }), {
      condition: "not-acceptable",
      pubsubCondition: "invalid-subid",
    });
    expect(service.getSubscriptionOptions(BOB, NODE, { jid: BOB, subid }).result.options).toEqual({
      deliver: true,
      includeBody: true,
    });
    expectError(
      () => service.setSubscriptionOptions(CAROL, NODE, { jid: BOB, options: { deliver: false } }),
      { condition: "forbidden" },
    );
    expectError(
      () => service.setSubscriptionOptions(BOB, NODE, { jid: BOB, subid: "x", options: {} }),
      { condition: "not-acceptable", pubsubCondition: "invalid-subid" },
    );
  });

  it("lets the node's owner read and set a subscriber's options; outcasts are forbidden", () => {
    const { service } = withPosts(["a"]);
    service.subscribe(BOB, NODE, { jid: BOB });
    service.setSubscriptionOptions(ALICE, NODE, { jid: BOB, options: { includeBody: false } });
    expect(service.getSubscriptionOptions(ALICE, NODE, { jid: BOB }).result.options).toEqual({
      deliver: true,
      includeBody: false,
    });
    service.setNodeAffiliations(ALICE, NODE, [{ entity: "rogue.example", affiliation: "outcast" }]);
    expectError(() => service.getSubscriptionOptions(EVE, NODE, { jid: EVE }), {
      condition: "forbidden",
      reason: "outcast-domain",
    });
  });

  it("configures a pending subscription; the options survive its approval", () => {
    const { service, store } = withPosts(["a"]);
    service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    service.subscribe(CAROL, NODE, { jid: CAROL });
    service.setSubscriptionOptions(CAROL, NODE, { jid: CAROL, options: { includeBody: false } });
    const approved = service.approveSubscription(ALICE, NODE, CAROL, true);
    expect(ofType(approved.events, "last-item-for-subscriber")[0]?.recipient).toEqual({
      jid: CAROL,
      subid: "sub-1",
      includeBody: false,
    });
    expect(store.getSubscription(NODE, CAROL)).toMatchObject({
      state: "subscribed",
      options: { "pubsub#include_body": "0" },
    });
  });

  it("refuses values that are not booleans with bad-request + invalid-options, changing nothing", () => {
    const { service, store } = withPosts(["a"]);
    service.subscribe(BOB, NODE, { jid: BOB });
    const bad = { deliver: "no" } as unknown as { deliver: boolean };
    expectError(
      () => service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: bad }),
      INVALID,
    );
    expect(store.getSubscription(NODE, BOB)?.options).toBeUndefined();
  });
});

describe("subscribe and configure (§6.3.7)", () => {
  it("stores the options with a new subscription", () => {
    const { service, store } = withPosts(["a"]);
    const out = service.subscribe(BOB, NODE, { jid: BOB, options: { includeBody: false } });
    expect(out.result.options).toEqual({ "pubsub#include_body": "0" });
    expect(store.getSubscription(NODE, BOB)?.options).toEqual({ "pubsub#include_body": "0" });
    expect(ofType(out.events, "last-item-for-subscriber")[0]?.recipient.includeBody).toBe(false);
  });

  it("sets them on an existing subscription, with no events", () => {
    const { service } = withPosts(["a"]);
    const first = service.subscribe(BOB, NODE, { jid: BOB }).result;
    const again = service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    expect(again).toEqual({
      result: { ...first, options: { "pubsub#deliver": "0" } },
      events: [],
    });
  });

  it("sends no last item when delivery is off", () => {
    const { service } = withPosts(["a"]);
    const out = service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    expect(eventTypes(out.events)).toEqual(["subscription-changed"]);
  });

  it("refuses invalid options before subscribing", () => {
    const { service, store } = withPosts(["a"]);
    const bad = { digest: true } as unknown as { deliver: boolean };
    expectError(() => service.subscribe(BOB, NODE, { jid: BOB, options: bad }), INVALID);
    expect(store.getSubscription(NODE, BOB)).toBeUndefined();
  });
});

describe("recipients honour the options", () => {
  function followed() {
    const h = withPosts(["a"]);
    h.service.subscribe(BOB, NODE, { jid: BOB, options: { deliver: false } });
    h.service.subscribe(CAROL, NODE, { jid: CAROL, options: { includeBody: false } });
    h.service.subscribe(EVE, NODE, { jid: EVE });
    return h;
  }

  it("pubsub#deliver off: no item, retract, purge or configuration notifications", () => {
    const { service } = followed();
    const expected = [
      { jid: CAROL, subid: "sub-2", includeBody: false },
      { jid: EVE, subid: "sub-3" },
    ];
    const published = service.publishItem(ALICE, NODE, { id: "b", payload: "<entry>b</entry>" });
    expect(ofType(published.events, "item-published")[0]?.recipients).toEqual(expected);
    const retracted = service.retractItem(ALICE, NODE, { id: "b" });
    expect(ofType(retracted.events, "items-retracted")[0]?.recipients).toEqual(expected);
    const configured = service.configureNode(ALICE, NODE, { notifyConfig: true });
    expect(ofType(configured.events, "configuration-changed")[0]?.recipients).toEqual(expected);
    const purged = service.purgeNode(ALICE, NODE);
    expect(ofType(purged.events, "node-purged")[0]?.recipients).toEqual(expected);
  });

  it("the node's deletion reaches every subscription, delivery off or not", () => {
    const { service } = followed();
    const deleted = service.deleteNode(ALICE, NODE);
    expect(ofType(deleted.events, "node-deleted")[0]?.recipients.map((r) => r.jid)).toEqual([
      BOB,
      CAROL,
      EVE,
    ]);
  });

  it("turning delivery back on brings the notifications back", () => {
    const { service } = followed();
    service.setSubscriptionOptions(BOB, NODE, { jid: BOB, options: { deliver: true } });
    const published = service.publishItem(ALICE, NODE, { id: "c", payload: "<entry>c</entry>" });
    expect(ofType(published.events, "item-published")[0]?.recipients.map((r) => r.jid)).toEqual([
      BOB,
      CAROL,
      EVE,
    ]);
  });
});

describe("getDefaultSubscriptionOptions (§6.4)", () => {
  it("of a node: deliver on, the node's include_body", () => {
    const { service } = withPosts(["a"]);
    expect(service.getDefaultSubscriptionOptions(NODE.service, NODE.node).result).toEqual({
      deliver: true,
      includeBody: true,
    });
    service.configureNode(ALICE, NODE, { includeBody: false });
    expect(service.getDefaultSubscriptionOptions(NODE.service, NODE.node).result).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("of the service: the default configuration's include_body", () => {
    const { service } = makeHarness({ defaultConfig: { includeBody: false } });
    expect(service.getDefaultSubscriptionOptions(NODE.service).result).toEqual({
      deliver: true,
      includeBody: false,
    });
  });

  it("item-not-found for a node that does not exist or a service that is nobody's", () => {
    const { service } = makeHarness();
    expectError(() => service.getDefaultSubscriptionOptions(NODE.service, NODE.node), {
      condition: "item-not-found",
    });
    expectError(() => service.getDefaultSubscriptionOptions(`x@elsewhere.example`), {
      condition: "item-not-found",
    });
  });
});
