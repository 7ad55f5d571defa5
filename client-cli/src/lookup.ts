/** Finding a post by its short id: among the user's own latest posts, then the home timeline. */

import { NS_MICROBLOG, NS_PUBSUB } from "../../schemas/src/ns.js";
import { buildPubsubRequest } from "../../schemas/src/pubsub-request-build.js";
import { parseItemsResult } from "../../schemas/src/pubsub-result.js";
import { shortId } from "../../schemas/src/short-id.js";
import type { Ctx } from "./context.js";
import { refusedError } from "./errors.js";
import { queryMam } from "./mam-client.js";
import { type Post, postFromMam } from "./posts.js";

/** How far back a short id is looked for. */
export const LOOKUP_DEPTH = 250;

/** The item ids of the user's latest own posts. */
export async function ownItemIds(ctx: Ctx, max = LOOKUP_DEPTH): Promise<string[]> {
  const service = await ctx.ownService();
  const request = buildPubsubRequest({
    kind: "items",
    node: NS_MICROBLOG,
    maxItems: max,
    itemIds: [],
  });
  const reply = await ctx.session.request("get", service, request);
  const pubsub = reply.getChild("pubsub", NS_PUBSUB);
  if (!pubsub) return [];
  return parseItemsResult(pubsub).items.flatMap((i) => (i.id ? [i.id] : []));
}

/** The item id of the user's own post with this short id; undefined when none has it. */
export async function findOwnItem(ctx: Ctx, short: string): Promise<string | undefined> {
  const service = await ctx.ownService();
  const ids = await ownItemIds(ctx).catch(() => []);
  return ids.find((id) => shortId(service, NS_MICROBLOG, id) === short);
}

/** The post with this short id in the home timeline (the latest LOOKUP_DEPTH posts). */
export async function findTimelinePost(ctx: Ctx, short: string): Promise<Post | undefined> {
  const service = await ctx.ownService();
  const page = await queryMam(ctx.session, service, { max: LOOKUP_DEPTH, before: "" });
  return page.results.map(postFromMam).find((p) => p?.short === short);
}

/** The xmpp: URI of the post a short id names (own posts first); exit 5 when none. */
export async function uriOfShort(ctx: Ctx, short: string): Promise<string> {
  const own = await findOwnItem(ctx, short);
  if (own !== undefined) {
    const { itemUri } = await import("../../schemas/src/atom.js");
    return itemUri(await ctx.ownService(), NS_MICROBLOG, own);
  }
  const post = await findTimelinePost(ctx, short);
  if (!post) {
    throw refusedError(
      `no post with the short id ${short} among your latest ${LOOKUP_DEPTH} posts and timeline; give its xmpp: URI`,
    );
  }
  return post.uri;
}
