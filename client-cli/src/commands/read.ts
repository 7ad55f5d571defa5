/** `timeline` (MAM at u@C, the last page) and `show JID` (the items of JID's node). */
import { NS_PUBSUB } from "../../../schemas/src/ns.js";
import { buildPubsubRequest } from "../../../schemas/src/pubsub-request-build.js";
import { parseItemsResult } from "../../../schemas/src/pubsub-result.js";
import { type Ctx, print, printJson } from "../context.js";
import { locateMicroblog } from "../discovery.js";
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
  const posts = oldestFirst(inArchive);
  const first = inArchive[0];
  const more =
    !page.fin.complete && first ? `Older posts: warble timeline --before ${first.id}` : undefined;
  output(ctx, posts, "Your timeline is empty. Follow someone: warble follow JID", more);
}

export async function show(ctx: Ctx, who: string, opts: { limit?: string }): Promise<void> {
  const max = parseLimit(opts.limit);
  const own = {
    domain: ctx.account.domain,
    component: await ctx.component().catch(() => undefined),
  };
  const blog = await locateMicroblog(ctx.session, who, own);
  const request = buildPubsubRequest({
    kind: "items",
    node: blog.node,
    maxItems: max,
    itemIds: [],
  });
  let reply: Awaited<ReturnType<typeof ctx.session.request>>;
  try {
    reply = await ctx.session.request("get", blog.service, request);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === 5 && /^item-not-found$/.test(err.message))
      throw refusedError(`${who} has no microblog`);
    throw err;
  }
  const pubsub = reply.getChild("pubsub", NS_PUBSUB);
  const items = pubsub ? parseItemsResult(pubsub).items : [];
  const owner = blog.owner ?? blog.service;
  const posts = oldestFirst(
    items.flatMap((i) => postFromItem(blog.service, blog.node, i, owner) ?? []),
  );
  output(ctx, posts.slice(-max), `${who} has not posted anything yet.`);
}
