/**
 * Presence at u@C for IM clients: adding u@C to the roster is a follow request under the same
 * policy as a pubsub subscribe; u@C's status is u's latest post.
 */
import type { Logger } from "pino";
import { entryText } from "../../../schemas/src/atom.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import type { PubsubEvent, SubscriptionChanged } from "../domain/events.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../domain/types.js";
import { type Addresses, bareJid } from "../protocol/addresses.js";
import { logRefusal } from "../protocol/stanza-error.js";

export interface PresenceDeps {
  pubsub: PubsubService;
  addresses: Addresses;
  send: (el: Element) => void;
  emit: (events: PubsubEvent[]) => void;
}

export class PresenceFace {
  constructor(private readonly deps: PresenceDeps) {}

  handle(presence: Element, log: Logger): void {
    const from = presence.attrs.from ?? "";
    const service = bareJid(presence.attrs.to ?? "");
    const owner = this.deps.addresses.ownerOfService(service);
    if (!owner || !from) return;
    const ref = { service, node: MICROBLOG_NODE };
    const type = presence.attrs.type;
    if (type === "subscribe") this.follow(ref, owner, from, log);
    else if (type === "unsubscribe") this.unfollow(ref, from, log);
    else if (type === "probe") this.answerProbe(ref, owner, from);
  }

  /**
   * Tell an IM client the outcome of a follow request decided later (approved, denied, expired,
   * banned); the holder's own subscribe and unsubscribe are answered where they arrive.
   */
  onSubscriptionChanged(ev: SubscriptionChanged): void {
    if (ev.cause === "subscribe" || ev.cause === "unsubscribe") return;
    if (ev.state === "subscribed") {
      this.presence(ev.service, ev.jid, "subscribed");
      this.sendStatus({ service: ev.service, node: ev.node }, ev.owner, ev.jid);
    } else if (ev.state === "none") {
      this.presence(ev.service, ev.jid, "unsubscribed");
    }
  }

  private follow(ref: NodeRef, owner: string, from: string, log: Logger): void {
    const jid = bareJid(from);
    // A repeated subscribe while the request waits for the owner (clients and servers resend
    // unanswered ones, RFC 6121 §3.1.3) leaves it pending: answering `unsubscribed` would cancel
    // the roster request while the follow request stands.
    if (this.isPending(ref, from, jid)) return;
    try {
      // No node yet (the owner has never posted): refused like any subscribe, nothing is created
      // on a stranger's request.
      const outcome = this.deps.pubsub.subscribe(from, ref, { jid });
      this.deps.emit(outcome.events);
      if (outcome.result.state === "subscribed") {
        this.presence(ref.service, jid, "subscribed");
        this.sendStatus(ref, owner, jid);
      }
    } catch (err) {
      logRefusal(log, err);
      this.presence(ref.service, jid, "unsubscribed");
    }
  }

  private isPending(ref: NodeRef, from: string, jid: string): boolean {
    try {
      return this.deps.pubsub
        .getSubscriptions(from, ref.service, ref.node)
        .result.some((s) => s.jid === jid && s.state === "pending");
    } catch {
      return false;
    }
  }

  private unfollow(ref: NodeRef, from: string, log: Logger): void {
    const jid = bareJid(from);
    try {
      this.deps.emit(this.deps.pubsub.unsubscribe(from, ref, { jid }).events);
    } catch (err) {
      logRefusal(log, err);
    }
    this.presence(ref.service, jid, "unsubscribed");
  }

  private answerProbe(ref: NodeRef, owner: string, from: string): void {
    const jid = bareJid(from);
    try {
      const subs = this.deps.pubsub.getSubscriptions(from, ref.service, ref.node).result;
      if (subs.some((s) => s.state === "subscribed")) this.sendStatus(ref, owner, from);
      else this.presence(ref.service, jid, "unsubscribed");
    } catch {
      this.presence(ref.service, jid, "unsubscribed");
    }
  }

  private sendStatus(ref: NodeRef, owner: string, to: string): void {
    let status = "";
    try {
      const latest = this.deps.pubsub.getItems(owner, ref, { maxItems: 1 }).result.items[0];
      if (latest) status = entryText(parseXml(latest.payload));
    } catch {
      status = "";
    }
    this.deps.send(
      xml("presence", { from: ref.service, to }, status ? xml("status", {}, status) : undefined),
    );
  }

  private presence(from: string, to: string, type: string): void {
    this.deps.send(xml("presence", { from, to, type }));
  }
}
