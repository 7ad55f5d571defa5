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
  it("deletes the item and notifies subscribers (notify_retract on by default)", async () => {
    const { service } = await withPosts(["a", "b"]);
    await service.subscribe(BOB, NODE, { jid: BOB });
    const out = await service.retractItem(ALICE, NODE, { id: "a" });
    expect(ofType(out.events, "items-retracted")).toEqual([
      {
        type: "items-retracted",
        ...NODE,
        itemIds: ["a"],
        cause: "retract",
        recipients: [{ jid: BOB, subid: "sub-1" }],
      },
    ]);
    expect(ids((await service.getItems(BOB, NODE)).result.items)).toEqual(["b"]);
  });

  it("notifies only when asked to, if notify_retract is off", async () => {
    const { service } = await withPosts(["a", "b"]);
    await service.configureNode(ALICE, NODE, { notifyRetract: false });
    expect((await service.retractItem(ALICE, NODE, { id: "a" })).events).toEqual([]);
    expect(
      eventTypes((await service.retractItem(ALICE, NODE, { id: "b", notify: true })).events),
    ).toEqual(["items-retracted"]);
  });

  it("answers item-not-found for an unknown item or node", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.retractItem(ALICE, NODE, { id: "nope" }), {
      condition: "item-not-found",
    });
    await expectError(() => service.retractItem(ALICE, { ...NODE, node: "x" }, { id: "a" }), {
      condition: "item-not-found",
    });
  });

  it("requires an item id: bad-request + item-required", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.retractItem(ALICE, NODE, { id: "" }), {
      condition: "bad-request",
      pubsubCondition: "item-required",
    });
  });

  it("refuses non-publishers with forbidden, before telling whether the item exists", async () => {
    const { service } = await withPosts(["a"]);
    await expectError(() => service.retractItem(BOB, NODE, { id: "a" }), {
      condition: "forbidden",
    });
    await expectError(() => service.retractItem(BOB, NODE, { id: "nope" }), {
      condition: "forbidden",
    });
  });

  it("lets publish-only retract its own items only; publishers retract any", async () => {
    const { service } = await withPosts(["a"]);
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: BOB, affiliation: "publish-only" },
      { entity: DAVE, affiliation: "publisher" },
    ]);
    await service.publishItem(BOB, NODE, { id: "bobs", payload: "<e/>" });
    await expectError(() => service.retractItem(BOB, NODE, { id: "a" }), {
      condition: "forbidden",
    });
    expect((await service.retractItem(BOB, NODE, { id: "bobs" })).result.id).toBe("bobs");
    expect((await service.retractItem(DAVE, NODE, { id: "a" })).result.id).toBe("a");
  });
});

describe("getItems", () => {
  const five = ["i1", "i2", "i3", "i4", "i5"];

  it("returns all items newest first with the count", async () => {
    const { service } = await withPosts(five);
    const page = (await service.getItems(BOB, NODE)).result;
    expect(ids(page.items)).toEqual(["i5", "i4", "i3", "i2", "i1"]);
    expect(page).toMatchObject({ count: 5, firstIndex: 0 });
  });

  it("returns requested ids only, and max_items newest", async () => {
    const { service } = await withPosts(five);
    expect(
      ids((await service.getItems(BOB, NODE, { ids: ["i2", "i4", "zz"] })).result.items),
    ).toEqual(["i4", "i2"]);
    expect(ids((await service.getItems(BOB, NODE, { maxItems: 2 })).result.items)).toEqual([
      "i5",
      "i4",
    ]);
  });

  it("pages with RSM after, before and before-empty (the last page)", async () => {
    const { service } = await withPosts(five);
    expect(
      ids((await service.getItems(BOB, NODE, { rsm: { max: 2, after: "i4" } })).result.items),
    ).toEqual(["i3", "i2"]);
    expect(
      ids((await service.getItems(BOB, NODE, { rsm: { max: 2, before: "i2" } })).result.items),
    ).toEqual(["i4", "i3"]);
    const last = (await service.getItems(BOB, NODE, { rsm: { max: 2, before: "" } })).result;
    expect(ids(last.items)).toEqual(["i2", "i1"]);
    expect(last).toMatchObject({ count: 5, firstIndex: 3 });
  });

  it("uses the smaller of max_items and RSM max", async () => {
    const { service } = await withPosts(five);
    expect(
      (await service.getItems(BOB, NODE, { maxItems: 3, rsm: { max: 1 } })).result.items,
    ).toHaveLength(1);
    expect(
      (await service.getItems(BOB, NODE, { maxItems: 1, rsm: { max: 3 } })).result.items,
    ).toHaveLength(1);
  });

  it("answers item-not-found for an unknown RSM anchor or node, bad-request for a negative max", async () => {
    const { service } = await withPosts(five);
    await expectError(() => service.getItems(BOB, NODE, { rsm: { after: "nope" } }), {
      condition: "item-not-found",
    });
    await expectError(() => service.getItems(BOB, { ...NODE, service: "bob@mb.example.org" }), {
      condition: "item-not-found",
    });
    await expectError(() => service.getItems(BOB, NODE, { rsm: { max: -1 } }), {
      condition: "bad-request",
    });
  });

  it("authorize: non-subscribers get not-authorized + not-subscribed; subscribers and the owner read", async () => {
    const { service } = await withPosts(five);
    await service.subscribe(BOB, NODE, { jid: BOB });
    await service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    await expectError(() => service.getItems(CAROL, NODE), {
      condition: "not-authorized",
      pubsubCondition: "not-subscribed",
    });
    expect((await service.getItems(BOB, NODE)).result.count).toBe(5);
    expect((await service.getItems(`${BOB}/phone`, NODE)).result.count).toBe(5);
    expect((await service.getItems(`${ALICE}/x`, NODE)).result.count).toBe(5);
  });

  it("whitelist: non-members get not-allowed + closed-node; members read", async () => {
    const { service } = await withPosts(five);
    await service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    await service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    await expectError(() => service.getItems(CAROL, NODE), {
      condition: "not-allowed",
      pubsubCondition: "closed-node",
    });
    expect((await service.getItems(BOB, NODE)).result.count).toBe(5);
  });

  it("refuses outcasts with forbidden and counts the refusal by reason", async () => {
    const { service } = await withPosts(five);
    await service.setNodeAffiliations(ALICE, NODE, [
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    await expectError(() => service.getItems(EVE, NODE), {
      condition: "forbidden",
      reason: "outcast-domain",
    });
    expect((await service.getRefusalCounts())["outcast-domain"]).toBe(1);
  });
});
