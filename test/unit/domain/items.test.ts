import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  EVE,
  eventTypes,
  expectError,
  NODE,
  ofType,
  withPosts,
} from "./fixture.js";

const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe("retractItem", () => {
  it("deletes the item and notifies subscribers (notify_retract on by default)", () => {
    const { service } = withPosts(["a", "b"]);
    service.subscribe(BOB, NODE, { jid: BOB });
    const out = service.retractItem(ALICE, NODE, { id: "a" });
    expect(ofType(out.events, "items-retracted")).toEqual([
      {
        type: "items-retracted",
        ...NODE,
        itemIds: ["a"],
        cause: "retract",
        recipients: [{ jid: BOB, subid: "sub-1" }],
      },
    ]);
    expect(ids(service.getItems(BOB, NODE).result.items)).toEqual(["b"]);
  });

  it("notifies only when asked to, if notify_retract is off", () => {
    const { service } = withPosts(["a", "b"]);
    service.configureNode(ALICE, NODE, { notifyRetract: false });
    expect(service.retractItem(ALICE, NODE, { id: "a" }).events).toEqual([]);
    expect(eventTypes(service.retractItem(ALICE, NODE, { id: "b", notify: true }).events)).toEqual([
      "items-retracted",
    ]);
  });

  it("answers item-not-found for an unknown item or node", () => {
    const { service } = withPosts(["a"]);
    expectError(() => service.retractItem(ALICE, NODE, { id: "nope" }), {
      condition: "item-not-found",
    });
    expectError(() => service.retractItem(ALICE, { ...NODE, node: "x" }, { id: "a" }), {
      condition: "item-not-found",
    });
  });

  it("requires an item id: bad-request + item-required", () => {
    const { service } = withPosts(["a"]);
    expectError(() => service.retractItem(ALICE, NODE, { id: "" }), {
      condition: "bad-request",
      pubsubCondition: "item-required",
    });
  });

  it("refuses non-publishers with forbidden, before telling whether the item exists", () => {
    const { service } = withPosts(["a"]);
    expectError(() => service.retractItem(BOB, NODE, { id: "a" }), { condition: "forbidden" });
    expectError(() => service.retractItem(BOB, NODE, { id: "nope" }), { condition: "forbidden" });
  });

  it("lets publish-only retract its own items only; publishers retract any", () => {
    const { service } = withPosts(["a"]);
    service.setNodeAffiliations(ALICE, NODE, [
      { entity: BOB, affiliation: "publish-only" },
      { entity: DAVE, affiliation: "publisher" },
    ]);
    service.publishItem(BOB, NODE, { id: "bobs", payload: "<e/>" });
    expectError(() => service.retractItem(BOB, NODE, { id: "a" }), { condition: "forbidden" });
    expect(service.retractItem(BOB, NODE, { id: "bobs" }).result.id).toBe("bobs");
    expect(service.retractItem(DAVE, NODE, { id: "a" }).result.id).toBe("a");
  });
});

describe("getItems", () => {
  const five = ["i1", "i2", "i3", "i4", "i5"];

  it("returns all items newest first with the count", () => {
    const { service } = withPosts(five);
    const page = service.getItems(BOB, NODE).result;
    expect(ids(page.items)).toEqual(["i5", "i4", "i3", "i2", "i1"]);
    expect(page).toMatchObject({ count: 5, firstIndex: 0 });
  });

  it("returns requested ids only, and max_items newest", () => {
    const { service } = withPosts(five);
    expect(ids(service.getItems(BOB, NODE, { ids: ["i2", "i4", "zz"] }).result.items)).toEqual([
      "i4",
      "i2",
    ]);
    expect(ids(service.getItems(BOB, NODE, { maxItems: 2 }).result.items)).toEqual(["i5", "i4"]);
  });

  it("pages with RSM after, before and before-empty (the last page)", () => {
    const { service } = withPosts(five);
    expect(ids(service.getItems(BOB, NODE, { rsm: { max: 2, after: "i4" } }).result.items)).toEqual(
      ["i3", "i2"],
    );
    expect(
      ids(service.getItems(BOB, NODE, { rsm: { max: 2, before: "i2" } }).result.items),
    ).toEqual(["i4", "i3"]);
    const last = service.getItems(BOB, NODE, { rsm: { max: 2, before: "" } }).result;
    expect(ids(last.items)).toEqual(["i2", "i1"]);
    expect(last).toMatchObject({ count: 5, firstIndex: 3 });
  });

  it("uses the smaller of max_items and RSM max", () => {
    const { service } = withPosts(five);
    expect(service.getItems(BOB, NODE, { maxItems: 3, rsm: { max: 1 } }).result.items).toHaveLength(
      1,
    );
    expect(service.getItems(BOB, NODE, { maxItems: 1, rsm: { max: 3 } }).result.items).toHaveLength(
      1,
    );
  });

  it("answers item-not-found for an unknown RSM anchor or node, bad-request for a negative max", () => {
    const { service } = withPosts(five);
    expectError(() => service.getItems(BOB, NODE, { rsm: { after: "nope" } }), {
      condition: "item-not-found",
    });
    expectError(() => service.getItems(BOB, { ...NODE, service: "bob@mb.example.org" }), {
      condition: "item-not-found",
    });
    expectError(() => service.getItems(BOB, NODE, { rsm: { max: -1 } }), {
      condition: "bad-request",
    });
  });

  it("authorize: non-subscribers get not-authorized + not-subscribed; subscribers and the owner read", () => {
    const { service } = withPosts(five);
    service.subscribe(BOB, NODE, { jid: BOB });
    service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expectError(() => service.getItems(CAROL, NODE), {
      condition: "not-authorized",
      pubsubCondition: "not-subscribed",
    });
    expect(service.getItems(BOB, NODE).result.count).toBe(5);
    expect(service.getItems(`${BOB}/phone`, NODE).result.count).toBe(5);
    expect(service.getItems(`${ALICE}/x`, NODE).result.count).toBe(5);
  });

  it("whitelist: non-members get not-allowed + closed-node; members read", () => {
    const { service } = withPosts(five);
    service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    expectError(() => service.getItems(CAROL, NODE), {
      condition: "not-allowed",
      pubsubCondition: "closed-node",
    });
    expect(service.getItems(BOB, NODE).result.count).toBe(5);
  });

  it("refuses outcasts with forbidden and counts the refusal by reason", () => {
    const { service } = withPosts(five);
    service.setNodeAffiliations(ALICE, NODE, [{ entity: "rogue.example", affiliation: "outcast" }]);
    expectError(() => service.getItems(EVE, NODE), {
      condition: "forbidden",
      reason: "outcast-domain",
    });
    expect(service.getRefusalCounts()["outcast-domain"]).toBe(1);
  });
});
