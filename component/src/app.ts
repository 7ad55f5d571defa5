import type { Logger } from "pino";
import { buildWarbleInfoForm } from "../../schemas/src/microblog-disco.js";
import { NS_MICROBLOG, NS_PING } from "../../schemas/src/ns.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import type { Config } from "./config.js";
import { domainOf } from "./domain/jid.js";
import type { PubsubStore } from "./domain/ports.js";
import { PubsubService } from "./domain/pubsub-service.js";
import { TimelineService } from "./domain/timeline-service.js";
import { DEFAULT_TIMELINE_LIMITS } from "./domain/timeline-use-cases.js";
import { Delivery } from "./federation/delivery.js";
import { FollowClient } from "./federation/follow-client.js";
import { IqCaller } from "./federation/iq-caller.js";
import { MicroblogLocator } from "./federation/microblog-locator.js";
import { startHealthLog } from "./health.js";
import { accountCommands, getPendingCommand } from "./im/account-commands.js";
import { AdhocCommands } from "./im/adhoc.js";
import { registerAuthorizationAnswers } from "./im/authorization-answers.js";
import { registerChatFace } from "./im/chat-face.js";
import { PresenceFace } from "./im/presence.js";
import { timelineCommands } from "./im/timeline-commands.js";
import { Addresses } from "./protocol/addresses.js";
import { ComponentConnection } from "./protocol/component-connection.js";
import { registerDiscovery } from "./protocol/discovery.js";
import { type BusEvent, EventBus } from "./protocol/event-bus.js";
import { Intake } from "./protocol/intake.js";
import { type FlowControl, Notifier } from "./protocol/notifier.js";
import { PostLines } from "./protocol/post-lines.js";
import { pubsubDisco } from "./protocol/pubsub/pubsub-disco.js";
import { registerPubsub } from "./protocol/pubsub/register-pubsub.js";
import { refusedStanzaReply } from "./protocol/refused-stanza.js";
import { StanzaRouter } from "./protocol/router.js";
import { DEFAULT_STANZA_LIMITS, type RefusalKind } from "./protocol/stanza-parser.js";
import { registerMam } from "./protocol/timeline/mam-handler.js";
import { Relay } from "./protocol/timeline/relay.js";
import { registerTimelineEvents } from "./protocol/timeline/timeline-events.js";
import { openStore } from "./storage/open-store.js";

/** How often follow requests that got no answer are sent again. */
const FOLLOW_RETRY_MS = 5 * 60_000;

/** How often pending follow requests are checked for expiry (at most). */
const EXPIRY_SWEEP_MS = 60_000;

/** How long a fan-out waits for the server to answer a barrier before it goes on anyway. */
const BARRIER_MS = 10_000;

/** Config limits → the domain's AbuseLimits (only those set; the rest keep the defaults). */
function domainLimits(limits: Config["limits"]) {
  const { pendingExpirySeconds, ...rest } = limits;
  const counts = {
    ...pick(rest, "maxPendingPerDomainPerNode", "maxPendingPerDomainPerNode"),
    ...pick(rest, "maxRequestsPerDomainPerMinute", "maxRequestsPerDomainPerMinute"),
    ...pick(rest, "maxRequestsPerRequesterPerMinute", "maxRequestsPerRequesterPerMinute"),
    ...pick(rest, "maxPendingPerNode", "maxPendingPerNode"),
  };
  return pendingExpirySeconds ? { ...counts, pendingTtlMs: pendingExpirySeconds * 1000 } : counts;
}

/** `{ [to]: limits[from] }` when it is set, else nothing (the default stays). */
function pick<K extends keyof Config["limits"], T extends string>(
  limits: Config["limits"],
  from: K,
  to: T,
  scale = 1,
): Partial<Record<T, number>> {
  const v = limits[from];
  return v === undefined ? {} : ({ [to]: v * scale } as Partial<Record<T, number>>);
}

function timelineLimits(limits: Config["limits"]) {
  return {
    ...pick(limits, "maxFollowsPerUser", "maxFollows"),
    ...pick(limits, "maxTimelineEntries", "maxTimelineEntries"),
    ...pick(limits, "backfillItems", "backfill"),
  };
}

function retryPolicy(limits: Config["limits"]) {
  return {
    ...pick(limits, "retryFirstSeconds", "firstDelayMs", 1000),
    ...pick(limits, "retryMaxSeconds", "maxDelayMs", 1000),
    ...pick(limits, "retryDeadlineSeconds", "deadlineMs", 1000),
  };
}

function createPubsubService(config: Config, store: PubsubStore, addresses: Addresses) {
  return new PubsubService({
    store,
    ownerOf: (jid) => addresses.ownerOfService(jid),
    policy: {
      usersDomains: config.usersDomains,
      deniedDomains: config.denyDomains,
      allowedDomains: config.allowDomains,
      trustedDomains: [config.domain],
    },
    limits: domainLimits(config.limits),
    timeline: timelineLimits(config.limits),
  });
}

function createConnection(config: Config, log: Logger, service: PubsubService) {
  const { domain, service: uri, secret } = config;
  const onReplaced = (count: number) => {
    log.warn({ count }, "replaced characters XML forbids in an outgoing stanza");
    void service.incrementCounter("written:replaced-chars", count).catch(() => {});
  };
  return new ComponentConnection({ service: uri, domain, secret, log, onReplaced });
}

interface Wiring {
  config: Config;
  service: PubsubService;
  timeline: TimelineService;
  follows: FollowClient;
  addresses: Addresses;
  router: StanzaRouter;
  bus: EventBus;
  send: (el: Element) => void;
  lines: PostLines;
  log: Logger;
}

/** The home timeline: events arriving at u@C, MAM, C's microblog disco, and the relay. */
function wireTimeline(app: Wiring) {
  const { config, timeline, follows, addresses, router, bus } = app;
  registerTimelineEvents(router, {
    timeline,
    addresses,
    backfill: (user, ref, source) => {
      follows.backfill(user, ref, source).catch(() => {});
    },
    caughtUp: (ref) => follows.caughtUp(ref),
  });
  const relay = new Relay(addresses, app.send, app.lines, app.log);
  bus.subscribe((events) => relay.onEvents(events));
  const mam = registerMam(router, { timeline, addresses });
  const microblogs = {
    serviceFeatures: [NS_MICROBLOG],
    serviceExtensions: [buildWarbleInfoForm(config.usersDomains)],
  };
  return [mam, microblogs];
}

/** Every face's entries in the one dispatch table, and their listeners on the bus. */
function wireFaces(app: Wiring) {
  const { config, service: pubsub, timeline, follows, addresses, router, bus } = app;
  const presence = new PresenceFace({ pubsub, addresses, send: app.send });
  presence.register(router);
  registerAuthorizationAnswers(router, { pubsub, addresses });
  const own = [
    ...accountCommands({ pubsub, addresses, admins: config.admins, follows }),
    ...timelineCommands({ follows, timeline, pubsub, addresses, limits: config }),
  ];
  const commands = new AdhocCommands((reason) => pubsub.incrementCounter(`refused:${reason}`)).add(
    ...own,
    getPendingCommand({ pubsub, addresses }),
  );
  commands.register(router);
  const { lines } = app;
  const chat = {
    commands: own,
    pubsub,
    timeline,
    follows,
    addresses,
    lines,
    limits: config.limits,
  };
  registerChatFace(router, chat);
  registerPubsub(router, { service: pubsub, addresses, limits: config });
  const timelineDisco = wireTimeline(app);
  registerDiscovery(router, addresses, [pubsubDisco(pubsub), commands, ...timelineDisco]);
  bus.subscribe((events) => presence.onEvents(events));
}

/** The running service: store, connection, the dispatch table and the event bus between them. */
export class App {
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;
  private expiry: NodeJS.Timeout | undefined;
  private requests: NodeJS.Timeout | undefined;
  private stopHealth: () => void = () => {};
  readonly router = new StanzaRouter();
  readonly bus: EventBus;
  readonly notifier: Notifier;
  readonly caller: IqCaller;
  readonly intake: Intake;
  readonly timeline: TimelineService;
  readonly delivery: Delivery;
  readonly follows: FollowClient;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly store: PubsubStore,
    readonly service: PubsubService,
    readonly connection: ComponentConnection,
    addresses: Addresses,
  ) {
    const send = (el: Element) => connection.send(el);
    this.bus = new EventBus(log);
    this.timeline = new TimelineService(service, retryPolicy(config.limits));
    const publish = (events: readonly BusEvent[]) => this.bus.publish(events);
    this.delivery = new Delivery({
      sink: connection,
      isOnline: () => connection.online,
      timeline: this.timeline,
      addresses,
      log,
      publish,
      ...(config.limits.deliveryQuietSeconds
        ? { quietMs: config.limits.deliveryQuietSeconds * 1000 }
        : {}),
    });
    const timeline = this.timeline;
    const lines = new PostLines(addresses, (ref, id, reader) =>
      timeline.visiblePost(ref, id, reader),
    );
    this.caller = new IqCaller({ send });
    this.notifier = new Notifier(
      this.delivery,
      addresses,
      log,
      lines,
      this.flowControl(),
      (ref, after) => service.moreRecipients(ref, after),
    );
    this.bus.subscribe((events) => this.notifier.notify(events));
    this.intake = new Intake({
      handle: (el) => this.handle(el),
      crowded: () => this.notifier.crowded,
      room: () => this.notifier.room(),
      send,
    });
    this.router.onResponses(this.caller);
    this.router.onErrors((el) => this.track(this.delivery.onBounce(el)));
    this.follows = this.createFollowClient(addresses, publish);
    wireFaces({
      config,
      service,
      timeline: this.timeline,
      follows: this.follows,
      addresses,
      router: this.router,
      bus: this.bus,
      send,
      lines,
      log,
    });
  }

  private createFollowClient(addresses: Addresses, publish: (e: readonly BusEvent[]) => void) {
    const { config, caller } = this;
    const locator = new MicroblogLocator({
      addresses,
      ask: (to, query) => caller.request("get", config.domain, to, query, 10_000),
    });
    return new FollowClient({
      timeline: this.timeline,
      caller,
      locator,
      addresses,
      log: this.log,
      publish,
      backfill: config.limits.backfillItems ?? DEFAULT_TIMELINE_LIMITS.backfill,
    });
  }

  /** Open the store and wire the handlers; nothing is connected yet (see run()). */
  static async create(config: Config, log: Logger): Promise<App> {
    const store = await openStore(config.db, log);
    const addresses = new Addresses(config.domain, config.usersDomains);
    const service = createPubsubService(config, store, addresses);
    const connection = createConnection(config, log, service);
    const app = new App(config, log, store, service, connection, addresses);
    await app.delivery.start();
    app.listen();
    return app;
  }

  /** Connect; resolves once online, rejects when the server refuses us for good. */
  run(): Promise<void> {
    return this.connection.start();
  }

  private listen(): void {
    const { connection, log, config } = this;
    connection.on("stanza", (el: Element) => this.onStanza(el));
    connection.on("refused", (el: Element, kind: RefusalKind) => this.onRefused(el, kind));
    connection.once("online", () => this.housekeep(() => this.enforceServicePolicy()));
    // Components have no stream management: what was in flight when the connection dropped
    // is lost both ways, so every (re)connection catches up on the followed nodes.
    connection.on("online", () => this.track(this.follows.catchUp()));
    connection.on("online", () =>
      log.info({ domain: config.domain, service: config.service }, "ready"),
    );
    connection.on("offline", (reason: string) => log.warn({ reason }, "disconnected"));
    this.stopHealth = startHealthLog(log, config.healthLogSeconds);
    const ttlMs = (config.limits.pendingExpirySeconds ?? 3600) * 1000;
    const sweep = () => this.housekeep(() => this.service.expirePending());
    this.expiry = setInterval(sweep, Math.min(EXPIRY_SWEEP_MS, ttlMs / 2));
    this.expiry.unref();
    this.requests = setInterval(() => {
      if (connection.online) this.track(this.follows.retryRequested());
    }, FOLLOW_RETRY_MS);
    this.requests.unref();
  }

  /** The operator's lists may have changed since the last run: apply them to what is stored. */
  private async enforceServicePolicy(): Promise<{ events: readonly BusEvent[] }> {
    const { result, events } = await this.service.enforceServicePolicy();
    if (result > 0) this.log.info({ ended: result }, "operator policy ended subscriptions");
    return { events };
  }

  /** A job of the service's own (operator policy at start, expiry): its events go on the bus. */
  private housekeep(job: () => Promise<{ events: readonly BusEvent[] }>): void {
    this.track(job().then(({ events }) => this.bus.publish(events)));
  }

  /**
   * The notifier's barrier: an XMPP ping to the server's host (its answer, even an error, comes
   * after the server has read everything Warble sent before it).
   */
  private flowControl(): FlowControl {
    const { config, connection } = this;
    const host = config.usersDomains[0] ?? config.domain;
    return {
      barrier: () =>
        connection.online
          ? this.caller
              .request("get", config.domain, host, xml("ping", { xmlns: NS_PING }), BARRIER_MS)
              .then(
                () => {},
                () => {},
              )
          : Promise.resolve(),
    };
  }

  /** Every stanza: through the intake (it may wait while a fan-out is behind), then handled. */
  private onStanza(el: Element): void {
    if (!this.accepting) return;
    this.sawDomainOf(el);
    this.track(this.intake.take(el));
  }

  /** Route a stanza, send what it produced, then hand its events to the bus. */
  private async handle(el: Element): Promise<void> {
    const log = this.log.child({ from: el.attrs.from, to: el.attrs.to, id: el.attrs.id });
    const { replies, events } = await this.router.route(el, log);
    for (const reply of replies) this.connection.send(reply);
    this.bus.publish(events);
  }

  /** Any stanza but a bounce shows its domain is reachable: retries and catch-up there start. */
  private sawDomainOf(el: Element): void {
    if (el.attrs.type === "error" || !el.attrs.from) return;
    const domain = domainOf(el.attrs.from).toLowerCase();
    this.delivery.sawDomain(domain);
    this.follows.sawDomain(domain);
  }

  /** A stanza over the parser's depth or size limit: answered (IQs), logged and counted. */
  private onRefused(el: Element, kind: RefusalKind): void {
    if (!this.accepting) return;
    const { from, to, id } = el.attrs;
    this.log.info({ from, to, id, kind }, `refused a ${el.name} over the stanza ${kind} limit`);
    this.track(this.service.incrementCounter(`refused-stanza:${kind}`));
    const reply = refusedStanzaReply(el, kind, DEFAULT_STANZA_LIMITS);
    if (reply) this.connection.send(reply);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => this.log.error({ err }, "stanza handling failed"));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Stop taking stanzas, finish what is in flight, close the stream and the database. */
  async stop(): Promise<void> {
    this.accepting = false;
    this.stopHealth();
    clearInterval(this.expiry);
    clearInterval(this.requests);
    this.delivery.stop();
    this.caller.cancelAll("the component is stopping");
    await this.intake.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.delivery.idle();
    // A server that stops reading must not hold the shutdown forever.
    await Promise.race([this.notifier.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.connection.stop();
    await this.store.close();
  }
}
