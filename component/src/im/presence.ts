/**
 * Presence at u@C for IM clients: adding u@C to the roster is a follow request under the same
 * policy as a pubsub subscribe; u@C's status is u's latest post. The handlers return what to
 * send and the domain's events; outcomes decided later (approved, denied, expired, banned)
 * come back from the event bus.
 */
import type { Logger } from "pino";
import { entryText } from "../../../schemas/src/atom.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import { PubsubError } from "../domain/errors.js";
import type { SubscriptionChanged } from "../domain/events.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../domain/types.js";
import { type Addresses, bareJid } from "../protocol/addresses.js";
import type { BusEvent } from "../protocol/event-bus.js";
import type { Handled, StanzaRouter } from "../protocol/router.js";
import { logRefusal, toErrorElement } from "../protocol/stanza-error.js";

/** Refusals that mean "not now": a flood held by the request limits. */
const LATER: ReadonlySet<string> = new Set(["policy-violation", "resource-constraint"]);

export interface PresenceDeps {
  pubsub: PubsubService;
  addresses: Addresses;
  /** For outcomes that arrive on the bus (not answers to a stanza). */
  send: (el: Element) => void;
}

interface Asked {
  ref: NodeRef;
  owner: string;
  /** The sender, full JID as stamped by the server. */
  from: string;
  /** The sender's bare JID: the one a roster subscription is about. */
  jid: string;
}

const DESK_STATUS = "Microblogging: send help";

const presence = (from: string, to: string, type?: string, ...children: Element[]) =>
  xml("presence", { from, to, type }, ...children);

export class PresenceFace {
  constructor(private readonly deps: PresenceDeps) {}

  register(router: StanzaRouter): void {
    router.onPresence(
      "subscribe",
      (el, log) => this.atDesk(el, "subscribed") ?? this.withAsked(el, (a) => this.follow(a, log)),
    );
    router.onPresence(
      "unsubscribe",
      (el, log) =>
        this.atDesk(el, "unsubscribed") ?? this.withAsked(el, (a) => this.unfollow(a, log)),
    );
    router.onPresence(
      "probe",
      (el) => this.atDesk(el) ?? this.withAsked(el, (a) => this.answerProbe(a)),
    );
  }

  /**
   * C itself, the front desk, as a contact: anyone may add it (it answers chat with help); it
   * is always available. Undefined when the presence is not addressed to C.
   */
  private atDesk(el: Element, answer?: "subscribed" | "unsubscribed") {
    const desk = this.deps.addresses.componentDomain;
    const from = el.attrs.from ?? "";
    if (bareJid(el.attrs.to ?? "") !== desk || !from) return undefined;
    const to = bareJid(from);
    const available = presence(desk, to, undefined, xml("status", {}, DESK_STATUS));
    const replies = answer === undefined ? [available] : [presence(desk, to, answer)];
    if (answer === "subscribed") replies.push(available);
    return Promise.resolve({ replies });
  }

  /** The bus listener: tell IM clients the outcomes decided after their request. */
  onEvents(events: readonly BusEvent[]): void {
    for (const ev of events) if (ev.type === "subscription-changed") void this.onChanged(ev);
  }

  private async withAsked(
    el: Element,
    handle: (asked: Asked) => Promise<Partial<Handled>>,
  ): Promise<Partial<Handled> | undefined> {
    const from = el.attrs.from ?? "";
    const service = bareJid(el.attrs.to ?? "");
    const owner = this.deps.addresses.ownerOfService(service);
    if (!owner || !from) return undefined;
    return handle({ ref: { service, node: MICROBLOG_NODE }, owner, from, jid: bareJid(from) });
  }

  /**
   * A follow request. A repeated one while the request waits for the owner (clients resend
   * unanswered ones, RFC 6121 §3.1.3) is refused by the domain as pending-subscription, in the
   * same one transaction: no answer, which would cancel the roster request. No node yet (the owner never posted): refused
   * like any subscribe, nothing is created on a stranger's request.
   */
  private async follow(a: Asked, log: Logger): Promise<Partial<Handled>> {
    try {
      const request = { jid: a.jid, byPresence: true };
      const { result, events } = await this.deps.pubsub.subscribe(a.from, a.ref, request);
      if (result.state !== "subscribed") return { events };
      const status = await this.status(a.ref, a.owner, a.jid);
      return { replies: [presence(a.ref.service, a.jid, "subscribed"), status], events };
    } catch (err) {
      // Still waiting for the owner: the request stands, and a repeat gets no answer.
      if (err instanceof PubsubError && err.pubsubCondition === "pending-subscription") return {};
      logRefusal(log, err);
      // Over an abuse limit: "not now" (an error of type wait), not a refusal for good.
      if (err instanceof PubsubError && LATER.has(err.condition)) {
        const error = toErrorElement(err, log);
        return { replies: [presence(a.ref.service, a.from, "error", error)] };
      }
      return { replies: [presence(a.ref.service, a.jid, "unsubscribed")] };
    }
  }

  private async unfollow(a: Asked, log: Logger): Promise<Partial<Handled>> {
    let events: readonly BusEvent[] = [];
    try {
      events = (await this.deps.pubsub.unsubscribe(a.from, a.ref, { jid: a.jid })).events;
    } catch (err) {
      logRefusal(log, err);
    }
    return { replies: [presence(a.ref.service, a.jid, "unsubscribed")], events };
  }

  private async answerProbe(a: Asked): Promise<Partial<Handled>> {
    try {
      const subs = (await this.deps.pubsub.getSubscriptions(a.from, a.ref.service, a.ref.node))
        .result;
      if (subs.some((s) => s.state === "subscribed"))
        return { replies: [await this.status(a.ref, a.owner, a.from)] };
    } catch {
      // Treated as not subscribed.
    }
    return { replies: [presence(a.ref.service, a.jid, "unsubscribed")] };
  }

  private async onChanged(ev: SubscriptionChanged): Promise<void> {
    if (!ev.byPresence || ev.cause === "subscribe" || ev.cause === "unsubscribe") return;
    if (ev.state === "subscribed") {
      this.deps.send(presence(ev.service, ev.jid, "subscribed"));
      this.deps.send(await this.status({ service: ev.service, node: ev.node }, ev.owner, ev.jid));
    } else if (ev.state === "none") {
      this.deps.send(presence(ev.service, ev.jid, "unsubscribed"));
    }
  }

  /** u@C's presence: available, with the latest post as the status. */
  private async status(ref: NodeRef, owner: string, to: string): Promise<Element> {
    let status = "";
    try {
      const latest = (await this.deps.pubsub.getItems(owner, ref, { maxItems: 1 })).result.items[0];
      if (latest) status = entryText(parseXml(latest.payload));
    } catch {
      status = "";
    }
    return presence(ref.service, to, undefined, ...(status ? [xml("status", {}, status)] : []));
  }
}
