/**
 * Reading one post for a chat line: the post a reply answers, quoted in short. A quote shows
 * only what its reader could see anyway: a post of a node of this service open to anyone, or
 * the post as it stands in the reader's own home timeline. A post of a locked account is not
 * quoted to strangers.
 */
import type { Outcome } from "./events.js";
import { bareJid } from "./jid.js";
import type { CoreContext } from "./service-context.js";
import type { NodeRef } from "./types.js";

export interface VisiblePost {
  payload: string;
}

export async function visiblePost(
  ctx: CoreContext,
  ref: NodeRef,
  itemId: string,
  reader?: string,
): Promise<Outcome<VisiblePost | undefined>> {
  const node = await ctx.tx.getNode(ref);
  if (node?.config.accessModel === "open") {
    const [item] = await ctx.tx.getItems(ref, [itemId]);
    if (item) return { result: { payload: item.payload }, events: [] };
  }
  if (reader === undefined) return { result: undefined, events: [] };
  const entry = await ctx.tx.findTimelineItem(bareJid(reader).toLowerCase(), ref, itemId);
  return { result: entry && { payload: entry.payload }, events: [] };
}
