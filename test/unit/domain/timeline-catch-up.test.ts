/**
 * What a catch-up lets into a home timeline (recordPosts with source "catch-up"): what was
 * missed, not what was seen and trimmed since (issue 12: trimmed posts came back into full
 * timelines, as new).
 */
import { describe, expect, it } from "vitest";
import { ALICE } from "./fixture.js";
import {
  CAROL_NODE,
  ERIN_NODE,
  following,
  itemIds,
  makeTimeline,
  post,
  timelineOf,
} from "./timeline-fixture.js";

const at = (id: string, publishedAt: number) => ({ ...post(id), publishedAt });

/** A timeline of at most 3 entries that follows Carol and Erin, filled with Erin's posts. */
async function fullOfErin() {
  const h = makeTimeline({ timeline: { maxTimelineEntries: 3 } });
  await following(h, CAROL_NODE);
  await following(h, ERIN_NODE);
  h.clock.now = 1000;
  await h.timeline.recordPosts(ALICE, CAROL_NODE, [at("c1", 900), at("c2", 950)], "event");
  for (const [i, t] of [2000, 3000, 4000].entries()) {
    h.clock.now = t;
    await h.timeline.recordPosts(ALICE, ERIN_NODE, [at(`e${i}`, t - 10)], "event");
  }
  // Carol's posts were trimmed: the oldest entry (e0) arrived at 2000.
  expect(itemIds(await timelineOf(h))).toEqual(["e0", "e1", "e2"]);
  h.clock.now = 5000;
  return h;
}

describe("catch-up into a full timeline", () => {
  it("does not bring back posts trimmed from it", async () => {
    const h = await fullOfErin();
    const out = await h.timeline.recordPosts(
      ALICE,
      CAROL_NODE,
      [at("c1", 900), at("c2", 950)],
      "catch-up",
    );
    expect(out.result.added).toEqual([]);
    expect(out.events).toEqual([]);
    expect(itemIds(await timelineOf(h))).toEqual(["e0", "e1", "e2"]);
  });

  it("brings what was published after its oldest entry arrived, as new, trimming the oldest", async () => {
    const h = await fullOfErin();
    const out = await h.timeline.recordPosts(
      ALICE,
      CAROL_NODE,
      [at("c1", 900), at("c2", 950), at("c3", 2000), at("c4", 4500)],
      "catch-up",
    );
    expect(itemIds(out.result.added)).toEqual(["c4"]);
    expect(itemIds(await timelineOf(h))).toEqual(["e1", "e2", "c4"]);
  });

  it("brings what is newer than the node's newest entry, however old the timeline's entries", async () => {
    const h = await fullOfErin();
    const out = await h.timeline.recordPosts(
      ALICE,
      ERIN_NODE,
      [at("e0", 1990), at("old", 1500), at("e2", 3990), at("e3", 3995)],
      "catch-up",
    );
    expect(itemIds(out.result.added)).toEqual(["e3"]);
    expect(itemIds(await timelineOf(h))).toEqual(["e1", "e2", "e3"]);
  });

  it("lets every missed post into a timeline that is not full", async () => {
    const h = makeTimeline({ timeline: { maxTimelineEntries: 3 } });
    await following(h, CAROL_NODE);
    h.clock.now = 5000;
    const out = await h.timeline.recordPosts(
      ALICE,
      CAROL_NODE,
      [at("c1", 1), at("c2", 2)],
      "catch-up",
    );
    expect(itemIds(out.result.added)).toEqual(["c1", "c2"]);
  });

  it("leaves live events alone: a post trimmed and sent again comes in", async () => {
    const h = await fullOfErin();
    const out = await h.timeline.recordPosts(ALICE, CAROL_NODE, [at("c9", 100)], "event");
    expect(itemIds(out.result.added)).toEqual(["c9"]);
  });
});
