/**
 * What the generated store holds, as numbers only (users are indexes; JIDs and rows come later
 * in rows.ts): who posts how much and when, who subscribes to whom, who follows whom, and which
 * posts are in which home timeline. Store independent and deterministic for a seed.
 *
 * Shape: users ranked by popularity (a random permutation); posts per user Zipf (s = 0.8) over
 * that rank, at most the node's max_items so that no node would have been trimmed; direct
 * subscribers per node Zipf (s = 1) over the same rank, uniform among the other users; follows
 * (of "reader" and of a sample of users) pick targets Zipf (s = 1) by rank. Follows happen in the
 * first hour, then posts arrive through the months after, so every timeline entry arrived live
 * (no backfill). A timeline keeps its newest maxTimelineEntries, as trimTimeline leaves it.
 */
import { DEFAULT_TIMELINE_LIMITS } from "../../component/src/domain/timeline-use-cases.js";
import { defaultNodeConfig } from "../../component/src/domain/types.js";
import { between, permutation, type Random, seeded, zipfCounts, zipfSampler } from "./random.js";

export interface PlanOptions {
  users: number;
  subscriptions: number;
  posts: number;
  /** Accounts the reader follows (1,000). */
  readerFollows: number;
  /** Rows of follower timelines (the reader's and a sample's), besides own posts (1,000,000). */
  timelineRows: number;
  seed: number;
  /** The newest post is an hour before this. */
  now: number;
}

/** Parallel arrays, one entry per row. */
export interface Follows {
  follower: Int32Array;
  target: Int32Array;
  time: Float64Array;
}
export interface DirectSubs {
  node: Int32Array;
  subscriber: Int32Array;
  time: Float64Array;
}

export interface Plan {
  options: PlanOptions;
  /** The reader's index (= users): a user of D without a node of its own. */
  reader: number;
  /** User index by popularity rank (0 = most popular). */
  byRank: Int32Array;
  postsOf: Int32Array;
  /** Posts in time order: author and creation time (ms). */
  postAuthor: Int32Array;
  postTime: Float64Array;
  follows: Follows;
  direct: DirectSubs;
  /** Timeline rows in insertion order (ascending post): post index and timeline owner. */
  timelinePost: Int32Array;
  timelineOwner: Int32Array;
  /** When each user's node was created: its first post, subscription or follow. */
  nodeCreated: Float64Array;
  /** Subscriptions per node (direct and follows). */
  subscribersOf: Int32Array;
  timelineCap: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Months of history the posts and subscriptions spread over. */
const HISTORY = 180 * DAY;
/** Follows of a sampled follower: log-uniform in this range. */
const SAMPLE_FOLLOWS: readonly [number, number] = [20, 500];
/** Delay of the subscription after its follow, and of the follow's update (as measured). */
export const FOLLOW_SUB_DELAY = 30;
export const FOLLOW_UPDATE_DELAY = 45;

/** Build the whole plan; a few seconds at 100,000 users / 1,000,000 rows. */
export function makePlan(options: PlanOptions): Plan {
  const rng = seeded(options.seed);
  const n = options.users;
  const t0 = options.now - HISTORY;
  const byRank = permutation(n, rng);
  const postsOf = postsPerUser(options, byRank);
  const { postAuthor, postTime } = postOrder(
    postsOf,
    options.posts,
    t0 + HOUR,
    options.now - HOUR,
    rng,
  );
  const follows = makeFollows(options, byRank, postsOf, t0, rng);
  const direct = directSubscriptions(options, byRank, follows.follower.length, t0, rng);
  const cap = DEFAULT_TIMELINE_LIMITS.maxTimelineEntries;
  const { timelinePost, timelineOwner } = timelineRows(n + 1, postAuthor, follows, cap);
  return {
    options,
    reader: n,
    byRank,
    postsOf,
    postAuthor,
    postTime,
    follows,
    direct,
    timelinePost,
    timelineOwner,
    nodeCreated: nodeCreation(n, postAuthor, postTime, follows, direct, t0, options.now, rng),
    subscribersOf: subscriberCounts(n, follows, direct),
    timelineCap: cap,
  };
}

/** Posts per user index: Zipf over rank, capped at the default max_items. */
function postsPerUser(options: PlanOptions, byRank: Int32Array): Int32Array {
  const maxItems = defaultNodeConfig("u@d").maxItems;
  const counts = zipfCounts(options.users, options.posts, 0.8, maxItems);
  const postsOf = new Int32Array(options.users);
  counts.forEach((c, r) => {
    postsOf[byRank[r] as number] = c;
  });
  return postsOf;
}

/** Every post's author in a random order, with increasing times spread over [from, to). */
function postOrder(postsOf: Int32Array, total: number, from: number, to: number, rng: Random) {
  const postAuthor = new Int32Array(total);
  let k = 0;
  postsOf.forEach((c, user) => {
    for (let i = 0; i < c && k < total; i++) postAuthor[k++] = user;
  });
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = postAuthor[i] as number;
    postAuthor[i] = postAuthor[j] as number;
    postAuthor[j] = t;
  }
  const step = (to - from) / Math.max(1, k);
  const postTime = Float64Array.from({ length: k }, (_, i) =>
    Math.floor(from + (i + rng() * 0.5) * step),
  );
  return { postAuthor: postAuthor.subarray(0, k), postTime };
}

/** `count` distinct targets by popularity, never `self`. */
function pickTargets(
  count: number,
  self: number,
  byRank: Int32Array,
  sample: () => number,
): number[] {
  const chosen = new Set<number>();
  const limit = Math.min(count, byRank.length - (self < byRank.length ? 1 : 0));
  while (chosen.size < limit) {
    const user = byRank[sample()] as number;
    if (user !== self) chosen.add(user);
  }
  return [...chosen];
}

/**
 * The reader's follows, then sampled users' follows until their timelines (capped) reach the
 * row target; all in the first hour, in a random order. Follow subscriptions stay at most half
 * of all subscriptions.
 */
function makeFollows(
  options: PlanOptions,
  byRank: Int32Array,
  postsOf: Int32Array,
  t0: number,
  rng: Random,
): Follows {
  const n = options.users;
  const cap = DEFAULT_TIMELINE_LIMITS.maxTimelineEntries;
  const maxFollows = DEFAULT_TIMELINE_LIMITS.maxFollows;
  const sample = zipfSampler(n, 1, rng);
  const pairs: Array<[number, number]> = [];
  const rowsOf = (targets: number[]) =>
    Math.min(
      cap,
      targets.reduce((sum, t) => sum + (postsOf[t] as number), 0),
    );
  const readerTargets = pickTargets(Math.min(options.readerFollows, maxFollows), n, byRank, sample);
  for (const t of readerTargets) pairs.push([n, t]);
  let rows = rowsOf(readerTargets);
  const followers = permutation(n, rng);
  const [lo, hi] = SAMPLE_FOLLOWS;
  for (let i = 0; i < n && rows < options.timelineRows; i++) {
    const f = followers[i] as number;
    const k = Math.round(Math.exp(Math.log(lo) + rng() * (Math.log(hi) - Math.log(lo))));
    if (pairs.length + k > options.subscriptions / 2) break;
    const targets = pickTargets(k, f, byRank, sample);
    for (const t of targets) pairs.push([f, t]);
    rows += rowsOf(targets);
  }
  const order = permutation(pairs.length, rng);
  const step = HOUR / Math.max(1, pairs.length);
  const follows: Follows = {
    follower: new Int32Array(pairs.length),
    target: new Int32Array(pairs.length),
    time: new Float64Array(pairs.length),
  };
  order.forEach((p, i) => {
    const [f, t] = pairs[p] as [number, number];
    follows.follower[i] = f;
    follows.target[i] = t;
    follows.time[i] = Math.floor(t0 + i * step);
  });
  return follows;
}

/**
 * The direct subscriptions (bare u{j}@D, subscribed): per node Zipf over rank, subscribers
 * distinct and uniform among the other users (a partial Fisher–Yates over one pool), in a
 * random order with increasing times over the whole history.
 */
function directSubscriptions(
  options: PlanOptions,
  byRank: Int32Array,
  followCount: number,
  t0: number,
  rng: Random,
): DirectSubs {
  const n = options.users;
  const total = Math.max(0, options.subscriptions - followCount);
  const counts = zipfCounts(n, total, 1, n - 1);
  const sum = counts.reduce((a, b) => a + b, 0);
  const node = new Int32Array(sum);
  const subscriber = new Int32Array(sum);
  const pool = permutation(n, rng);
  let k = 0;
  counts.forEach((c, r) => {
    const owner = byRank[r] as number;
    const picks = Math.min(c + 1, n);
    let kept = 0;
    for (let i = 0; i < picks && kept < c; i++) {
      const j = between(rng, i, n);
      const pick = pool[j] as number;
      pool[j] = pool[i] as number;
      pool[i] = pick;
      if (pick === owner) continue;
      node[k] = owner;
      subscriber[k++] = pick;
      kept++;
    }
  });
  const order = permutation(k, rng);
  const step = (HISTORY - HOUR) / Math.max(1, k);
  const direct: DirectSubs = {
    node: new Int32Array(k),
    subscriber: new Int32Array(k),
    time: new Float64Array(k),
  };
  order.forEach((p, i) => {
    direct.node[i] = node[p] as number;
    direct.subscriber[i] = subscriber[p] as number;
    direct.time[i] = Math.floor(t0 + (i + rng() * 0.5) * step);
  });
  return direct;
}

/**
 * The timeline rows that survive the cap: each post enters its author's timeline and its
 * followers' ones; scanning from the newest post, a timeline takes rows until it has `cap`.
 * Returned oldest first, the order they are inserted in (and their seq).
 */
function timelineRows(owners: number, postAuthor: Int32Array, follows: Follows, cap: number) {
  const start = new Int32Array(owners + 1);
  for (const t of follows.target) start[t + 1] = (start[t + 1] as number) + 1;
  for (let i = 0; i < owners; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
  const fill = start.slice(0, owners);
  const followersOf = new Int32Array(follows.target.length);
  follows.target.forEach((t, i) => {
    followersOf[fill[t] as number] = follows.follower[i] as number;
    fill[t] = (fill[t] as number) + 1;
  });
  const count = new Int32Array(owners);
  const posts: number[] = [];
  const ownersOut: number[] = [];
  const take = (k: number, owner: number) => {
    if ((count[owner] as number) >= cap) return;
    count[owner] = (count[owner] as number) + 1;
    posts.push(k);
    ownersOut.push(owner);
  };
  for (let k = postAuthor.length - 1; k >= 0; k--) {
    const author = postAuthor[k] as number;
    take(k, author);
    for (let i = start[author] as number; i < (start[author + 1] as number); i++) {
      take(k, followersOf[i] as number);
    }
  }
  return {
    timelinePost: Int32Array.from(posts).reverse(),
    timelineOwner: Int32Array.from(ownersOut).reverse(),
  };
}

/** A node is created by its first post, subscription or follow; a node with none by a configure. */
function nodeCreation(
  n: number,
  postAuthor: Int32Array,
  postTime: Float64Array,
  follows: Follows,
  direct: DirectSubs,
  t0: number,
  now: number,
  rng: Random,
): Float64Array {
  const created = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const seen = (user: number, t: number) => {
    if (t < (created[user] as number)) created[user] = t;
  };
  postAuthor.forEach((u, k) => {
    seen(u, postTime[k] as number);
  });
  follows.target.forEach((u, i) => {
    seen(u, (follows.time[i] as number) + FOLLOW_SUB_DELAY);
  });
  direct.node.forEach((u, i) => {
    seen(u, direct.time[i] as number);
  });
  return created.map((t) => (Number.isFinite(t) ? t : Math.floor(t0 + rng() * (now - t0 - HOUR))));
}

function subscriberCounts(n: number, follows: Follows, direct: DirectSubs): Int32Array {
  const counts = new Int32Array(n);
  for (const t of follows.target) counts[t] = (counts[t] as number) + 1;
  for (const t of direct.node) counts[t] = (counts[t] as number) + 1;
  return counts;
}

/** Figures of the plan for the report. */
export function planSummary(plan: Plan) {
  const posts = [...plan.postsOf].sort((a, b) => b - a);
  const subs = [...plan.subscribersOf].sort((a, b) => b - a);
  const followers = new Set(plan.follows.follower);
  const ownRows = plan.timelineOwner.reduce(
    (n, owner, i) => n + (owner === plan.postAuthor[plan.timelinePost[i] as number] ? 1 : 0),
    0,
  );
  const readerRows = plan.timelineOwner.reduce((n, o) => n + (o === plan.reader ? 1 : 0), 0);
  return {
    users: plan.options.users,
    nodes: plan.options.users,
    posts: plan.postAuthor.length,
    postsPerUser: { max: posts[0] ?? 0, median: posts[posts.length >> 1] ?? 0 },
    subscriptions: plan.direct.node.length + plan.follows.follower.length,
    directSubscriptions: plan.direct.node.length,
    followSubscriptions: plan.follows.follower.length,
    subscribersPerNode: { max: subs[0] ?? 0, median: subs[subs.length >> 1] ?? 0 },
    followingUsers: followers.size,
    timelineRows: plan.timelinePost.length,
    ownTimelineRows: ownRows,
    readerTimelineRows: readerRows,
    otherTimelineRows: plan.timelinePost.length - ownRows - readerRows,
  };
}
