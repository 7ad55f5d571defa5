/** A TimelineService over the fixture's MemoryStore-backed PubsubService, for the timeline tests. */
import type { PubsubServiceOptions } from "../../../component/src/domain/pubsub-service.js";
import type { RetryPolicy } from "../../../component/src/domain/retry-schedule.js";
import { TimelineService } from "../../../component/src/domain/timeline-service.js";
import type { TimelineEntry } from "../../../component/src/domain/timeline-types.js";
import type { IncomingPost } from "../../../component/src/domain/timeline-use-cases.js";
import { MICROBLOG_NODE, type NodeRef } from "../../../component/src/domain/types.js";
import { ALICE, type Harness, makeHarness, read } from "./fixture.js";

/** Carol's microblog at her own server, and another remote one. */
export const CAROL_NODE: NodeRef = { service: "carol@remote.example", node: MICROBLOG_NODE };
export const ERIN_NODE: NodeRef = { service: "erin@other.example", node: MICROBLOG_NODE };

export interface TimelineHarness extends Harness {
  timeline: TimelineService;
}

export function makeTimeline(
  options: Partial<PubsubServiceOptions> = {},
  retry: Partial<RetryPolicy> = {},
): TimelineHarness {
  const h = makeHarness(options);
  return { ...h, timeline: new TimelineService(h.service, retry) };
}

/** An incoming post; the payload names the id (and `v`, to make a changed version). */
export function post(itemId: string, v = 1, author = CAROL_NODE.service): IncomingPost {
  return {
    itemId,
    author,
    payload: `<entry xmlns="http://www.w3.org/2005/Atom"><id>${itemId}</id><v>${v}</v></entry>`,
    publishedAt: 1_600_000_000_000,
  };
}

/** `user` follows `ref` and the remote side said subscribed. */
export async function following(
  h: TimelineHarness,
  ref: NodeRef = CAROL_NODE,
  user: string = ALICE,
): Promise<void> {
  await h.timeline.beginFollow(user, ref, ref.service);
  await h.timeline.settleFollow(user, ref, { state: "subscribed" });
}

/** The whole stored timeline of `user`, oldest first (read from the store directly). */
export function timelineOf(h: Harness, user: string = ALICE): Promise<TimelineEntry[]> {
  return read(h, (tx) => tx.listTimeline(user, {}, 1_000_000, "oldest"));
}

/** "service node itemId" of each entry. */
export const keys = (entries: readonly TimelineEntry[]): string[] =>
  entries.map((e) => `${e.service} ${e.node} ${e.itemId}`);

export const itemIds = (entries: readonly TimelineEntry[]): string[] =>
  entries.map((e) => e.itemId);
