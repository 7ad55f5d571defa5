/**
 * The public face of following, timelines, the outbox and delivery failures: one method per
 * use case, each in one transaction of the pubsub core's store (PubsubService.run).
 */
import { endSubscriptionOnError } from "./delivery-failure.js";
import type { Outcome } from "./events.js";
import {
  type Bounce,
  type DeferResult,
  deferDelivery,
  outboxDomains,
  type Probe,
  queueBehind,
  settleOutbox,
  takeDueDeliveries,
  unsendOutbox,
  wakeDomain,
} from "./outbox-use-cases.js";
import { type VisiblePost, visiblePost } from "./post-lookup.js";
import type { PubsubService } from "./pubsub-service.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-schedule.js";
import { queryTimeline, type TimelinePage, type TimelineQuery } from "./timeline-query.js";
import type {
  Follow,
  FollowCursor,
  FollowState,
  OutboxEntry,
  UserSettings,
} from "./timeline-types.js";
import {
  type BeginFollowResult,
  beginFollow,
  endFollow,
  findFollow,
  followedNodeDeleted,
  getSettings,
  type IncomingPost,
  listFollowing,
  type PostSource,
  type RecordPostsResult,
  recordPosts,
  removePosts,
  settleFollow,
  updateSettings,
} from "./timeline-use-cases.js";
import type { Item, NodeRef } from "./types.js";

export class TimelineService {
  readonly retry: RetryPolicy;

  constructor(
    private readonly pubsub: PubsubService,
    retry: Partial<RetryPolicy> = {},
  ) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...retry };
  }

  beginFollow(user: string, ref: NodeRef, target: string): Promise<Outcome<BeginFollowResult>> {
    return this.pubsub.run((ctx) => beginFollow(ctx, user, ref, target));
  }

  settleFollow(
    user: string,
    ref: NodeRef,
    answer: { state: FollowState | "none"; subid?: string },
  ): Promise<Outcome<Follow | undefined>> {
    return this.pubsub.run((ctx) => settleFollow(ctx, user, ref, answer));
  }

  endFollow(user: string, ref: NodeRef): Promise<Outcome<{ existed: boolean; removed: number }>> {
    return this.pubsub.run((ctx) => endFollow(ctx, user, ref));
  }

  findFollow(user: string, ref: NodeRef): Promise<Outcome<Follow | undefined>> {
    return this.pubsub.run((ctx) => findFollow(ctx, user, ref));
  }

  listFollowing(user: string): Promise<Outcome<Follow[]>> {
    return this.pubsub.run((ctx) => listFollowing(ctx, user));
  }

  /**
   * A page of the follows at `domain` (of every follow without it), in key order, after `after`:
   * catch-up reads them a page at a time.
   */
  pageFollowsAt(
    domain: string | undefined,
    after: FollowCursor | undefined,
    limit: number,
  ): Promise<Follow[]> {
    return this.pubsub
      .run(async (ctx) => ({
        result: await ctx.tx.pageFollowsAt(domain, after, limit),
        events: [],
      }))
      .then((o) => o.result);
  }

  /**
   * The newest `max` items of a node of this service as `actor` may retrieve them (the items
   * request's use case and access check, without the stanzas): a local follow's backfill.
   */
  readItems(actor: string, ref: NodeRef, max: number): Promise<Item[]> {
    return this.pubsub.getItems(actor, ref, { rsm: { max } }).then((o) => o.result.items);
  }

  recordPosts(
    user: string,
    ref: NodeRef,
    posts: readonly IncomingPost[],
    source: PostSource,
  ): Promise<Outcome<RecordPostsResult>> {
    return this.pubsub.run((ctx) => recordPosts(ctx, user, ref, posts, source));
  }

  removePosts(
    user: string,
    ref: NodeRef,
    itemIds: readonly string[] | undefined,
  ): Promise<Outcome<{ removed: number; dropped?: "not-following" | "follow-limit" }>> {
    return this.pubsub.run((ctx) => removePosts(ctx, user, ref, itemIds));
  }

  followedNodeDeleted(user: string, ref: NodeRef) {
    return this.pubsub.run((ctx) => followedNodeDeleted(ctx, user, ref));
  }

  getSettings(user: string): Promise<Outcome<UserSettings>> {
    return this.pubsub.run((ctx) => getSettings(ctx, user));
  }

  updateSettings(user: string, change: Partial<UserSettings>): Promise<Outcome<UserSettings>> {
    return this.pubsub.run((ctx) => updateSettings(ctx, user, change));
  }

  /** A post a chat line may quote to `reader` (none: to anyone). */
  visiblePost(ref: NodeRef, itemId: string, reader?: string): Promise<VisiblePost | undefined> {
    return this.pubsub.run((ctx) => visiblePost(ctx, ref, itemId, reader)).then((o) => o.result);
  }

  queryTimeline(actor: string, user: string, q: TimelineQuery): Promise<Outcome<TimelinePage>> {
    return this.pubsub.run((ctx) => queryTimeline(ctx, actor, user, q));
  }

  deferDelivery(bounce: Bounce): Promise<Outcome<DeferResult>> {
    return this.pubsub.run((ctx) => deferDelivery(ctx, bounce, this.retry));
  }

  queueBehind(item: {
    recipient: string;
    domain: string;
    messageId: string;
    stanza: string;
  }): Promise<Outcome<OutboxEntry | undefined>> {
    return this.pubsub.run((ctx) => queueBehind(ctx, item, this.retry));
  }

  takeDueDeliveries(limit: number, probe?: Probe): Promise<Outcome<OutboxEntry[]>> {
    return this.pubsub.run((ctx) => takeDueDeliveries(ctx, limit, probe));
  }

  settleOutbox(quietMs: number, limit: number) {
    return this.pubsub.run((ctx) => settleOutbox(ctx, quietMs, limit));
  }

  wakeDomain(domain: string): Promise<Outcome<number>> {
    return this.pubsub.run((ctx) => wakeDomain(ctx, domain));
  }

  unsendOutbox(): Promise<Outcome<number>> {
    return this.pubsub.run((ctx) => unsendOutbox(ctx));
  }

  outboxDomains() {
    return this.pubsub.run((ctx) => outboxDomains(ctx));
  }

  countOutbox(): Promise<number> {
    return this.pubsub
      .run(async (ctx) => ({ result: await ctx.tx.countOutbox(), events: [] }))
      .then((o) => o.result);
  }

  endSubscriptionOnError(ref: NodeRef, jid: string, condition: string): Promise<Outcome<boolean>> {
    return this.pubsub.run((ctx) => endSubscriptionOnError(ctx, ref, jid, condition));
  }

  incrementCounter(name: string, by = 1): Promise<void> {
    return this.pubsub.incrementCounter(name, by);
  }
}
