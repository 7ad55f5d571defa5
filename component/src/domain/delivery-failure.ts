/**
 * A notification came back with a permanent error (the subscriber's account is gone, its
 * server refuses us): XEP-0060 §7.1.2.1 lets the service end the subscription. The owner is
 * told why (pubsub#notify_sub or not: a follower lost is worth a line).
 */
import type { Outcome } from "./events.js";
import { normalizeJid } from "./jid.js";
import { asView, type CoreContext, subscriptionChanged } from "./service-context.js";
import type { NodeRef } from "./types.js";

export async function endSubscriptionOnError(
  ctx: CoreContext,
  ref: NodeRef,
  jid: string,
  condition: string,
): Promise<Outcome<boolean>> {
  const record = await ctx.tx.getNode(ref);
  if (!record) return { result: false, events: [] };
  const node = asView(record);
  const sub = await ctx.tx.getSubscription(node, normalizeJid(jid));
  if (!sub) return { result: false, events: [] };
  await ctx.tx.deleteSubscription(node, sub.jid);
  await ctx.tx.incrementCounter("subscription:ended-on-error");
  const event = subscriptionChanged(node, sub, "none", "delivery-failed");
  return {
    result: true,
    events: [{ ...event, notifyOwner: true, detail: condition }],
  };
}
