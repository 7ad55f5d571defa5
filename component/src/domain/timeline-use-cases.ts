/**
 * Following and the home timeline, as use cases over one transaction each (load, decide,
 * write). The requests that cross the network (subscribe, fetch items) are made by the
 * federation layer between these steps; what they answered comes in as plain data.
 *
 * The spam filter lives here, in one place: a post enters u's timeline only from a node u
 * follows (or u's own node, written by publishItem).
 */
import { PubsubError } from "./errors.js";
import type { Outcome, PubsubEvent, TimelinePosts } from "./events.js";
import { bareJid, domainOf, localOf } from "./jid.js";
import type { CoreContext } from "./service-context.js";
import {
  DEFAULT_USER_SETTINGS,
  type Follow,
  type FollowState,
  type TimelineEntry,
  type UserSettings,
} from "./timeline-types.js";
import type { NodeRef } from "./types.js";

/** Bounds of following and timelines (configurable; see DEFAULT_TIMELINE_LIMITS). */
export interface TimelineLimits {
  /** Nodes one user may follow. */
  maxFollows: number;
  /** Entries kept in one home timeline; the oldest go. */
  maxTimelineEntries: number;
  /** Newest items fetched into the timeline on follow and on catch-up. */
  backfill: number;
}

/**
 * 2,000 follows (people who follow more read lists, not timelines), 10,000 timeline entries
 * (weeks of a busy timeline, a few MB), 20 items of backfill (one screen).
 */
export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = {
  maxFollows: 2000,
  maxTimelineEntries: 10_000,
  backfill: 20,
};

/** A post as it arrived from a followed node, already checked as an Atom entry. */
export interface IncomingPost {
  itemId: string;
  payload: string;
  author: string;
  publishedAt: number;
}

/** Why a post or event was not let into a timeline (counted as `dropped:<reason>`). */
export type DropReason = "not-following" | "follow-limit";

export interface BeginFollowResult {
  follow: Follow;
  /** The user already followed (or asked to follow) this node: nothing was sent. */
  already: boolean;
}

const userOf = (user: string) => bareJid(user).toLowerCase();

/** Record that `user` asks to follow `ref` (state "requested"), within the follow limit. */
export async function beginFollow(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
  target: string,
): Promise<Outcome<BeginFollowResult>> {
  const u = userOf(user);
  const existing = await ctx.tx.getFollow(u, ref);
  if (existing) return { result: { follow: existing, already: true }, events: [] };
  const count = await ctx.tx.countFollows(u);
  if (count >= ctx.timeline.maxFollows) {
    throw new PubsubError("policy-violation", {
      text: `you follow ${count} microblogs, the most this service allows; unfollow one first`,
    });
  }
  const now = ctx.now();
  const follow: Follow = {
    user: u,
    service: ref.service,
    node: ref.node,
    domain: domainOf(ref.service).toLowerCase(),
    target,
    state: "requested",
    createdAt: now,
    updatedAt: now,
  };
  await ctx.tx.putFollow(follow);
  return { result: { follow, already: false }, events: [] };
}

/**
 * The remote service answered (subscribe result, or a §8.2/§12.7 subscription notification):
 * "pending" or "subscribed" update the follow, "none" ends it (denied, or unsubscribed by the
 * remote side) and takes its posts out of the timeline. Undefined when there is no such follow
 * (an answer nobody asked for changes nothing).
 */
export async function settleFollow(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
  answer: { state: FollowState | "none"; subid?: string },
): Promise<Outcome<Follow | undefined>> {
  const u = userOf(user);
  const follow = await ctx.tx.getFollow(u, ref);
  if (!follow) return { result: undefined, events: [] };
  if (answer.state === "none") {
    await endFollowing(ctx, u, ref);
    return { result: undefined, events: [] };
  }
  const next: Follow = { ...follow, state: answer.state, updatedAt: ctx.now() };
  if (answer.subid) next.subid = answer.subid;
  await ctx.tx.putFollow(next);
  return { result: next, events: [] };
}

async function endFollowing(ctx: CoreContext, u: string, ref: NodeRef): Promise<number> {
  await ctx.tx.deleteFollow(u, ref);
  return ctx.tx.deleteTimelineNode(u, ref);
}

/** Unfollow: the follow and the node's posts in the timeline go. */
export async function endFollow(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
): Promise<Outcome<{ existed: boolean; removed: number }>> {
  const u = userOf(user);
  const existed = (await ctx.tx.getFollow(u, ref)) !== undefined;
  const removed = existed ? await endFollowing(ctx, u, ref) : 0;
  return { result: { existed, removed }, events: [] };
}

export async function listFollowing(ctx: CoreContext, user: string): Promise<Outcome<Follow[]>> {
  return { result: await ctx.tx.listFollows(userOf(user)), events: [] };
}

export async function findFollow(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
): Promise<Outcome<Follow | undefined>> {
  return { result: await ctx.tx.getFollow(userOf(user), ref), events: [] };
}

export async function userSettings(ctx: CoreContext, user: string): Promise<UserSettings> {
  return (await ctx.tx.getUserSettings(userOf(user))) ?? DEFAULT_USER_SETTINGS;
}

export async function getSettings(ctx: CoreContext, user: string): Promise<Outcome<UserSettings>> {
  return { result: await userSettings(ctx, user), events: [] };
}

export async function updateSettings(
  ctx: CoreContext,
  user: string,
  change: Partial<UserSettings>,
): Promise<Outcome<UserSettings>> {
  const next = { ...(await userSettings(ctx, user)), ...change };
  await ctx.tx.putUserSettings(userOf(user), next);
  return { result: next, events: [] };
}

/**
 * Where posts come from: a live event; a replay (an event carrying XEP-0203 delay: the last item
 * a service sends a new subscriber); the first fill of a new follow; a catch-up after a loss.
 */
export type PostSource = "event" | "replay" | "initial" | "catch-up";

/** Only news is relayed: not the fill of a new follow, nor a replay of what the node had. */
const RELAYED: Record<PostSource, boolean> = {
  event: true,
  replay: false,
  initial: false,
  "catch-up": true,
};

export interface RecordPostsResult {
  /** Entries new to the timeline (relayed), oldest first. */
  added: TimelineEntry[];
  replaced: number;
  /** Set when nothing was let in, and why. */
  dropped?: DropReason;
}

/**
 * Posts from `ref` for `user`'s timeline: only when `user` follows `ref` (else dropped, the
 * spam filter). An event from a node whose follow is still "requested" or "pending" shows the
 * remote side treats us as subscribed: the follow becomes "subscribed". New entries of a live
 * event or a catch-up are relayed (a TimelinePosts event; `relay` says whether the user wants
 * them); a repeat changes nothing.
 */
export async function recordPosts(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
  posts: readonly IncomingPost[],
  source: PostSource,
): Promise<Outcome<RecordPostsResult>> {
  const u = userOf(user);
  const follow = await ctx.tx.getFollow(u, ref);
  if (!follow) return { result: { added: [], replaced: 0, dropped: "not-following" }, events: [] };
  if ((source === "event" || source === "replay") && follow.state !== "subscribed") {
    await ctx.tx.putFollow({ ...follow, state: "subscribed", updatedAt: ctx.now() });
  }
  const wanted = source === "catch-up" ? await missedPosts(ctx, u, ref, posts) : posts;
  const named = wanted.map((p) => ({ ...p, author: authorFor(p.author, ref, follow) }));
  const { added, replaced } = await storeEntries(ctx, u, ref, named);
  if (added.length > 0) await ctx.tx.trimTimeline(u, ctx.timeline.maxTimelineEntries);
  const events: PubsubEvent[] = [];
  if (added.length > 0 && RELAYED[source]) events.push(await timelinePosts(ctx, u, added));
  return { result: { added, replaced }, events };
}

/**
 * What of a catch-up's posts the timeline missed, by index probes only (no walk of the timeline).
 * When the node has entries there: what is not older than its newest one (an older post was
 * seen already, and perhaps retracted or trimmed since: it would come back as new). When it has
 * none and the timeline is full: what was published after the timeline's oldest entry (by seq,
 * its order) arrived. An older post would sit below that entry had it come in time, and would
 * have been trimmed since: let in, it would show as new and push out a newer entry.
 */
async function missedPosts(
  ctx: CoreContext,
  u: string,
  ref: NodeRef,
  posts: readonly IncomingPost[],
): Promise<readonly IncomingPost[]> {
  if (posts.length === 0) return posts;
  const mark = await ctx.tx.newestNodeEntry(u, ref);
  if (mark) return posts.filter((p) => p.publishedAt >= mark.publishedAt);
  if ((await ctx.tx.timelineSize(u)) < ctx.timeline.maxTimelineEntries) return posts;
  const [oldest] = await ctx.tx.listTimeline(u, {}, 1, "oldest");
  return oldest ? posts.filter((p) => p.publishedAt > oldest.receivedAt) : posts;
}

/**
 * The author shown for a post: what the entry claims only when it is the followed service, the
 * JID the user followed, or the owner of a Warble address (u@D for u@C or u\40D@C, C a
 * subdomain of D); anything else could put words in someone else's mouth: the service.
 */
export function authorFor(claimed: string, ref: NodeRef, follow: Follow): string {
  const service = ref.service.toLowerCase();
  const a = claimed.toLowerCase();
  if (a === service || a === bareJid(follow.target).toLowerCase()) return a;
  const local = localOf(a);
  const domain = domainOf(a);
  const serviceLocal = localOf(service);
  const serviceDomain = domainOf(service);
  if (local !== undefined && serviceLocal === `${local}\\40${domain}`) return a;
  if (local !== undefined && serviceLocal === local && serviceDomain.endsWith(`.${domain}`))
    return a;
  return service;
}

async function storeEntries(
  ctx: CoreContext,
  u: string,
  ref: NodeRef,
  posts: readonly IncomingPost[],
): Promise<{ added: TimelineEntry[]; replaced: number }> {
  const added: TimelineEntry[] = [];
  let replaced = 0;
  const receivedAt = ctx.now();
  for (const p of posts) {
    const { entry, write } = await ctx.tx.upsertTimelineEntry({
      user: u,
      service: ref.service,
      node: ref.node,
      itemId: p.itemId,
      author: p.author,
      payload: p.payload,
      publishedAt: p.publishedAt,
      receivedAt,
    });
    if (write === "inserted") added.push(entry);
    else if (write === "replaced") replaced++;
  }
  return { added, replaced };
}

async function timelinePosts(
  ctx: CoreContext,
  u: string,
  entries: TimelineEntry[],
): Promise<TimelinePosts> {
  const { relay } = await userSettings(ctx, u);
  return { type: "timeline-posts", user: u, entries, relay };
}

/**
 * Retractions (or a purge: `itemIds` undefined) from a followed node; from a node the user does
 * not follow they are dropped like posts.
 */
export async function removePosts(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
  itemIds: readonly string[] | undefined,
): Promise<Outcome<{ removed: number; dropped?: DropReason }>> {
  const u = userOf(user);
  if (!(await ctx.tx.getFollow(u, ref))) {
    return { result: { removed: 0, dropped: "not-following" }, events: [] };
  }
  const removed = itemIds
    ? await ctx.tx.deleteTimelineItems(u, ref, itemIds)
    : await ctx.tx.deleteTimelineNode(u, ref);
  return { result: { removed }, events: [] };
}

/** The followed node was deleted (§8.4.2): the follow ends like an unsubscribe. */
export async function followedNodeDeleted(
  ctx: CoreContext,
  user: string,
  ref: NodeRef,
): Promise<Outcome<{ dropped?: DropReason }>> {
  const u = userOf(user);
  if (!(await ctx.tx.getFollow(u, ref)))
    return { result: { dropped: "not-following" }, events: [] };
  await endFollowing(ctx, u, ref);
  return { result: {}, events: [] };
}

/** u's own post enters u's own timeline, in the publish's transaction (author: u). */
export async function recordOwnPost(
  ctx: CoreContext,
  owner: string,
  ref: NodeRef,
  item: { id: string; payload: string; createdAt: number },
): Promise<void> {
  const u = userOf(owner);
  const { write } = await ctx.tx.upsertTimelineEntry({
    user: u,
    service: ref.service,
    node: ref.node,
    itemId: item.id,
    author: u,
    payload: item.payload,
    publishedAt: item.createdAt,
    receivedAt: ctx.now(),
  });
  if (write === "inserted") await ctx.tx.trimTimeline(u, ctx.timeline.maxTimelineEntries);
}
