/**
 * Store-and-forward for notifications (INTERFACE "Delivery is store-and-forward, like mail").
 * Every notification to a remote JID goes out through here: its id is remembered for a while,
 * so that when it comes back as an error the stanza can be kept. A temporary (s2s-class) error
 * puts it in the outbox; the retry loop sends due entries again, in order per domain; a domain
 * with entries waiting gets new notifications queued behind them; a stanza from a waiting
 * domain makes its entries due at once. A permanent error ends that subscription (§7.1.2.1).
 */
import type { Logger } from "pino";
import { parseStanzaError } from "../../../schemas/src/errors.js";
import { NS_WARBLE } from "../../../schemas/src/microblog-disco.js";
import { NS_PUBSUB_EVENT } from "../../../schemas/src/ns.js";
import { type Element, parseXml } from "../../../schemas/src/xml.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";
import type { PubsubEvent } from "../domain/events.js";
import {
  bouncedBy,
  isRecipientGroup,
  isTemporaryDeliveryError,
  SERVER_UNREACHABLE_CONDITIONS,
  type TimelineService,
} from "../domain/index.js";
import { bareJid, domainOf } from "../domain/jid.js";
import type { Addresses } from "../protocol/addresses.js";
import type { StanzaSink } from "../protocol/notifier.js";

export interface DeliveryOptions {
  sink: StanzaSink;
  timeline: TimelineService;
  addresses: Addresses;
  log: Logger;
  publish: (events: readonly PubsubEvent[]) => void;
  /** Whether the component connection is up (nothing is resent while it is down). */
  isOnline: () => boolean;
  /** How long a resent entry must stay unbounced to count as delivered (default 120 s). */
  quietMs?: number;
  /** How often the retry loop looks at the outbox (default 1 s). */
  tickMs?: number;
  /** Notifications remembered for a bounce (default 50,000, each for at most 10 min). */
  remember?: number;
}

interface Sent {
  el: Element;
  at: number;
}

const REMEMBER_MS = 10 * 60_000;
const BATCH = 200;
/** A group that bounced this many times is probed with its oldest entry first. */
const PROBE_AFTER = 2;

export class Delivery implements StanzaSink {
  private readonly recent = new Map<string, Sent>();
  /** Schedule groups (domains, or single recipients' bare JIDs) with entries waiting. */
  private readonly held = new Set<string>();
  /** Writes of notifications queued behind others, awaited by idle(). */
  private readonly queueing = new Set<Promise<unknown>>();
  private readonly turns = new Map<string, Promise<void>>();
  /** Groups that showed life since the last pass: sent whole, not probed. */
  private readonly awake = new Set<string>();
  /** Entries sent again and not settled yet (a settle pass is needed while > 0). */
  private awaiting = 1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly local: Set<string>;

  constructor(private readonly opts: DeliveryOptions) {
    this.local = new Set([opts.addresses.componentDomain, ...opts.addresses.usersDomains]);
  }

  /**
   * Load the waiting groups and start the retry loop. What was sent again before a restart is
   * due again: whether it bounced while Warble was down is not known (a repeat is better than
   * a loss; the follower's timeline keeps each post once).
   */
  async start(): Promise<void> {
    await this.opts.timeline.unsendOutbox();
    await this.refreshHeld();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Resolves when the retry pass in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
    await Promise.allSettled([...this.queueing]);
  }

  send(el: Element): boolean {
    const to = el.attrs.to ?? "";
    const domain = domainOf(to).toLowerCase();
    if (this.local.has(domain) || el.name !== "message") return this.opts.sink.send(el);
    const id = el.attrs.id;
    const recipient = bareJid(to);
    const group = this.held.has(domain) ? domain : this.held.has(recipient) ? recipient : undefined;
    if (group && id) {
      const item = { recipient: to, domain: group, messageId: id, stanza: writeXml(el) };
      this.inTurn(group, async () => {
        const { result } = await this.opts.timeline.queueBehind(item);
        if (!result) this.overflow(to, id);
      });
      return true;
    }
    if (id) this.remember(id, el);
    return this.opts.sink.send(el);
  }

  /**
   * Outbox writes of one group, one after the other (their ids are their order, and on
   * PostgreSQL concurrent transactions could commit ids out of it); awaited by idle().
   */
  private inTurn(group: string, write: () => Promise<void>): Promise<void> {
    const previous = this.turns.get(group) ?? Promise.resolve();
    const next = previous
      .then(write)
      .catch((err: unknown) =>
        this.opts.log.error({ err, group }, "could not queue a notification"),
      );
    this.turns.set(group, next);
    this.queueing.add(next);
    void next.finally(() => {
      this.queueing.delete(next);
      if (this.turns.get(group) === next) this.turns.delete(group);
    });
    return next;
  }

  drained(): Promise<void> {
    return this.opts.sink.drained();
  }

  private remember(id: string, el: Element): void {
    const now = Date.now();
    this.recent.set(id, { el, at: now });
    const cap = this.opts.remember ?? 50_000;
    for (const [key, sent] of this.recent) {
      if (this.recent.size <= cap && now - sent.at < REMEMBER_MS) break;
      this.recent.delete(key);
    }
  }

  /**
   * A message of type error addressed to us: one of ours bounced. Only the recipient or its
   * server may say so (ids are unguessable too). Never throws.
   */
  async onBounce(stanza: Element): Promise<void> {
    if (stanza.name !== "message") return;
    const id = stanza.attrs.id ?? "";
    const from = bareJid(stanza.attrs.from ?? "");
    if (!id || !from) return;
    const sent = this.recent.get(id);
    const to = sent ? bareJid(sent.el.attrs.to ?? "") : undefined;
    if (to && !bouncedBy(to, from)) return;
    let condition = "undefined-condition";
    try {
      condition = parseStanzaError(stanza).condition;
    } catch {
      // No readable error: undefined-condition, permanent.
    }
    if (isTemporaryDeliveryError(condition)) await this.defer(id, from, sent, condition);
    else if (sent) await this.failed(sent.el, condition);
  }

  private defer(id: string, from: string, sent: Sent | undefined, condition: string) {
    const recipient = sent?.el.attrs.to ?? from;
    const group = SERVER_UNREACHABLE_CONDITIONS.has(condition)
      ? domainOf(recipient).toLowerCase()
      : bareJid(recipient);
    return this.inTurn(group, () => this.deferNow(id, from, sent, condition, group));
  }

  private async deferNow(
    id: string,
    from: string,
    sent: Sent | undefined,
    condition: string,
    group: string,
  ) {
    const recipient = sent?.el.attrs.to ?? from;
    const { result } = await this.opts.timeline.deferDelivery({
      recipient,
      domain: group,
      messageId: id,
      from,
      ...(sent ? { stanza: writeXml(sent.el) } : {}),
      condition,
    });
    this.recent.delete(id);
    if (result.kind === "queued") {
      this.held.add(result.entry.domain);
      this.opts.log.info(
        { to: recipient, id, condition, attempts: result.entry.attempts },
        "notification bounced: kept to send again",
      );
    } else if (result.kind === "overflow") {
      this.overflow(recipient, id);
    } else if (result.kind === "gave-up") {
      this.opts.log.warn(
        { to: recipient, id, condition, attempts: result.entry.attempts },
        "gave up delivering a notification: its deadline passed",
      );
      if (isRecipientGroup(result.entry.domain))
        await this.failedStored(result.entry.stanza, condition);
    }
  }

  private overflow(to: string, id: string): void {
    this.opts.log.warn(
      { to, id },
      "gave up a notification: too many are waiting for its recipient",
    );
  }

  private async failedStored(stanza: string, condition: string): Promise<void> {
    try {
      await this.failed(parseXml(stanza), condition);
    } catch (err) {
      this.opts.log.warn(
        { err: String(err) },
        "could not end the subscription of a failed delivery",
      );
    }
  }

  /** A permanent error: the subscription of the recipient to the notified node ends. */
  private async failed(sent: Element, condition: string): Promise<void> {
    // A notification's shared part is pre-serialised text (notifier.ts): read it as a tree.
    const el = parseXml(writeXml(sent));
    const service = bareJid(el.attrs.from ?? "");
    const relayed = el.getChild("relayed", NS_WARBLE);
    const node =
      el.getChild("event", NS_PUBSUB_EVENT)?.getChildElements()[0]?.attrs.node ??
      (relayed?.attrs.service === service ? relayed.attrs.node : undefined);
    const to = el.attrs.to ?? "";
    this.recent.delete(el.attrs.id ?? "");
    if (!node || !this.opts.addresses.ownerOfService(service)) return;
    const out = await this.opts.timeline.endSubscriptionOnError({ service, node }, to, condition);
    if (out.result) {
      this.opts.log.info({ service, node, to, condition }, "ended a subscription: delivery failed");
      this.opts.publish(out.events);
    }
  }

  /** A stanza arrived from `domain` (its server is up): what waits for the domain is due now. */
  sawDomain(domain: string): void {
    if (!this.held.has(domain)) return;
    this.awake.add(domain);
    void this.opts.timeline
      .wakeDomain(domain)
      .then(() => this.tick())
      .catch(() => {});
  }

  isHeld(domain: string): boolean {
    return this.held.has(domain);
  }

  private tick(): void {
    if (this.running || !this.opts.isOnline()) return;
    if (this.held.size === 0 && this.awaiting === 0) return;
    this.running = this.pass()
      .catch((err: unknown) => this.opts.log.error({ err }, "outbox pass failed"))
      .finally(() => {
        this.running = undefined;
      });
  }

  private async pass(): Promise<void> {
    const exempt = new Set(this.awake);
    this.awake.clear();
    const probe = { afterAttempts: PROBE_AFTER, holdMs: this.opts.quietMs ?? 120_000, exempt };
    const { result: due } = await this.opts.timeline.takeDueDeliveries(BATCH, probe);
    for (const entry of due) {
      let el: Element;
      try {
        el = parseXml(entry.stanza);
      } catch {
        continue;
      }
      this.remember(entry.messageId, el);
      if (!this.opts.sink.send(el)) await this.opts.sink.drained();
    }
    this.awaiting += due.length;
    const { result } = await this.opts.timeline.settleOutbox(this.opts.quietMs ?? 120_000, 1000);
    for (const e of result.gaveUp) {
      this.opts.log.warn(
        { to: e.recipient, id: e.messageId, attempts: e.attempts, error: e.lastError },
        "gave up delivering a notification: its deadline passed",
      );
    }
    await this.refreshHeld();
  }

  private async refreshHeld(): Promise<void> {
    const { result } = await this.opts.timeline.outboxDomains();
    this.held.clear();
    for (const d of result) this.held.add(d.domain);
    this.awaiting =
      (await this.opts.timeline.countOutbox()) - result.reduce((n, d) => n + d.count, 0);
  }
}
