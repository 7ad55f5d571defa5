import type Database from "better-sqlite3";
import type { Logger } from "pino";
import type { Element } from "../../schemas/src/xml.js";
import type { Config } from "./config.js";
import type { PubsubEvent } from "./domain/events.js";
import { createItemIdGenerator } from "./domain/item-id.js";
import { PubsubService } from "./domain/pubsub-service.js";
import { accountCommands, getPendingCommand } from "./im/account-commands.js";
import { AdhocCommands } from "./im/adhoc.js";
import { handleAuthorizationAnswer } from "./im/authorization-answers.js";
import { PresenceFace } from "./im/presence.js";
import { Addresses } from "./protocol/addresses.js";
import { ComponentConnection } from "./protocol/component-connection.js";
import { registerDiscovery } from "./protocol/discovery.js";
import { Notifier } from "./protocol/notifier.js";
import { ownerOfService } from "./protocol/pubsub/context.js";
import { pubsubDisco } from "./protocol/pubsub/pubsub-disco.js";
import { registerPubsub } from "./protocol/pubsub/register-pubsub.js";
import { IqRouter } from "./protocol/router.js";
import { openDatabase } from "./storage/sqlite/open-database.js";
import { SqliteStore } from "./storage/sqlite/sqlite-store.js";

/** How often pending follow requests are checked for expiry. */
const EXPIRY_SWEEP_MS = 60_000;

/** Config limits → the domain's AbuseLimits (only those set; the rest keep the defaults). */
function domainLimits({ pendingExpirySeconds, ...counts }: Config["limits"]) {
  return pendingExpirySeconds ? { ...counts, pendingTtlMs: pendingExpirySeconds * 1000 } : counts;
}

/** The running service: database, connection and the handlers between them. */
export class App {
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;
  private faces!: {
    presence: PresenceFace;
    answers: Parameters<typeof handleAuthorizationAnswer>[1];
  };
  private expiry: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly db: Database.Database,
    readonly connection: ComponentConnection,
    readonly router: IqRouter,
    readonly notifier: Notifier,
  ) {}

  /** Open the store and wire the handlers; nothing is connected yet (see run()). */
  static create(config: Config, log: Logger): App {
    const db = openDatabase(config.db);
    const addresses = new Addresses(config.domain, config.usersDomains);
    const router = new IqRouter();
    const connection = new ComponentConnection({
      service: config.service,
      domain: config.domain,
      secret: config.secret,
      log,
    });
    const store = new SqliteStore(db);
    const newItemId = createItemIdGenerator();
    const service = new PubsubService({
      store,
      ownerOf: (jid) => ownerOfService(addresses, jid),
      policy: {
        usersDomains: config.usersDomains,
        deniedDomains: config.denyDomains,
        allowedDomains: config.allowDomains,
      },
      newItemId,
      limits: domainLimits(config.limits),
    });
    const notifier = new Notifier(connection, addresses, log);
    const send = (el: Element) => connection.send(el);
    // Every committed domain event goes here: stanzas for pubsub, and presence for IM clients.
    const presence: PresenceFace = new PresenceFace({
      pubsub: service,
      addresses,
      send,
      emit: (e) => events.notify(e),
    });
    const events = {
      notify(list: readonly PubsubEvent[]): void {
        notifier.notify(list);
        // After the IQ reply of the request that caused them, like the notifier's stanzas.
        const changes = list.filter((ev) => ev.type === "subscription-changed");
        if (changes.length > 0) {
          setImmediate(() => {
            for (const ev of changes) presence.onSubscriptionChanged(ev);
          });
        }
      },
    };
    const commands = new AdhocCommands(
      (e) => events.notify(e),
      (reason) => service.incrementCounter(`refused:${reason}`),
    ).add(
      ...accountCommands({ pubsub: service, addresses, admins: config.admins }),
      getPendingCommand({ pubsub: service, addresses }),
    );
    commands.register(router);
    registerPubsub(router, { service, addresses, newItemId, limits: config, events });
    registerDiscovery(router, addresses, [pubsubDisco(service), commands]);
    const app = new App(config, log, db, connection, router, notifier);
    app.faces = {
      presence,
      answers: { pubsub: service, addresses, send, emit: (e) => events.notify(e) },
    };
    app.expiry = setInterval(
      () => {
        try {
          events.notify(service.expirePending().events);
        } catch (err) {
          log.error({ err }, "expiring pending requests failed");
        }
      },
      Math.min(EXPIRY_SWEEP_MS, ((config.limits.pendingExpirySeconds ?? 3600) * 1000) / 2),
    );
    app.expiry.unref();
    connection.on("stanza", (el: Element) => app.onStanza(el));
    let policyEnforced = false;
    connection.on("online", () => {
      if (!policyEnforced) {
        // The operator's lists may have changed since the last run: apply them to what is stored.
        policyEnforced = true;
        try {
          const { result, events: ended } = service.enforceServicePolicy();
          if (result > 0) log.info({ ended: result }, "operator policy ended subscriptions");
          events.notify(ended);
        } catch (err) {
          log.error({ err }, "applying the operator policy to subscriptions failed");
        }
      }
      log.info({ domain: config.domain, service: config.service }, "ready");
    });
    connection.on("offline", (reason: string) => log.warn({ reason }, "disconnected"));
    return app;
  }

  /** Connect; resolves once online, rejects when the server refuses us for good. */
  run(): Promise<void> {
    return this.connection.start();
  }

  private onStanza(el: Element): void {
    if (!this.accepting) return;
    const log = this.log.child({ from: el.attrs.from, to: el.attrs.to, id: el.attrs.id });
    if (el.name === "presence" || el.name === "message") {
      // Nothing a remote sender writes may escape as an exception and stop the process.
      try {
        if (el.name === "presence") this.faces.presence.handle(el, log);
        else if (el.attrs.type !== "error") handleAuthorizationAnswer(el, this.faces.answers, log);
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
