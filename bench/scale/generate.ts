/**
 * Fill a migrated store with a plan (plan.ts) through a RowWriter: nodes, then follows with
 * their subscriptions, then direct subscriptions, then posts in time order, each followed by
 * the timeline rows it enters (its author's own, then its followers'). Payload templates are
 * checked against completeEntry on the first posts before anything is written.
 */
import { FOLLOW_SUB_DELAY, FOLLOW_UPDATE_DELAY, type Plan } from "./plan.js";
import { postText, seeded } from "./random.js";
import { clockedIds, completedPayload, type Jids, NODE, nodeConfig, payloadOf } from "./rows.js";
import type { RowWriter } from "./writers.js";

export interface GenerationTimes {
  nodesMs: number;
  subscriptionsMs: number;
  postsMs: number;
  totalMs: number;
}

/** Posts whose template payload is compared with completeEntry's. */
const CHECKED_POSTS = 200;

/** Write the whole plan; `progress` gets a line now and then. */
export async function generate(
  plan: Plan,
  jids: Jids,
  writer: RowWriter,
  progress: (line: string) => void,
): Promise<GenerationTimes> {
  checkPayloads(plan, jids);
  const t0 = performance.now();
  await writeNodes(plan, jids, writer);
  await writer.flush();
  const t1 = performance.now();
  progress(`nodes: ${plan.options.users} in ${((t1 - t0) / 1000).toFixed(1)} s`);
  await writeFollows(plan, jids, writer);
  await writeDirect(plan, jids, writer);
  await writer.flush();
  const t2 = performance.now();
  progress(`subscriptions and follows in ${((t2 - t1) / 1000).toFixed(1)} s`);
  await writePosts(plan, jids, writer, progress);
  await writer.flush();
  const t3 = performance.now();
  return { nodesMs: t1 - t0, subscriptionsMs: t2 - t1, postsMs: t3 - t2, totalMs: t3 - t0 };
}

/** Throws when the template differs from what the component would store. */
function checkPayloads(plan: Plan, jids: Jids): void {
  const rng = seeded(plan.options.seed + 7);
  const ids = clockedIds(rng);
  for (let k = 0; k < Math.min(CHECKED_POSTS, plan.postAuthor.length); k++) {
    const user = plan.postAuthor[k] as number;
    const t = plan.postTime[k] as number;
    const id = ids.at(t);
    const text = postText(rng);
    const mine = payloadOf(jids, user, id, text, t);
    const theirs = completedPayload(jids, user, id, text, t);
    if (mine !== theirs) throw new Error(`payload template differs:\n${mine}\n${theirs}`);
  }
}

async function writeNodes(plan: Plan, jids: Jids, writer: RowWriter): Promise<void> {
  const order = Int32Array.from({ length: plan.options.users }, (_, i) => i).sort(
    (a, b) => (plan.nodeCreated[a] as number) - (plan.nodeCreated[b] as number),
  );
  for (const i of order) {
    const owner = jids.user(i);
    const row = [jids.service(i), NODE, owner, nodeConfig(owner), plan.nodeCreated[i]];
    await writer.insert("nodes", row);
  }
}

/** A follow: the follows row and the subscription of follower@C at the followed node. */
async function writeFollows(plan: Plan, jids: Jids, writer: RowWriter): Promise<void> {
  const subids = clockedIds(seeded(plan.options.seed + 1));
  const { follower, target, time } = plan.follows;
  for (let i = 0; i < follower.length; i++) {
    const f = follower[i] as number;
    const t = target[i] as number;
    const at = time[i] as number;
    const subid = subids.at(at + FOLLOW_SUB_DELAY);
    const service = jids.service(t);
    const me = jids.service(f);
    const domain = jids.componentDomain;
    const followRow = [jids.user(f), service, NODE, domain, jids.user(t), "subscribed", subid];
    await writer.insert("follows", [...followRow, at, at + FOLLOW_UPDATE_DELAY]);
    const subRow = [service, NODE, me, me, domain, subid, "subscribed"];
    await writer.insert("subscriptions", [...subRow, at + FOLLOW_SUB_DELAY, null]);
  }
}

/** Direct subscriptions of bare u{j}@D. */
async function writeDirect(plan: Plan, jids: Jids, writer: RowWriter): Promise<void> {
  const subids = clockedIds(seeded(plan.options.seed + 2));
  const { node, subscriber, time } = plan.direct;
  for (let i = 0; i < node.length; i++) {
    const at = time[i] as number;
    const who = jids.user(subscriber[i] as number);
    const row = [jids.service(node[i] as number), NODE, who, who, jids.usersDomain];
    await writer.insert("subscriptions", [...row, subids.at(at), "subscribed", at, null]);
  }
}

/**
 * Posts in time order; after each, its timeline rows. The own row arrives 1–3 ms after the
 * publish with published_at = created; a follower's 5–34 ms after, with published_at the
 * <published> second (what the component parses back), as in rows of real runs.
 */
async function writePosts(
  plan: Plan,
  jids: Jids,
  writer: RowWriter,
  progress: (line: string) => void,
): Promise<void> {
  const rng = seeded(plan.options.seed + 7);
  const ids = clockedIds(rng);
  const total = plan.postAuthor.length;
  const started = performance.now();
  let row = 0;
  for (let k = 0; k < total; k++) {
    const user = plan.postAuthor[k] as number;
    const created = plan.postTime[k] as number;
    const id = ids.at(created);
    const payload = payloadOf(jids, user, id, postText(rng), created);
    const service = jids.service(user);
    const author = jids.user(user);
    await writer.insert("items", [service, NODE, id, payload, author, created, created]);
    for (; row < plan.timelinePost.length && plan.timelinePost[row] === k; row++) {
      const owner = plan.timelineOwner[row] as number;
      const own = owner === user;
      const published = own ? created : Math.floor(created / 1000) * 1000;
      const received = created + (own ? 1 + (k % 3) : 5 + ((k + owner) % 30));
      const entry = [jids.user(owner), service, NODE, id, author, payload, published, received];
      await writer.insert("timeline", entry);
    }
    if ((k + 1) % Math.max(1, Math.floor(total / 10)) === 0) {
      const s = (performance.now() - started) / 1000;
      progress(`posts: ${k + 1}/${total}, timeline rows ${row}, ${s.toFixed(0)} s`);
    }
  }
}
