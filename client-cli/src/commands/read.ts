/** `timeline` (MAM at u@C, the last page) and `show JID` (the items of JID's node). */
import { NS_PUBSUB } from "../../../schemas/src/ns.js";
import { buildPubsubRequest } from "../../../schemas/src/pubsub-request-build.js";
import { parseItemsResult } from "../../../schemas/src/pubsub-result.js";
import { type Ctx, print, printJson } from "../context.js";
import { locateMicroblog, type Microblog } from "../discovery.js";
import { CliError, refusedError, usageError } from "../errors.js";
import { formatTable, stdoutLook } from "../format.js";
import { queryMam } from "../mam-client.js";
import { oldestFirst, type Post, postFromItem, postFromMam } from "../posts.js";

export const DEFAULT_LIMIT = 20;

export function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw usageError(`--limit takes a number of posts (1 or more), not "${text}"`);
  return Number(text);
}

function output(ctx: Ctx, posts: Post[], empty: string, more?: string): void {
  if (ctx.json) printJson(posts);
  else if (posts.length === 0) print(empty);
  else {
    print(formatTable(posts, stdoutLook()));
    if (more) print(more);
  }
}

export async function timeline(ctx: Ctx, opts: { limit?: string; before?: string }): Promise<void> {
  const max = parseLimit(opts.limit);
  const service = await ctx.ownService();
  const page = await queryMam(ctx.session, service, { max, before: opts.before ?? "" });
  const inArchive = page.results.flatMap((r) => postFromMam(r) ?? []);
  // The archive's order (arrival), not the entries' own dates: those are written by anybody.
  const posts = inArchive;
  const first = inArchive[0];
  const more =
    !page.fin.complete && first ? `Older posts: warble timeline --before ${first.id}` : undefined;
  output(ctx, posts, "Your timeline is empty. Follow someone: warble follow JID", more);
}

/** The refusals of a node read that come without a text, in words. */
function readRefusal(err: unknown, who: string): unknown {
  if (!(err instanceof CliError) || err.exitCode !== 5) return err;
  if (/^item-not-found$/.test(err.message)) return refusedError(`${who} has no microblog`);
  if (/^not-authorized \((not-subscribed|presence-subscription-required)\)$/.test(err.message))
    return refusedError(`${who} shows posts to approved followers only (warble follow ${who})`);
  if (/^forbidden|not-authorized/.test(err.message))
    return refusedError(`${who} does not let you read their posts (${err.message})`);
  return err;
}

/** The posts of a node, read from it. */
async function nodePosts(ctx: Ctx, blog: Microblog, max: number): Promise<Post[]> {
  const request = buildPubsubRequest({
    kind: "items",
    node: blog.node,
    maxItems: max,
    itemIds: [],
  });
  const reply = await ctx.session.request("get", blog.service, request);
  const pubsub = reply.getChild("pubsub", NS_PUBSUB);
  const items = pubsub ? parseItemsResult(pubsub).items : [];
  const owner = blog.owner ?? blog.service;
  return items.flatMap((i) => postFromItem(blog.service, blog.node, i, owner) ?? []);
}

/** A locked microblog one follows: its posts in one's home timeline (MAM with=its address). */
async function followedPosts(ctx: Ctx, blog: Microblog, max: number): Promise<Post[]> {
  const service = await ctx.ownService();
  const page = await queryMam(ctx.session, service, { max, before: "" }, { with: blog.service });
  return page.results.flatMap((r) => postFromMam(r) ?? []).filter((p) => p.node === blog.node);
}

export async function show(ctx: Ctx, who: string, opts: { limit?: string }): Promise<void> {
  const max = parseLimit(opts.limit);
  const own = {
    domain: ctx.account.domain,
    component: await ctx.component().catch(() => undefined),
  };
  const blog = await locateMicroblog(ctx.session, who, own);
  let posts: Post[];
  try {
    posts = await nodePosts(ctx, blog, max);
  } catch (err) {
    const refusal = readRefusal(err, who);
    const locked = refusal instanceof CliError && /approved followers/.test(refusal.message);
    if (!locked) throw refusal;
    posts = await followedPosts(ctx, blog, max).catch(() => []);
    if (posts.length === 0) throw refusal;
  }
  output(ctx, oldestFirst(posts).slice(-max), `${who} has not posted anything yet.`);
}
