/**
 * JIDs are normalised where they enter the domain (local part and domain in lower case, the
 * resource as sent): one subscription per JID whatever its case, and the owner's answers
 * (approve / deny, typed as a bare JID, in any case) find the request.
 */
import { describe, expect, it } from "vitest";
import { normalizeJid } from "../../../component/src/domain/jid.js";
import {
  ALICE,
  BOB,
  expectError,
  type Harness,
  NODE,
  ofType,
  read,
  withPosts,
  write,
} from "./fixture.js";

describe("normalizeJid", () => {
  it.each([
    ["Bob@Localhost/phone", "bob@localhost/phone"],
    ["Bob@X/Phone", "bob@x/Phone"],
    ["bob@x", "bob@x"],
    ["Rogue.EXAMPLE", "rogue.example"],
    ["A@B/r/With/Slashes", "a@b/r/With/Slashes"],
    ["Example.org/Res", "example.org/Res"],
  ])("%s → %s", (jid, expected) => {
    expect(normalizeJid(jid)).toBe(expected);
  });
});

/** Alice's node under authorize, with one post. */
async function locked(): Promise<Harness> {
  const h = await withPosts(["a"]);
  await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
  return h;
}
const jidsOf = async (h: Harness) =>
  (await read(h, (tx) => tx.listNodeSubscriptions(NODE))).map((s) => [s.jid, s.state]);

describe("subscribe and unsubscribe", () => {
  it("stores the subscription under the normalised JID", async () => {
    const h = await withPosts(["a"]);
    const out = await h.service.subscribe(`${BOB}/phone`, NODE, { jid: "Bob@Example.ORG/phone" });
    expect(out.result.jid).toBe(`${BOB}/phone`);
    expect(await jidsOf(h)).toEqual([[`${BOB}/phone`, "subscribed"]]);
  });

  it("holds one subscription for Bob@x and bob@x", async () => {
    const h = await withPosts(["a"]);
    await h.service.subscribe("Bob@Example.org", NODE, { jid: "Bob@Example.org" });
    const again = await h.service.subscribe(BOB, NODE, { jid: BOB });
    expect(again.events).toEqual([]);
    expect(await jidsOf(h)).toEqual([[BOB, "subscribed"]]);
  });

  it("unsubscribes and reads options whatever the case of the JID", async () => {
    const h = await withPosts(["a"]);
    await h.service.subscribe(`${BOB}/Phone`, NODE, { jid: `${BOB}/Phone` });
    const jid = "BOB@example.org/Phone";
    expect(
      (await h.service.getSubscriptionOptions(jid, NODE, { jid })).result.subscription.jid,
    ).toBe(`${BOB}/Phone`);
    expect((await h.service.unsubscribe(jid, NODE, { jid })).result.state).toBe("none");
    expect(await jidsOf(h)).toEqual([]);
  });

  it("the resource stays as sent: bob@x/Phone and bob@x/phone are two JIDs", async () => {
    const h = await withPosts(["a"]);
    await h.service.subscribe(`${BOB}/Phone`, NODE, { jid: `${BOB}/Phone` });
    await expectError(() => h.service.unsubscribe(BOB, NODE, { jid: `${BOB}/phone` }), {
      condition: "unexpected-request",
      pubsubCondition: "not-subscribed",
    });
  });
});

describe("the owner's answers find the request", () => {
  it("approve by the bare JID, in lower case, a request made as Bob@Localhost/phone", async () => {
    const h = await locked();
    await h.service.subscribe(`${BOB}/phone`, NODE, { jid: "Bob@Example.org/phone" });
    const out = await h.service.approveSubscription(ALICE, NODE, BOB, true);
    expect(out.result).toMatchObject({ jid: `${BOB}/phone`, state: "subscribed" });
    expect(ofType(out.events, "subscription-changed")[0]).toMatchObject({
      jid: `${BOB}/phone`,
      cause: "approved",
    });
    expect(await jidsOf(h)).toEqual([[`${BOB}/phone`, "subscribed"]]);
  });

  it("deny by the bare JID in another case", async () => {
    const h = await locked();
    await h.service.subscribe(`${BOB}/phone`, NODE, { jid: `${BOB}/phone` });
    const out = await h.service.approveSubscription(ALICE, NODE, "BOB@EXAMPLE.ORG", false);
    expect(out.result).toMatchObject({ jid: `${BOB}/phone`, state: "none" });
    expect(await jidsOf(h)).toEqual([]);
    expect((await h.service.getRefusalCounts())["denied-by-owner"]).toBe(1);
  });

  it("a full JID answers only its own request, its local part and domain in any case", async () => {
    const h = await locked();
    await h.service.subscribe(`${BOB}/phone`, NODE, { jid: `${BOB}/phone` });
    await expectError(() => h.service.approveSubscription(ALICE, NODE, `${BOB}/laptop`, true), {
      condition: "item-not-found",
    });
    await h.service.approveSubscription(ALICE, NODE, "BOB@Example.org/phone", true);
    expect(await jidsOf(h)).toEqual([[`${BOB}/phone`, "subscribed"]]);
  });

  it("a bare JID answers every pending request of that bare JID", async () => {
    const h = await locked();
    for (const resource of ["phone", "laptop"]) {
      await write(h, (tx) =>
        tx.putSubscription({
          ...NODE,
          jid: `${BOB}/${resource}`,
          subid: resource,
          state: "pending",
          createdAt: h.clock.now,
        }),
      );
    }
    const out = await h.service.approveSubscription(ALICE, NODE, BOB, true);
    expect(ofType(out.events, "subscription-changed").map((e) => e.jid)).toEqual([
      `${BOB}/laptop`,
      `${BOB}/phone`,
    ]);
    expect((await jidsOf(h)).map(([, state]) => state)).toEqual(["subscribed", "subscribed"]);
  });

  it("approving an already active subscription by its bare JID is a no-op", async () => {
    const h = await locked();
    await h.service.subscribe(`${BOB}/phone`, NODE, { jid: `${BOB}/phone` });
    await h.service.approveSubscription(ALICE, NODE, BOB, true);
    expect(
      (await h.service.approveSubscription(ALICE, NODE, "Bob@example.org", true)).events,
    ).toEqual([]);
    await expectError(() => h.service.approveSubscription(ALICE, NODE, BOB, false), {
      condition: "item-not-found",
    });
  });

  it("the owner's set-subscriptions names the JID in any case", async () => {
    const h = await locked();
    await h.service.subscribe(BOB, NODE, { jid: BOB });
    await h.service.setNodeSubscriptions(ALICE, NODE, [
      { jid: "Bob@Example.org", state: "subscribed" },
    ]);
    expect(await jidsOf(h)).toEqual([[BOB, "subscribed"]]);
    await h.service.setNodeSubscriptions(ALICE, NODE, [{ jid: "BOB@example.org", state: "none" }]);
    expect(await jidsOf(h)).toEqual([]);
  });

  it("one JID in two cases is listed twice in one set-subscriptions: bad-request", async () => {
    const h = await locked();
    await h.service.subscribe(BOB, NODE, { jid: BOB });
    await expectError(
      () =>
        h.service.setNodeSubscriptions(ALICE, NODE, [
          { jid: BOB, state: "none" },
          { jid: "Bob@example.org", state: "none" },
        ]),
      { condition: "bad-request" },
    );
  });
});

describe("subscriptions stored before normalisation (with capitals)", () => {
  async function legacy(state: "pending" | "subscribed"): Promise<Harness> {
    const h = await locked();
    await write(h, (tx) =>
      tx.putSubscription({
        ...NODE,
        jid: "Bob@Example.org/phone",
        subid: "old",
        state,
        createdAt: h.clock.now,
      }),
    );
    return h;
  }

  it("are approved and denied by the bare JID", async () => {
    const approved = await legacy("pending");
    await approved.service.approveSubscription(ALICE, NODE, BOB, true);
    expect(await jidsOf(approved)).toEqual([["Bob@Example.org/phone", "subscribed"]]);
    const denied = await legacy("pending");
    await denied.service.approveSubscription(ALICE, NODE, BOB, false);
    expect(await jidsOf(denied)).toEqual([]);
  });

  it("are found by subscribe and unsubscribe: no second subscription", async () => {
    const h = await legacy("subscribed");
    const jid = `${BOB}/phone`;
    expect((await h.service.subscribe(jid, NODE, { jid })).result.subid).toBe("old");
    expect(await jidsOf(h)).toHaveLength(1);
    await h.service.unsubscribe(jid, NODE, { jid });
    expect(await jidsOf(h)).toEqual([]);
  });
});
