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
  NodeRef,
  Recipient,
  SubscriptionChanged,
  SubscriptionCursor,
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

/**
 * Flow control through the server. A component has no stream management: what it writes piles
 * up in the socket's buffers and the server's, and a reply written behind a fan-out of 10,000
 * waits until the server has read all of them. So every `every` stanzas the notifier asks for a
 * barrier (a round trip through the server: its answer means the server has read what was sent
 * before it) and keeps at most `window` unanswered. What the server has not read yet stays under
 * every × window notifications; the rest waits here, where a reply can overtake it.
 */
export interface FlowControl {
  /** Resolves once the server has read what was sent before it (or gave up); never rejects. */
  barrier(): Promise<void>;
  /** Stanzas between two barriers (default 50). */
  every?: number;
  /** Barriers unanswered at once (default 2). */
  window?: number;
}

/** The next page of a publish's recipients (PubsubService.moreRecipients). */
export type RecipientPages = (
  ref: NodeRef,
  after: SubscriptionCursor,
) => Promise<{ recipients: Recipient[]; next?: SubscriptionCursor }>;

/**
 * Stanzas waiting to be sent beyond which the notifier is crowded: new requests wait (the app's
 * gate) until it is back under BACKLOG_LOW. Memory then stays bounded whatever the fan-out.
 */
export const BACKLOG_HIGH = 20_000;
export const BACKLOG_LOW = 10_000;

export class Notifier {
  private queue: Promise<void> = Promise.resolve();
  private readonly idPrefix = randomBytes(4).toString("hex");
  private counter = 0;
  private readonly random = new RandomTokens();
  /** Stanzas of queued events not sent yet (an estimate: one per recipient). */
  private waiting = 0;
  private readonly roomWaiters: Array<() => void> = [];
  /** Barriers asked and not answered yet, oldest first. */
  private readonly barriers: Promise<void>[] = [];
  private sinceBarrier = 0;

  constructor(
    private readonly sink: StanzaSink,
    private readonly addresses: Addresses,
    private readonly log: Logger,
    private readonly lines = new PostLines(addresses),
    private readonly flow?: FlowControl,
    private readonly pages?: RecipientPages,
  ) {}

  /** Stanzas queued and not sent yet. */
  get backlog(): number {
    return this.waiting;
  }

  /** Whether so much waits to be sent that new work should wait (see room()). */
  get crowded(): boolean {
    return this.waiting > BACKLOG_HIGH;
  }

  /** Resolves when the backlog is under BACKLOG_LOW (at once when it is). */
  room(): Promise<void> {
    if (this.waiting <= BACKLOG_LOW) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Deliver the events of committed use cases, after those queued before them. The order of a
   * reply and its own notifications is the router's (the reply is sent first); waiting for the
   * next turn of the event loop here is about priority: the replies of the requests already in
   * hand (small, and what their senders wait for) go out before a fan-out (large) starts.
   */
  notify(events: readonly BusEvent[]): void {
    if (events.length === 0) return;
    const estimate = { left: events.reduce((n, e) => n + stanzaEstimate(e), 0) };
    this.waiting += estimate.left;
    this.queue = this.queue
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.deliver(events, estimate))
      .catch((err: unknown) => this.log.error({ err }, "notification fan-out failed"))
      .finally(() => this.sent(estimate, estimate.left));
  }

  /** `n` stanzas of a batch whose estimate is `estimate` went out (or will never). */
  private sent(estimate: { left: number }, n: number): void {
    const k = Math.min(n, estimate.left);
    if (k <= 0) return;
    estimate.left -= k;
    this.waiting -= k;
    if (this.waiting <= BACKLOG_LOW && this.roomWaiters.length > 0) {
      for (const wake of this.roomWaiters.splice(0)) wake();
    }
  }

  /** Resolves when every notification queued so far has been handed to the connection. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async deliver(events: readonly BusEvent[], estimate: { left: number }): Promise<void> {
    const count = { sent: 0 };
    for (const event of events) {
      if (event.type !== "item-published") {
        await this.send(this.stanzasFor(event, await this.chatLineFor(event)), estimate, count);
        continue;
      }
      // A publish to a large node comes a page of recipients at a time.
      let line: string | undefined;
      for (let page: ItemPublished | undefined = event; page; ) {
        line ??= await this.chatLineFor(page);
        await this.send(this.stanzasFor(page, line), estimate, count);
        page = await this.nextPage(page);
        if (page) {
          estimate.left += page.recipients.length;
          this.waiting += page.recipients.length;
        }
      }
    }
  }

  private async send(
    stanzas: Iterable<Element>,
    estimate: { left: number },
    count: { sent: number },
  ): Promise<void> {
    for (const stanza of stanzas) {
      const queued = this.sink.send(stanza);
      count.sent++;
      this.sent(estimate, 1);
      if (!queued || count.sent % CHUNK === 0) await this.sink.drained();
      await this.paced();
    }
  }

  /** The publish with its next page of recipients, if it has more. */
  private async nextPage(page: ItemPublished): Promise<ItemPublished | undefined> {
    if (!page.more || !this.pages) return undefined;
    const { more: _, ...rest } = page;
    const { recipients, next } = await this.pages(page, page.more);
    if (recipients.length === 0 && !next) return undefined;
    return next ? { ...rest, recipients, more: next } : { ...rest, recipients };
  }

  /** One stanza more went out: ask a barrier every `every`, wait while `window` are unanswered. */
  private async paced(): Promise<void> {
    const flow = this.flow;
    if (!flow) return;
    this.sinceBarrier += 1;
    if (this.sinceBarrier < (flow.every ?? 50)) return;
    this.sinceBarrier = 0;
    this.barriers.push(flow.barrier());
    while (this.barriers.length > (flow.window ?? 2)) await this.barriers.shift();
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

/** About how many stanzas an event becomes (one per recipient). */
function stanzaEstimate(event: BusEvent): number {
  return "recipients" in event ? event.recipients.length : 1;
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
