/**
 * THE place where pubsub events become stanzas (DESIGN: fan-out lives in one place).
 *
 * Events arrive from the event bus after the domain's commit, and after the IQ reply of the
 * request that caused them was sent (the router's order). They are delivered in order, one use
 * case after the other; a large fan-out goes out in chunks, waiting for the connection to drain
 * between them.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { notificationBody, rfc3339 } from "../../../schemas/src/atom.js";
import { NS_WARBLE } from "../../../schemas/src/microblog-disco.js";
import { NS_DELAY, NS_HINTS } from "../../../schemas/src/ns.js";
import {
  buildEvent,
  buildSubscribeAuthorizationForm,
  type PubsubItem,
} from "../../../schemas/src/pubsub.js";
import { type Element, parseXml, RawXml, xml } from "../../../schemas/src/xml.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";
import type {
  ConfigurationChanged,
  Item,
  ItemPublished,
  ItemsRetracted,
  LastItemForSubscriber,
  NodeDeleted,
  NodePurged,
  Recipient,
  SubscriptionChanged,
  SubscriptionRequested,
} from "../domain/index.js";
import type { Addresses } from "./addresses.js";
import type { BusEvent } from "./event-bus.js";
import { PostLines, postText } from "./post-lines.js";
import { configToForm } from "./pubsub/config-form.js";

/** Where stanzas go: the component connection. */
export interface StanzaSink {
  /** false when the stanza could not be queued without exceeding the buffer (or is dropped). */
  send(el: Element): boolean;
  /** Resolves when the connection can take more. */
  drained(): Promise<void>;
}

/** Stanzas sent before waiting for the connection to drain. */
const CHUNK = 100;

export class Notifier {
  private queue: Promise<void> = Promise.resolve();
  private readonly idPrefix = randomBytes(4).toString("hex");
  private counter = 0;
  private readonly random = new RandomTokens();

  constructor(
    private readonly sink: StanzaSink,
    private readonly addresses: Addresses,
    private readonly log: Logger,
    private readonly lines = new PostLines(addresses),
  ) {}

  /**
   * Deliver the events of committed use cases, after those queued before them. The order of a
   * reply and its own notifications is the router's (the reply is sent first); waiting for the
   * next turn of the event loop here is about priority: the replies of the requests already in
   * hand (small, and what their senders wait for) go out before a fan-out (large) starts.
   */
  notify(events: readonly BusEvent[]): void {
    if (events.length === 0) return;
    this.queue = this.queue
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.deliver(events))
      .catch((err: unknown) => this.log.error({ err }, "notification fan-out failed"));
  }

  /** Resolves when every notification queued so far has been handed to the connection. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async deliver(events: readonly BusEvent[]): Promise<void> {
    let sent = 0;
    for (const event of events) {
      const line = await this.chatLineFor(event);
      for (const stanza of this.stanzasFor(event, line)) {
        const queued = this.sink.send(stanza);
        sent++;
        if (!queued || sent % CHUNK === 0) await this.sink.drained();
      }
    }
  }

  /**
   * The chat line of a post for its IM followers (once per fan-out): the readable body of their
   * chat messages. Its quote of a replied-to post is one anybody may see.
   */
  private async chatLineFor(event: BusEvent): Promise<string | undefined> {
    const chat =
      (event.type === "item-published" && event.recipients.some((r) => r.chat)) ||
      (event.type === "last-item-for-subscriber" && event.recipient.chat);
    if (!chat) return undefined;
    const { service, node, item } = event;
    const post = { service, node, itemId: item.id, author: this.ownerOf(service) };
    return this.lines.line({ ...post, payload: item.payload });
  }

  private *stanzasFor(event: BusEvent, line: string | undefined): Generator<Element> {
    switch (event.type) {
      case "item-published":
        yield* this.itemPublished(event, line);
        return;
      case "items-retracted":
        yield* this.itemsRetracted(event);
        return;
      case "node-purged":
        yield* this.nodePurged(event);
        return;
      case "node-deleted":
        yield* this.nodeDeleted(event);
        return;
      case "configuration-changed":
        yield* this.configurationChanged(event);
        return;
      case "subscription-changed":
        yield* this.subscriptionChanged(event);
        return;
      case "subscription-requested":
        yield this.subscriptionRequested(event);
        return;
      case "last-item-for-subscriber":
        yield* this.lastItem(event, line);
        return;
      case "node-created":
      case "timeline-posts":
        return;
    }
  }

  /**
   * Unguessable (a bounce names the id: anyone who could guess another recipient's could make
   * Warble think that notification bounced), and unique (the counter).
   */
  private nextId(): string {
    this.counter += 1;
    return `${this.idPrefix}-${this.counter}-${this.random.next()}`;
  }

  private ownerOf(service: string): string {
    return this.addresses.ownerOfService(service) ?? service;
  }

  /**
   * A message from u@C. The event element is shared by every message of one fan-out (ltx
   * serializes a child regardless of which parent it was last appended to).
   */
  private message(service: string, to: string, children: Element[], headline = true): Element {
    const type = headline ? "headline" : undefined;
    return xml("message", { type, from: service, to, id: this.nextId() }, ...children);
  }

  /** A pubsub event to the pubsub subscribers; an IM follower's chat shows posts only. */
  private *fanOut(service: string, recipients: readonly Recipient[], children: Element[]) {
    const same = serialisedOnce(children);
    for (const r of recipients) if (!r.chat) yield this.message(service, r.jid, same);
  }

  /**
   * A post to an IM follower: a chat message (kept while the follower is offline, XEP-0160),
   * the chat line as its body, <relayed/> naming the post; and u@C's presence, whose status is
   * the latest post.
   */
  private *chatPost(event: ItemPublished | LastItemForSubscriber, to: string, line: string) {
    const { service, node, item } = event;
    const relayed = xml("relayed", { xmlns: NS_WARBLE, service, node, item: item.id });
    const children = [xml("body", null, line), relayed, xml("store", { xmlns: NS_HINTS })];
    if (event.type === "last-item-for-subscriber") children.push(this.delayOf(event));
    yield xml("message", { type: "chat", from: service, to, id: this.nextId() }, ...children);
    if (event.type === "item-published") {
      const status = postText(item.payload);
      yield xml("presence", { from: service, to }, xml("status", null, status));
    }
  }

  /**
   * The item's event element (with `extra`) and its readable body ("u@D: text"), built once per
   * fan-out; the body is undefined when the payload is not an Atom entry.
   */
  private itemChildren(
    event: ItemPublished | LastItemForSubscriber,
    item: Item,
    extra: Element[] = [],
  ): { children: Element[]; body: Element | undefined } {
    let payload: Element | undefined;
    try {
      payload = parseXml(item.payload);
    } catch {
      this.log.warn({ service: event.service, item: item.id }, "stored payload is not XML");
    }
    // The stored text goes into the event as it is; the parsed tree only gives the body.
    const pubsubItem: PubsubItem = payload
      ? { id: item.id, payload: new RawXml(item.payload) }
      : { id: item.id };
    const children = [
      buildEvent(
        { kind: "items", node: event.node, items: [pubsubItem], retracts: [] },
        { deliverPayloads: event.deliverPayloads },
      ),
      ...extra,
    ];
    let body: Element | undefined;
    if (payload) {
      try {
        body = xml("body", null, notificationBody(this.ownerOf(event.service), payload));
      } catch {
        // Not an Atom entry: no body (XEP-0060 §12.9: only when the payload is understood).
      }
    }
    return { children, body };
  }

  /**
   * The children for one recipient: with the body when the node includes bodies
   * (pubsub#include_body), unless the subscriber chose otherwise in its options (§6.3).
   */
  private withBody(
    event: ItemPublished | LastItemForSubscriber,
    recipient: Recipient,
    built: { children: Element[]; body: Element | undefined },
  ): Element[] {
    return wantsBody(event, recipient) && built.body
      ? [...built.children, built.body]
      : built.children;
  }

  /** The event (and body) serialised once, each recipient's message varies only in to and id. */
  private *itemPublished(event: ItemPublished, line: string | undefined): Generator<Element> {
    const built = this.itemChildren(event, event.item);
    const withBody = serialisedOnce(built.body ? [...built.children, built.body] : built.children);
    const without = serialisedOnce(built.children);
    for (const r of event.recipients) {
      if (r.chat && line !== undefined) yield* this.chatPost(event, r.jid, line);
      else {
        yield this.message(event.service, r.jid, wantsBody(event, r) ? withBody : without);
      }
    }
  }

  private delayOf(event: LastItemForSubscriber): Element {
    const stamp = rfc3339(new Date(event.item.updatedAt));
    return xml("delay", { xmlns: NS_DELAY, from: event.service, stamp });
  }

  /** §6.1.7: the last item to a new subscriber, stamped as delayed (XEP-0203). */
  private *lastItem(event: LastItemForSubscriber, line: string | undefined): Generator<Element> {
    if (event.recipient.chat && line !== undefined) {
      yield* this.chatPost(event, event.recipient.jid, line);
      return;
    }
    const built = this.itemChildren(event, event.item, [this.delayOf(event)]);
    yield this.message(
      event.service,
      event.recipient.jid,
      this.withBody(event, event.recipient, built),
    );
  }

  private itemsRetracted(event: ItemsRetracted): Generator<Element> {
    const el = buildEvent({ kind: "items", node: event.node, items: [], retracts: event.itemIds });
    return this.fanOut(event.service, event.recipients, [el]);
  }

  private nodePurged(event: NodePurged): Generator<Element> {
    return this.fanOut(event.service, event.recipients, [
      buildEvent({ kind: "purge", node: event.node }),
    ]);
  }

  /** §8.4.2 to the pubsub subscribers; an IM follower's contact says it is followed no more. */
  private *nodeDeleted(event: NodeDeleted & { redirect?: string }): Generator<Element> {
    const el = buildEvent({
      kind: "delete",
      node: event.node,
      ...(event.redirect ? { redirect: event.redirect } : {}),
    });
    yield* this.fanOut(event.service, event.recipients, [el]);
    for (const r of event.recipients) {
      if (r.chat) yield xml("presence", { from: event.service, to: r.jid, type: "unsubscribed" });
    }
  }

  /** §8.2.5: the new configuration as a result form, or an empty <configuration/>. */
  private configurationChanged(event: ConfigurationChanged): Generator<Element> {
    const el = buildEvent({
      kind: "configuration",
      node: event.node,
      ...(event.deliverPayloads ? { form: configToForm(event.config, "result") } : {}),
    });
    return this.fanOut(event.service, event.recipients, [el]);
  }

  /**
   * §12.7 / §8.6: tell the subscriber when someone else changed its subscription (approved,
   * denied, expired, the owner, a ban, the access model); the holder's own subscribe and
   * unsubscribe are answered by their IQ result. The owner is told too with pubsub#notify_sub.
   */
  private *subscriptionChanged(event: SubscriptionChanged): Generator<Element> {
    const owner = this.ownerOf(event.service);
    const el = buildEvent({
      kind: "subscription",
      subscription: {
        node: event.node,
        jid: event.jid,
        subscription: event.state,
        subid: event.subid,
      },
    });
    const told = event.cause !== "subscribe" && event.cause !== "unsubscribe";
    if (told && event.cause !== "delivery-failed") {
      const text = subscriberText(event, owner);
      const body = text ? [xml("body", null, text)] : [];
      // A normal message, not a headline: servers keep it for an offline requester.
      yield this.message(event.service, event.jid, [el, ...body], false);
    }
    if (event.notifyOwner && event.owner) {
      const text =
        event.cause === "delivery-failed"
          ? `${event.jid} no longer follows your microblog: notifications to them failed (${event.detail ?? "error"}).`
          : event.state === "subscribed"
            ? `${event.jid} now follows your microblog.`
            : event.state === "none"
              ? `${event.jid} no longer follows your microblog.`
              : `${event.jid}'s subscription to your microblog is ${event.state}.`;
      yield this.message(event.service, event.owner, [el, xml("body", null, text)]);
    }
  }

  /** §8.6: the approval form to the owner u@D, with a readable body. */
  private subscriptionRequested(event: SubscriptionRequested): Element {
    const form = buildSubscribeAuthorizationForm({
      node: event.node,
      subscriberJid: event.jid,
      subid: event.subid,
    });
    const body =
      `${event.jid} asks to follow your microblog ${event.service}. ` +
      `Approve or deny with the form in this message, or with the ad-hoc commands ` +
      `"approve" / "deny" at ${this.addresses.componentDomain}.`;
    return this.message(event.service, event.owner, [form, xml("body", null, body)], false);
  }
}

function subscriberText(event: SubscriptionChanged, owner: string): string | undefined {
  switch (event.state) {
    case "subscribed":
      return `You now follow ${owner}'s microblog (${event.service}).`;
    case "none":
      return event.cause === "denied"
        ? `${owner} declined your request to follow their microblog.`
        : event.cause === "expired"
          ? `Your request to follow ${owner}'s microblog expired.`
          : `You no longer follow ${owner}'s microblog.`;
    case "pending":
      return `Your request to follow ${owner}'s microblog is waiting for approval.`;
    default:
      return undefined;
  }
}

/** The subscriber's own pubsub#include_body, else the node's (§6.3). */
function wantsBody(event: ItemPublished | LastItemForSubscriber, recipient: Recipient): boolean {
  return recipient.includeBody ?? event.includeBody;
}

/**
 * Children shared by every message of a fan-out, written once as text: a fan-out then costs a
 * few string joins per recipient, not a walk of the whole event tree.
 */
function serialisedOnce(children: readonly Element[]): Element[] {
  return [RawXml.written(children.map((c) => writeXml(c)).join(""))];
}

/**
 * 8-character random tokens (48 bits, base64url) cut from one 6 KiB draw of the system's CSPRNG:
 * a fan-out asks for one per message, and one crypto call per message cost more than the
 * message's own serialisation.
 */
class RandomTokens {
  private pool = "";
  private at = 0;

  next(): string {
    if (this.at + 8 > this.pool.length) {
      this.pool = randomBytes(6144).toString("base64url");
      this.at = 0;
    }
    const token = this.pool.slice(this.at, this.at + 8);
    this.at += 8;
    return token;
  }
}
