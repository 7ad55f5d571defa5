/**
 * Event notifications that arrive at u@C from the nodes u follows (XEP-0060 §7.1.2.1, §7.2.2.1,
 * §8.4.2, §8.5.2, §12.7), turned into timeline use cases. Written by anybody: the use cases let
 * a post in only from a followed node (the spam filter), and what is dropped is logged with its
 * reason and counted (`dropped:<reason>`).
 */
import type { Logger } from "pino";
import { NS_DELAY, NS_PUBSUB_EVENT } from "../../../../schemas/src/ns.js";
import { parseEvent, type PubsubEvent as WireEvent } from "../../../../schemas/src/pubsub-event.js";
import type { Element } from "../../../../schemas/src/xml.js";
import type { PostSource, PubsubEvent, TimelineService } from "../../domain/index.js";
import { bareJid, jidProblem } from "../../domain/jid.js";
import type { NodeRef } from "../../domain/types.js";
import { readIncomingPosts } from "../../federation/incoming-posts.js";
import type { Addresses } from "../addresses.js";
import type { StanzaRouter } from "../router.js";

export interface TimelineEventsDeps {
  timeline: TimelineService;
  addresses: Addresses;
  /** Fetch a followed node's items (an event without payloads, a new approval). */
  backfill: (user: string, ref: NodeRef, source: PostSource) => void;
  /** Resolves when no catch-up covering this follow runs (its older posts go in first). */
  caughtUp: (ref: NodeRef) => Promise<void>;
}

type Out = { events: PubsubEvent[] };

export function registerTimelineEvents(router: StanzaRouter, deps: TimelineEventsDeps): void {
  router.onMessage(NS_PUBSUB_EVENT, "event", (stanza, log) => onEvent(deps, stanza, log));
}

async function drop(deps: TimelineEventsDeps, log: Logger, reason: string, detail: object) {
  log.info({ reason, ...detail }, "dropped an event at a home timeline");
  await deps.timeline.incrementCounter(`dropped:${reason}`);
}

async function onEvent(deps: TimelineEventsDeps, stanza: Element, log: Logger): Promise<Out> {
  const user = deps.addresses.ownerOfService(stanza.attrs.to ?? "");
  const from = bareJid(stanza.attrs.from ?? "").toLowerCase();
  if (!user || !from || jidProblem(from)) {
    await drop(deps, log, "not-a-timeline", { to: stanza.attrs.to });
    return { events: [] };
  }
  let event: WireEvent;
  try {
    event = parseEvent(stanza);
  } catch {
    await drop(deps, log, "unreadable-event", { from });
    return { events: [] };
  }
  const delayed = stanza.getChild("delay", NS_DELAY) !== undefined;
  return handleEvent(deps, log, { user, service: from, to: stanza.attrs.to ?? "", delayed }, event);
}

/** Who an event is for and from; `delayed`: it carries XEP-0203 delay (a replayed item). */
interface Arrival {
  user: string;
  service: string;
  to: string;
  delayed: boolean;
}

async function handleEvent(
  deps: TimelineEventsDeps,
  log: Logger,
  { user, service, to, delayed }: Arrival,
  event: WireEvent,
): Promise<Out> {
  const { timeline } = deps;
  if (event.kind === "subscription") {
    return onSubscription(deps, log, user, service, to, event.subscription);
  }
  const ref = { service, node: event.node };
  if (event.kind === "configuration") return { events: [] };
  if (event.kind === "purge" || event.kind === "delete") {
    const { result } =
      event.kind === "purge"
        ? await timeline.removePosts(user, ref, undefined)
        : await timeline.followedNodeDeleted(user, ref);
    if (result.dropped) await drop(deps, log, result.dropped, { ...ref, kind: event.kind });
    return { events: [] };
  }
  return onItems(deps, log, user, ref, event, delayed);
}

async function onItems(
  deps: TimelineEventsDeps,
  log: Logger,
  user: string,
  ref: NodeRef,
  event: WireEvent & { kind: "items" },
  delayed: boolean,
): Promise<Out> {
  const { timeline } = deps;
  // The spam filter, first and cheaply: nothing is waited for, fetched or parsed for a node
  // the user does not follow (recordPosts checks again, in its transaction).
  if (!(await timeline.findFollow(user, ref)).result) {
    await drop(deps, log, "not-following", { ...ref, items: event.items.length });
    return { events: [] };
  }
  const events: PubsubEvent[] = [];
  const withPayload = event.items.filter((i) => i.payload !== undefined);
  const { posts, rejected } = readIncomingPosts(withPayload, ref.service);
  if (posts.length > 0) {
    await deps.caughtUp(ref);
    const out = await timeline.recordPosts(user, ref, posts, delayed ? "replay" : "event");
    if (out.result.dropped) {
      await drop(deps, log, out.result.dropped, { ...ref, items: posts.length });
      return { events: [] };
    }
    events.push(...out.events);
  }
  if (rejected > 0) await drop(deps, log, "not-an-entry", { ...ref, items: rejected });
  const ids = event.retracts.filter((id) => id !== "");
  if (ids.length > 0) {
    const { result } = await timeline.removePosts(user, ref, ids);
    if (result.dropped) await drop(deps, log, result.dropped, { ...ref, retracts: ids.length });
  }
  if (withPayload.length < event.items.length) deps.backfill(user, ref, "catch-up");
  return { events };
}

/** §8.6 / §12.7: our subscription at a followed node changed (approved, denied, ended). */
async function onSubscription(
  deps: TimelineEventsDeps,
  log: Logger,
  user: string,
  service: string,
  to: string,
  sub: { node: string; jid: string; subscription: string; subid?: string },
): Promise<Out> {
  const ref = { service, node: sub.node };
  if (bareJid(sub.jid).toLowerCase() !== bareJid(to).toLowerCase()) {
    await drop(deps, log, "not-our-subscription", { ...ref, jid: sub.jid });
    return { events: [] };
  }
  const state =
    sub.subscription === "subscribed"
      ? "subscribed"
      : sub.subscription === "none"
        ? "none"
        : "pending";
  const { result } = await deps.timeline.settleFollow(user, ref, {
    state,
    ...(sub.subid ? { subid: sub.subid } : {}),
  });
  if (!result && state !== "none") {
    await drop(deps, log, "not-following", { ...ref, subscription: state });
  }
  if (result?.state === "subscribed") deps.backfill(user, ref, "initial");
  return { events: [] };
}
