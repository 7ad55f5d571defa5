import { describe, expect, it } from "vitest";
import { TimelineService } from "../../../component/src/domain/timeline-service.js";
import { ALICE, BOB, CAROL, NODE, read, withPosts } from "./fixture.js";

async function subscribed() {
  const h = await withPosts(["a"]);
  await h.service.subscribe(CAROL, NODE, { jid: CAROL });
  await h.service.subscribe(BOB, NODE, { jid: BOB });
  return { ...h, timeline: new TimelineService(h.service) };
}

const subscribers = (h: Awaited<ReturnType<typeof subscribed>>) =>
  read(h, async (tx) => (await tx.listNodeSubscriptions(NODE)).map((s) => s.jid).sort());

describe("endSubscriptionOnError", () => {
  it("ends the subscription and tells the owner why", async () => {
    const h = await subscribed();
    const sub = await read(h, (tx) => tx.getSubscription(NODE, CAROL));
    expect(sub?.state).toBe("subscribed");
    const out = await h.timeline.endSubscriptionOnError(NODE, CAROL, "item-not-found");
    expect(out.result).toBe(true);
    expect(out.events).toEqual([
      {
        type: "subscription-changed",
        ...NODE,
        jid: CAROL,
        subid: sub?.subid,
        state: "none",
        owner: ALICE,
        notifyOwner: true,
        cause: "delivery-failed",
        detail: "item-not-found",
      },
    ]);
    expect(await subscribers(h)).toEqual([BOB]);
    expect(await h.service.getCounters()).toMatchObject({ "subscription:ended-on-error": 1 });
  });

  it("tells the owner even when the node does not notify subscription changes", async () => {
    const h = await subscribed();
    await h.service.configureNode(ALICE, NODE, { notifySub: false });
    const out = await h.timeline.endSubscriptionOnError(NODE, BOB, "forbidden");
    expect(out.events).toMatchObject([{ notifyOwner: true, detail: "forbidden", jid: BOB }]);
  });

  it("finds the subscription whatever the case of the JID", async () => {
    const h = await subscribed();
    const out = await h.timeline.endSubscriptionOnError(NODE, "CAROL@Remote.Example", "gone");
    expect(out.result).toBe(true);
    expect(await subscribers(h)).toEqual([BOB]);
  });

  it("does nothing for an unknown node or a JID without a subscription", async () => {
    const h = await subscribed();
    const cases = [
      [{ ...NODE, node: "nope" }, CAROL],
      [{ ...NODE, service: "nobody@mb.example.org" }, CAROL],
      [NODE, "dave@remote.example"],
      [NODE, `${CAROL}/phone`],
    ] as const;
    for (const [ref, jid] of cases) {
      expect(await h.timeline.endSubscriptionOnError(ref, jid, "item-not-found")).toEqual({
        result: false,
        events: [],
      });
    }
    expect(await subscribers(h)).toEqual([BOB, CAROL].sort());
    expect(await h.service.getCounters()).not.toHaveProperty("subscription:ended-on-error");
    // Once ended, a second failure for it changes nothing.
    await h.timeline.endSubscriptionOnError(NODE, CAROL, "item-not-found");
    expect((await h.timeline.endSubscriptionOnError(NODE, CAROL, "item-not-found")).result).toBe(
      false,
    );
  });
});
