import { describe, expect, it } from "vitest";
import { MICROBLOG_NODE } from "../../../component/src/domain/types.js";
import { ALICE, BOB, NODE, read } from "./fixture.js";
import { itemIds, keys, makeTimeline, timelineOf } from "./timeline-fixture.js";

describe("own posts", () => {
  const publish = (h: ReturnType<typeof makeTimeline>, id: string, text = id) =>
    h.service.publishItem(`${ALICE}/phone`, NODE, { id, payload: `<entry>${text}</entry>` });

  it("enter the owner's timeline on publish, authored by the owner, without a follow", async () => {
    const h = makeTimeline();
    await publish(h, "p1");
    h.clock.now += 1000;
    await publish(h, "p2");
    const entries = await timelineOf(h);
    expect(keys(entries)).toEqual([
      `${NODE.service} ${MICROBLOG_NODE} p1`,
      `${NODE.service} ${MICROBLOG_NODE} p2`,
    ]);
    expect(entries[0]).toMatchObject({ user: ALICE, author: ALICE, payload: "<entry>p1</entry>" });
    expect((await h.timeline.queryTimeline(ALICE, ALICE, {})).result.count).toBe(2);
    expect(await timelineOf(h, BOB)).toEqual([]);
  });

  it("are replaced in place on a republish, and only microblog posts go in", async () => {
    const h = makeTimeline();
    await publish(h, "p1");
    const [before] = await timelineOf(h);
    await publish(h, "p1", "edited");
    const after = await timelineOf(h);
    expect(after).toEqual([{ ...before, payload: "<entry>edited</entry>" }]);
    const notes = { ...NODE, node: "notes" };
    await h.service.publishItem(ALICE, notes, { id: "n1", payload: "<entry>n</entry>" });
    expect(itemIds(await timelineOf(h))).toEqual(["p1"]);
  });

  it("leave it on retract, purge and delete", async () => {
    const h = makeTimeline();
    for (const id of ["p1", "p2", "p3"]) await publish(h, id);
    await h.service.retractItem(ALICE, NODE, { id: "p2" });
    expect(itemIds(await timelineOf(h))).toEqual(["p1", "p3"]);
    await h.service.purgeNode(ALICE, NODE);
    expect(await timelineOf(h)).toEqual([]);
    await publish(h, "p4");
    await h.service.deleteNode(ALICE, NODE);
    expect(await timelineOf(h)).toEqual([]);
  });

  it("count against the timeline bound like other posts", async () => {
    const h = makeTimeline({ timeline: { maxTimelineEntries: 2 } });
    for (const id of ["p1", "p2", "p3"]) await publish(h, id);
    expect(itemIds(await timelineOf(h))).toEqual(["p2", "p3"]);
    expect(await read(h, (tx) => tx.countTimeline(ALICE, {}))).toBe(2);
  });
});
