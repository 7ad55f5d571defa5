/**
 * Following on behalf of a user: u@C subscribes with its own JID to the node found by the
 * locator, the answer (subscribed / pending / refused) is recorded, and the newest items enter
 * the timeline. Catch-up fetches, for each followed node, the newest items again (the
 * timeline keeps each post once, so a repeat changes nothing; recordPosts lets in only what
 * was missed): at start, when the component connection comes back, and when a domain that
 * failed shows life again. A node at this component is read from the store, not asked for.
 */
import type { Logger } from "pino";
import { buildPubsubRequest } from "../../../schemas/src/pubsub-request-build.js";
import { parseItemsResult, parseSubscriptionResult } from "../../../schemas/src/pubsub-result.js";
import { type Element, parseXml } from "../../../schemas/src/xml.js";
import { PubsubError } from "../domain/errors.js";
import type { PubsubEvent } from "../domain/events.js";
import type {
  Follow,
  FollowCursor,
  IncomingPost,
  PostSource,
  TimelineService,
} from "../domain/index.js";
import { bareJid, domainOf } from "../domain/jid.js";
import type { NodeRef } from "../domain/types.js";
import type { Addresses } from "../protocol/addresses.js";
import { type ReadPosts, readIncomingPosts } from "./incoming-posts.js";
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

/** Follows read at once by a catch-up. */
const FOLLOW_PAGE = 500;

/** A turn of the event loop: stanzas are read and replies written between two follows. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Backfills of nodes at this component at once. They wait for nothing but the store and the
 * parsing, both on this thread: more of them at once only makes each turn of the event loop
 * longer (8 at once: up to 42 ms on a cold store of 10,000 users, 2: 27 ms, in the same time).
 */
const LOCAL_CONCURRENCY = 2;

/** At most `slots` tasks run at once; the others wait their turn, in order. */
class Slots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly slots: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy < this.slots) this.busy++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes to the next task waiting, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}

/** Follows handed out one at a time to any number of workers, read a page at a time. */
class FollowPages {
  private page: Follow[] = [];
  private taken = 0;
  private done = false;
  private loading: Promise<void> | undefined;

  constructor(private readonly read: (after: FollowCursor | undefined) => Promise<Follow[]>) {}

  /** The next follow; undefined once every page has been handed out. */
  async next(): Promise<Follow | undefined> {
    while (this.taken >= this.page.length) {
      if (this.done) return undefined;
      this.loading ??= this.load().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    return this.page[this.taken++];
  }

  private async load(): Promise<void> {
    const last = this.page.at(-1);
    const page = await this.read(
      last && { user: last.user, service: last.service, node: last.node },
    );
    this.done = page.length < FOLLOW_PAGE;
    this.page = page;
    this.taken = 0;
  }
}

export class FollowClient {
  /** Domains whose last request failed: a stanza from one of them starts its catch-up. */
  private readonly troubled = new Set<string>();
  /** Backfills of nodes at this component running at once (see LOCAL_CONCURRENCY). */
  private readonly localSlots = new Slots(LOCAL_CONCURRENCY);

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
    if (this.isLocal(f)) return this.localSlots.run(() => this.fill(user, f, source));
    return this.fill(user, f, source);
  }

  private async fill(user: string, f: NodeRef, source: PostSource): Promise<number> {
    if (!(await this.opts.timeline.findFollow(user, f)).result) return 0;
    const self = this.serviceOf(user);
    const read = this.isLocal(f) ? await this.localPosts(self, f) : await this.remotePosts(self, f);
    if (!read) return 0;
    const { posts, rejected } = read;
    if (rejected > 0) await this.opts.timeline.incrementCounter("timeline:rejected-post", rejected);
    const { result, events } = await this.opts.timeline.recordPosts(user, f, posts, source);
    this.opts.publish(events);
    return result.added.length;
  }

  /** The node is at this component (another user's microblog here). */
  private isLocal(ref: NodeRef): boolean {
    return domainOf(ref.service).toLowerCase() === this.opts.addresses.componentDomain;
  }

  /** The newest items of a node elsewhere: an items request with u@C's own JID. */
  private async remotePosts(self: string, f: NodeRef): Promise<ReadPosts | undefined> {
    const request = buildPubsubRequest({
      kind: "items",
      node: f.node,
      itemIds: [],
      maxItems: this.opts.backfill,
    });
    const answer = await this.request("get", self, f, request);
    return answer && readIncomingPosts(parseItemsResult(answer).items, f.service);
  }

  /**
   * The newest items of a node at this component: the use case an items request from u@C runs
   * (the same access check), without the round trip through the server and back. Its
   * notifications come the long way (through the server, after the publish's commit, not kept
   * for a retry), so they can be lost like a remote node's: a crash or a lost connection between
   * the commit and the send. Its catch-up is needed, and costs a store read here.
   */
  private async localPosts(self: string, f: NodeRef): Promise<ReadPosts> {
    const stored = await this.opts.timeline.readItems(self, f, this.opts.backfill);
    const items = stored.map((item) => {
      try {
        return { id: item.id, payload: parseXml(item.payload) };
      } catch {
        return { id: item.id };
      }
    });
    return readIncomingPosts(items, f.service);
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

  /**
   * The follows are read a page at a time as the workers take them (memory stays bounded however
   * many there are), and each worker lets the event loop turn between two follows.
   */
  private async runCatchUp(domain?: string) {
    const follows = this.followPages(domain);
    let nodes = 0;
    let added = 0;
    let failed = 0;
    const worker = async () => {
      for (let f = await follows.next(); f; f = await follows.next()) {
        nodes++;
        try {
          // Not `added += await …`: that reads `added` before the wait, and the workers' sums
          // overwrote one another.
          const n = await this.catchUpOne(f);
          added += n;
        } catch (err) {
          failed++;
          this.opts.log.info(
            { service: f.service, node: f.node, err: String(err) },
            "catch-up failed",
          );
        }
        await turn();
      }
    };
    await Promise.all(Array.from({ length: this.opts.concurrency ?? 8 }, worker));
    if (nodes > 0) {
      this.opts.log.info({ domain, nodes, added, failed }, "caught up");
      await this.opts.timeline.incrementCounter("timeline:caught-up", added).catch(() => {});
    }
    return { nodes, added, failed };
  }

  /** Send again the follow requests that got no answer (a periodic job); never throws. */
  async retryRequested(): Promise<number> {
    const follows = this.followPages(undefined);
    let waiting = 0;
    for (let f = await follows.next(); f; f = await follows.next()) {
      if (f.state !== "requested") continue;
      waiting++;
      await this.catchUpOne(f).catch((err: unknown) =>
        this.opts.log.info({ service: f.service, err: String(err) }, "follow request retry failed"),
      );
    }
    return waiting;
  }

  /** The follows at `domain` (all without it), read a page at a time; a failed read ends them. */
  private followPages(domain: string | undefined): FollowPages {
    return new FollowPages((after) =>
      this.opts.timeline.pageFollowsAt(domain, after, FOLLOW_PAGE).catch((err: unknown) => {
        this.opts.log.warn({ domain, err: String(err) }, "could not read the follows");
        return [];
      }),
    );
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
