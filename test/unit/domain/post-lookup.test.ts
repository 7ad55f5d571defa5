/**
 * What a chat line may quote (visiblePost) and the roster mark of a subscription: a post of an
 * open node here to anyone; a locked account's post only from the reader's own timeline; a
 * subscription asked for by presence notifies by chat, one asked for by pubsub does not.
 */
import { describe, expect, it } from "vitest";
import { ALICE, BOB, DAVE, NODE } from "./fixture.js";
import { CAROL_NODE, following, makeTimeline, post } from "./timeline-fixture.js";

describe("visiblePost", () => {
  const publish = (h: ReturnType<typeof makeTimeline>, id: string) =>
    h.service.publishItem(ALICE, NODE, { id, payload: `<entry>${id}</entry>` });

  it("a post of an open node here, to anyone; none of a node that is not open", async () => {
    const h = makeTimeline();
    await publish(h, "p1");
    expect(await h.timeline.visiblePost(NODE, "p1")).toEqual({ payload: "<entry>p1</entry>" });
    expect(await h.timeline.visiblePost(NODE, "nope")).toBeUndefined();
    await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(await h.timeline.visiblePost(NODE, "p1")).toBeUndefined();
    expect(await h.timeline.visiblePost(NODE, "p1", BOB)).toBeUndefined();
    // The owner's own timeline holds her post: she may be shown it.
    expect(await h.timeline.visiblePost(NODE, "p1", ALICE)).toEqual({
      payload: "<entry>p1</entry>",
    });
  });

  it("a remote post only from the reader's own timeline", async () => {
    const h = makeTimeline();
    await following(h, CAROL_NODE, ALICE);
    const incoming = post("c1");
    await h.timeline.recordPosts(ALICE, CAROL_NODE, [incoming], "event");
    expect(await h.timeline.visiblePost(CAROL_NODE, "c1", ALICE)).toEqual({
      payload: incoming.payload,
    });
    expect(await h.timeline.visiblePost(CAROL_NODE, "c1", BOB)).toBeUndefined();
    expect(await h.timeline.visiblePost(CAROL_NODE, "c1")).toBeUndefined();
  });
});

describe("subscriptions asked for by presence", () => {
  it("notify by chat; pubsub ones by headline; a later roster request marks an existing one", async () => {
    const h = makeTimeline();
    await h.service.publishItem(ALICE, NODE, { id: "p0", payload: "<entry>p0</entry>" });
    await h.service.subscribe(BOB, NODE, { jid: BOB, byPresence: true });
    await h.service.subscribe(DAVE, NODE, { jid: DAVE });
    const recipients = async () => {
      const { events } = await h.service.publishItem(ALICE, NODE, { payload: "<entry>x</entry>" });
      const published = events.find((e) => e.type === "item-published");
      return published && "recipients" in published ? published.recipients : [];
    };
    expect(await recipients()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ jid: BOB, chat: true }),
        expect.not.objectContaining({ chat: true }),
      ]),
    );
    expect((await recipients()).find((r) => r.jid === DAVE)?.chat).toBeUndefined();
    await h.service.subscribe(DAVE, NODE, { jid: DAVE, byPresence: true });
    expect((await recipients()).find((r) => r.jid === DAVE)?.chat).toBe(true);
  });
});
