/**
 * Following on behalf of a user: u@C subscribes with its own JID to the node found by the
 * locator, the answer (subscribed / pending / refused) is recorded, and the newest items enter
 * the timeline. Catch-up fetches, for each followed node, the newest items again (the
 * timeline keeps each post once, so a repeat changes nothing): at start, when the component
 * connection comes back, and when a domain that failed shows life again.
 */
import type { Logger } from "pino";
import { buildPubsubRequest } from "../../../schemas/src/pubsub-request-build.js";
import { parseItemsResult, parseSubscriptionResult } from "../../../schemas/src/pubsub-result.js";
import type { Element } from "../../../schemas/src/xml.js";
import { PubsubError } from "../domain/errors.js";
import type { PubsubEvent } from "../domain/events.js";
import type { Follow, IncomingPost, PostSource, TimelineService } from "../domain/index.js";
import { bareJid, domainOf } from "../domain/jid.js";
import type { NodeRef } from "../domain/types.js";
import type { Addresses } from "../protocol/addresses.js";
import { readIncomingPosts } from "./incoming-posts.js";
import { type IqCaller, IqError } from "./iq-caller.js";
import { isS2sFailure, type MicroblogLocator } from "./microblog-locator.js";

export interface FollowClientOptions {
  timeline: TimelineService;
  caller: IqCaller;
  locator: MicroblogLocator;
  addresses: Addresses;
  log: Logger;
  /** Hand events of committed use cases to the bus (relay). */
  publish: (events: readonly PubsubEvent[]) => void;
  backfill: number;
  /** Requests in flight during a catch-up (default 8). */
  concurrency?: number;
  /** Timeout of one request (default 20 s). */
  timeoutMs?: number;
}

export interface FollowResult {
  follow: Follow;
  already: boolean;
  /** Posts that entered the timeline. */
  backfilled: number;
}

/** A refusal in words a user reads (`follow` answers with it). */
function refusalOf(target: string, err: unknown): PubsubError {
  if (err instanceof IqError) {
    const c = err.error.condition;
    const said = err.error.text ? ` (${err.error.text})` : "";
    if (c === "item-not-found" || c === "service-unavailable" || c === "feature-not-implemented") {
      return new PubsubError("item-not-found", { text: `${target} has no microblog${said}` });
    }
    if (c === "forbidden" || c === "not-authorized" || c === "not-allowed") {
      return new PubsubError("forbidden", { text: `${target} does not let you follow${said}` });
    }
    if (isS2sFailure(err)) {
      return new PubsubError("service-unavailable", {
        text: `${target}'s server cannot be reached now; try again later`,
      });
    }
    return new PubsubError("not-acceptable", { text: `${target} refused: ${c}${said}` });
  }
  return new PubsubError("service-unavailable", {
    text: `${target}'s server did not answer in time; try again later`,
  });
}

/** The key of one node in the map of running work (domains and "" are the catch-ups'). */
const nodeKey = (ref: NodeRef) => `${ref.service}\n${ref.node}`;

/** A subscribe that got no answer (s2s failure, timeout): the follow stays "requested". */
class PendingRequest extends Error {
  constructor(target: string) {
    super(`no answer from ${target}'s server yet`);
  }
}

/** The state a subscribe answer gives; an empty result (§6.1.2 allows it) is "subscribed". */
function readSubscription(answer: Element | undefined): {
  state: "subscribed" | "pending" | "none";
  subid?: string;
} {
  let info: ReturnType<typeof parseSubscriptionResult> | undefined;
  try {
    info = answer ? parseSubscriptionResult(answer) : undefined;
  } catch {
    info = undefined;
  }
  const s = info?.subscription;
  const state =
    s === "none" ? "none" : s === "pending" || s === "unconfigured" ? "pending" : "subscribed";
  return info?.subid ? { state, subid: info.subid } : { state };
}

export class FollowClient {
  /** Domains whose last request failed: a stanza from one of them starts its catch-up. */
  private readonly troubled = new Set<string>();

  constructor(private readonly opts: FollowClientOptions) {}

  private serviceOf(user: string): string {
    const service = this.opts.addresses.serviceOf(user);
    if (!service) throw new PubsubError("forbidden", { text: `${user} has no account here` });
    return service;
  }

  /** Follow `input` (a JID, address or URI) for `user` (u@D). Throws a readable PubsubError. */
  async follow(user: string, input: string): Promise<FollowResult> {
    const self = this.serviceOf(user);
    const { ref, target } = await this.opts.locator.locate(input);
    if (ref.service === self && ref.node === "urn:xmpp:microblog:0") {
      throw new PubsubError("bad-request", { text: "your own posts are in your timeline already" });
    }
    const begun = (await this.opts.timeline.beginFollow(user, ref, target)).result;
    if (begun.already && begun.follow.state !== "requested") {
      return { follow: begun.follow, already: true, backfilled: 0 };
    }
    // Events of this node (the last item a new subscriber is sent first of all) wait for the
    // first fill, so that the timeline gets the node's posts in their order.
    const key = nodeKey(ref);
    const work = this.subscribeAndFill(user, self, begun, target);
    this.running.set(key, work);
    void work
      .finally(() => {
        if (this.running.get(key) === work) this.running.delete(key);
      })
      .catch(() => {});
    return work;
  }

  private async subscribeAndFill(
    user: string,
    self: string,
    begun: { follow: Follow; already: boolean },
    target: string,
  ): Promise<FollowResult> {
    // No answer yet (the remote server is down or slow): the request is kept as "requested"
    // and sent again by the catch-up, rather than forgotten while it may still arrive.
    const follow = await this.subscribe(user, self, begun.follow, target, true).catch((err) => {
      if (err instanceof PendingRequest) return begun.follow;
      throw err;
    });
    let backfilled = 0;
    if (follow.state === "subscribed") {
      backfilled = await this.backfill(user, follow, "initial").catch((err: unknown) => {
        this.opts.log.info({ err: String(err), service: follow.service }, "backfill failed");
        return 0;
      });
    }
    return { follow, already: begun.already, backfilled };
  }

  private async subscribe(
    user: string,
    self: string,
    f: Follow,
    target: string,
    keepOnS2sFailure = false,
  ): Promise<Follow> {
    let answer: Element | undefined;
    try {
      const request = buildPubsubRequest({ kind: "subscribe", node: f.node, jid: self });
      answer = await this.request("set", self, f, request);
    } catch (err) {
      if (keepOnS2sFailure && isS2sFailure(err)) throw new PendingRequest(target);
      await this.opts.timeline.endFollow(user, f);
      throw refusalOf(target, err);
    }
    const sub = readSubscription(answer);
    if (sub.state === "none") {
      await this.opts.timeline.endFollow(user, f);
      throw new PubsubError("forbidden", { text: `${target} did not accept the subscription` });
    }
    const settled = await this.opts.timeline.settleFollow(user, f, sub);
    return settled.result ?? { ...f, state: sub.state };
  }

  private async request(type: "get" | "set", self: string, ref: NodeRef, payload: Element) {
    try {
      const answer = await this.opts.caller.request(
        type,
        self,
        ref.service,
        payload,
        this.opts.timeoutMs ?? 20_000,
      );
      this.troubled.delete(domainOf(ref.service));
      return answer;
    } catch (err) {
      if (isS2sFailure(err)) this.troubled.add(domainOf(ref.service));
      throw err;
    }
  }

  /**
   * Fetch the newest items of a followed node into the timeline ("initial": the first fill of
   * a follow, quiet; "catch-up": what was missed, relayed); returns how many were new. Nothing
   * is asked of a node the user does not follow.
   */
  async backfill(user: string, f: NodeRef, source: PostSource = "catch-up"): Promise<number> {
    if (!(await this.opts.timeline.findFollow(user, f)).result) return 0;
    const self = this.serviceOf(user);
    const request = buildPubsubRequest({
      kind: "items",
      node: f.node,
      itemIds: [],
      maxItems: this.opts.backfill,
    });
    const answer = await this.request("get", self, f, request);
    if (!answer) return 0;
    const { posts, rejected } = readIncomingPosts(parseItemsResult(answer).items, f.service);
    if (rejected > 0) await this.opts.timeline.incrementCounter("timeline:rejected-post", rejected);
    const { result, events } = await this.opts.timeline.recordPosts(user, f, posts, source);
    this.opts.publish(events);
    return result.added.length;
  }

  /**
   * The newest post of a microblog anywhere (the chat command `last X`), asked with u@C's own
   * JID; nothing is kept. Throws a readable PubsubError when there is no microblog to ask.
   */
  async latest(
    user: string,
    input: string,
  ): Promise<{ ref: NodeRef; target: string; post?: IncomingPost }> {
    const self = this.serviceOf(user);
    const { ref, target } = await this.opts.locator.locate(input);
    const request = buildPubsubRequest({ kind: "items", node: ref.node, itemIds: [], maxItems: 1 });
    let answer: Element | undefined;
    try {
      answer = await this.request("get", self, ref, request);
    } catch (err) {
      throw refusalOf(target, err);
    }
    let items: ReturnType<typeof parseItemsResult>["items"] = [];
    try {
      items = answer ? parseItemsResult(answer).items : [];
    } catch {
      // An unreadable answer shows as no post.
    }
    const { posts } = readIncomingPosts(items, ref.service);
    const post = posts.at(-1);
    return post ? { ref, target, post } : { ref, target };
  }

  /** Unfollow: the follow and its posts go at once; the remote unsubscribe is best effort. */
  async unfollow(user: string, input: string): Promise<{ follow?: Follow; removed: number }> {
    const self = this.serviceOf(user);
    const follow = await this.findFollow(user, input);
    if (!follow) {
      throw new PubsubError("item-not-found", { text: `you do not follow ${input.trim()}` });
    }
    const { result } = await this.opts.timeline.endFollow(user, follow);
    const request = buildPubsubRequest({ kind: "unsubscribe", node: follow.node, jid: self });
    this.request("set", self, follow, request).catch((err: unknown) =>
      this.opts.log.info({ err, service: follow.service }, "remote unsubscribe failed"),
    );
    return { follow, removed: result.removed };
  }

  /** The follow named by what the user typed: as given to `follow`, or its service, or located. */
  async findFollow(user: string, input: string): Promise<Follow | undefined> {
    const text = input.trim();
    const lower = bareJid(text).toLowerCase();
    const all = (await this.opts.timeline.listFollowing(user)).result;
    const named = all.find((f) => f.target === text || f.target === lower || f.service === lower);
    if (named) return named;
    const { ref } = await this.opts.locator.locate(text);
    return all.find((f) => f.service === ref.service && f.node === ref.node);
  }

  /** End every follow of `entity` (a JID or a whole domain) for `user`: blocking ends following. */
  async unfollowBlocked(user: string, entity: string): Promise<number> {
    const e = entity.trim().toLowerCase();
    const all = (await this.opts.timeline.listFollowing(user)).result;
    const hit = all.filter(
      (f) =>
        f.target === e ||
        f.service === e ||
        (!e.includes("@") && (f.domain === e || domainOf(f.target) === e)),
    );
    for (const f of hit) await this.unfollow(user, f.target);
    return hit.length;
  }

  /** A stanza arrived from `domain`: if a request to it had failed, catch up there now. */
  sawDomain(domain: string): void {
    if (!this.troubled.delete(domain)) return;
    this.opts.log.info({ domain }, "domain is back: catching up on followed nodes there");
    void this.catchUp(domain);
  }

  isTroubled(domain: string): boolean {
    return this.troubled.has(domain);
  }

  /**
   * Resolves when no catch-up that covers this follow is running. An event from a followed node
   * waits for it: the catch-up brings the posts lost in flight, older than the event's, and
   * they enter the timeline first, in order.
   */
  async caughtUp(ref: NodeRef): Promise<void> {
    const domain = domainOf(ref.service);
    const waits = [this.running.get(""), this.running.get(domain), this.running.get(nodeKey(ref))];
    await Promise.all(waits.map((p) => p?.catch(() => {})));
  }

  private readonly running = new Map<string, Promise<unknown>>();

  /** Catch up on every followed node (or those at `domain`); never throws. */
  catchUp(domain?: string): Promise<{ nodes: number; added: number; failed: number }> {
    const key = domain ?? "";
    const run = this.runCatchUp(domain);
    this.running.set(key, run);
    void run.finally(() => {
      if (this.running.get(key) === run) this.running.delete(key);
    });
    return run;
  }

  private async runCatchUp(domain?: string) {
    const follows = await this.opts.timeline.listFollowsAt(domain).catch(() => [] as Follow[]);
    let added = 0;
    let failed = 0;
    let next = 0;
    const worker = async () => {
      for (let f = follows[next++]; f; f = follows[next++]) {
        try {
          added += await this.catchUpOne(f);
        } catch (err) {
          failed++;
          this.opts.log.info(
            { service: f.service, node: f.node, err: String(err) },
            "catch-up failed",
          );
        }
      }
    };
    const n = Math.min(this.opts.concurrency ?? 8, follows.length);
    await Promise.all(Array.from({ length: n }, worker));
    if (follows.length > 0) {
      this.opts.log.info({ domain, nodes: follows.length, added, failed }, "caught up");
      await this.opts.timeline.incrementCounter("timeline:caught-up", added).catch(() => {});
    }
    return { nodes: follows.length, added, failed };
  }

  /** Send again the follow requests that got no answer (a periodic job); never throws. */
  async retryRequested(): Promise<number> {
    const follows = await this.opts.timeline.listFollowsAt().catch(() => [] as Follow[]);
    const waiting = follows.filter((f) => f.state === "requested");
    for (const f of waiting) {
      await this.catchUpOne(f).catch((err: unknown) =>
        this.opts.log.info({ service: f.service, err: String(err) }, "follow request retry failed"),
      );
    }
    return waiting.length;
  }

  private async catchUpOne(f: Follow): Promise<number> {
    if (f.state === "requested") {
      const self = this.serviceOf(f.user);
      const settled = await this.subscribe(f.user, self, f, f.target, true);
      return settled.state === "subscribed" ? this.backfill(f.user, settled, "initial") : 0;
    }
    if (f.state !== "subscribed") return 0;
    return this.backfill(f.user, f, "catch-up");
  }
}
