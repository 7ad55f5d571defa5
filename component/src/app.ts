import type Database from "better-sqlite3";
import type { Logger } from "pino";
import type { Element } from "../../schemas/src/xml.js";
import type { Config } from "./config.js";
import type { PubsubEvent } from "./domain/events.js";
import { createItemIdGenerator } from "./domain/item-id.js";
import { PubsubService } from "./domain/pubsub-service.js";
import { accountCommands, getPendingCommand } from "./im/account-commands.js";
import { AdhocCommands } from "./im/adhoc.js";
import { type AnswerDeps, handleAuthorizationAnswer } from "./im/authorization-answers.js";
import { PresenceFace } from "./im/presence.js";
import { Addresses } from "./protocol/addresses.js";
import { ComponentConnection } from "./protocol/component-connection.js";
import { registerDiscovery } from "./protocol/discovery.js";
import { Notifier } from "./protocol/notifier.js";
import { pubsubDisco } from "./protocol/pubsub/pubsub-disco.js";
import { registerPubsub } from "./protocol/pubsub/register-pubsub.js";
import { refusedStanzaReply } from "./protocol/refused-stanza.js";
import { IqRouter } from "./protocol/router.js";
import { DEFAULT_STANZA_LIMITS, type RefusalKind } from "./protocol/stanza-parser.js";
import { openDatabase } from "./storage/sqlite/open-database.js";
import { SqliteStore } from "./storage/sqlite/sqlite-store.js";

/** How often pending follow requests are checked for expiry (at most). */
const EXPIRY_SWEEP_MS = 60_000;

/** Config limits → the domain's AbuseLimits (only those set; the rest keep the defaults). */
function domainLimits({ pendingExpirySeconds, ...counts }: Config["limits"]) {
  return pendingExpirySeconds ? { ...counts, pendingTtlMs: pendingExpirySeconds * 1000 } : counts;
}

function createPubsubService(config: Config, db: Database.Database, addresses: Addresses) {
  const newItemId = createItemIdGenerator();
  const service = new PubsubService({
    store: new SqliteStore(db),
    ownerOf: (jid) => addresses.ownerOfService(jid),
    policy: {
      usersDomains: config.usersDomains,
      deniedDomains: config.denyDomains,
      allowedDomains: config.allowDomains,
    },
    newItemId,
    limits: domainLimits(config.limits),
  });
  return { service, newItemId };
}

/**
 * Where every committed domain event goes: stanzas through the notifier, and presence for IM
 * clients, both after the IQ reply of the request that caused them.
 */
class EventBus {
  presence: PresenceFace | undefined;

  constructor(private readonly notifier: Notifier) {}

  notify(list: readonly PubsubEvent[]): void {
    this.notifier.notify(list);
    const changes = list.filter((ev) => ev.type === "subscription-changed");
    const presence = this.presence;
    if (changes.length > 0 && presence) {
      setImmediate(() => {
        for (const ev of changes) presence.onSubscriptionChanged(ev);
      });
    }
  }
}

/** The running service: database, connection and the handlers between them. */
export class App {
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;
  private expiry: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly db: Database.Database,
    readonly connection: ComponentConnection,
    readonly router: IqRouter,
    readonly notifier: Notifier,
    readonly service: PubsubService,
    private readonly events: EventBus,
    private readonly presence: PresenceFace,
    private readonly answers: AnswerDeps,
  ) {}

  /** Open the store and wire the handlers; nothing is connected yet (see run()). */
  static create(config: Config, log: Logger): App {
    const db = openDatabase(config.db);
    const addresses = new Addresses(config.domain, config.usersDomains);
    const { domain, service: uri, secret } = config;
    const { service, newItemId } = createPubsubService(config, db, addresses);
    const onReplaced = (count: number) => {
      log.warn({ count }, "replaced characters XML forbids in an outgoing stanza");
      service.incrementCounter("written:replaced-chars", count);
    };
    const connection = new ComponentConnection({ service: uri, domain, secret, log, onReplaced });
    const notifier = new Notifier(connection, addresses, log);
    const events = new EventBus(notifier);
    const emit = (e: readonly PubsubEvent[]) => events.notify(e);
    const send = (el: Element) => connection.send(el);
    const faceDeps = { pubsub: service, addresses, send, emit };
    events.presence = new PresenceFace(faceDeps);
    const router = new IqRouter();
    const commands = new AdhocCommands(emit, (reason) =>
      service.incrementCounter(`refused:${reason}`),
    ).add(
      ...accountCommands({ pubsub: service, addresses, admins: config.admins }),
      getPendingCommand({ pubsub: service, addresses }),
    );
    commands.register(router);
    registerPubsub(router, { service, addresses, newItemId, limits: config, events });
    registerDiscovery(router, addresses, [pubsubDisco(service), commands]);
    const app = new App(
      config,
      log,
      db,
      connection,
      router,
      notifier,
      service,
      events,
      events.presence,
      faceDeps,
    );
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
    connection.once("online", () => this.enforceServicePolicy());
    connection.on("online", () =>
      log.info({ domain: config.domain, service: config.service }, "ready"),
    );
    connection.on("offline", (reason: string) => log.warn({ reason }, "disconnected"));
    const ttlMs = (config.limits.pendingExpirySeconds ?? 3600) * 1000;
    this.expiry = setInterval(() => this.expirePending(), Math.min(EXPIRY_SWEEP_MS, ttlMs / 2));
    this.expiry.unref();
  }

  /** The operator's lists may have changed since the last run: apply them to what is stored. */
  private enforceServicePolicy(): void {
    try {
      const { result, events } = this.service.enforceServicePolicy();
      if (result > 0) this.log.info({ ended: result }, "operator policy ended subscriptions");
      this.events.notify(events);
    } catch (err) {
      this.log.error({ err }, "applying the operator policy to subscriptions failed");
    }
  }

  private expirePending(): void {
    try {
      this.events.notify(this.service.expirePending().events);
    } catch (err) {
      this.log.error({ err }, "expiring pending requests failed");
    }
  }

  private onStanza(el: Element): void {
    if (!this.accepting) return;
    const log = this.log.child({ from: el.attrs.from, to: el.attrs.to, id: el.attrs.id });
    if (el.name === "presence" || el.name === "message") {
      // Nothing a remote sender writes may escape as an exception and stop the process.
      try {
        if (el.name === "presence") this.presence.handle(el, log);
        else if (el.attrs.type !== "error") handleAuthorizationAnswer(el, this.answers, log);
      } catch (err) {
        log.error({ err }, `${el.name} handling failed`);
      }
      return;
    }
    if (el.name !== "iq" || (el.attrs.type !== "get" && el.attrs.type !== "set")) return;
    const work = this.router.dispatch(el, log).then((reply) => {
      this.connection.send(reply);
    });
    this.track(work);
  }

  /** A stanza over the parser's depth or size limit: answered (IQs), logged and counted. */
  private onRefused(el: Element, kind: RefusalKind): void {
    if (!this.accepting) return;
    const { from, to, id } = el.attrs;
    this.log.info({ from, to, id, kind }, `refused a ${el.name} over the stanza ${kind} limit`);
    try {
      this.service.incrementCounter(`refused-stanza:${kind}`);
    } catch (err) {
      this.log.error({ err }, "counting a refused stanza failed");
    }
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
    clearInterval(this.expiry);
    await Promise.allSettled([...this.inFlight]);
    // A server that stops reading must not hold the shutdown forever.
    await Promise.race([this.notifier.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.connection.stop();
    this.db.close();
  }
}
