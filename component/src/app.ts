import type Database from "better-sqlite3";
import type { Logger } from "pino";
import type { Element } from "../../schemas/src/xml.js";
import type { Config } from "./config.js";
import { createItemIdGenerator } from "./domain/item-id.js";
import { PubsubService } from "./domain/pubsub-service.js";
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

/** The running service: database, connection and the handlers between them. */
export class App {
  private readonly inFlight = new Set<Promise<unknown>>();
  private accepting = true;

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
    const router = new IqRouter(config.domain);
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
    });
    const notifier = new Notifier(connection, addresses, log);
    registerPubsub(router, { service, addresses, newItemId, limits: config, events: notifier });
    registerDiscovery(router, addresses, [pubsubDisco(store)]);
    const app = new App(config, log, db, connection, router, notifier);
    connection.on("stanza", (el: Element) => app.onStanza(el));
    connection.on("online", () =>
      log.info({ domain: config.domain, service: config.service }, "ready"),
    );
    connection.on("offline", (reason: string) => log.warn({ reason }, "disconnected"));
    return app;
  }

  /** Connect; resolves once online, rejects when the server refuses us for good. */
  run(): Promise<void> {
    return this.connection.start();
  }

  private onStanza(el: Element): void {
    if (!this.accepting) return;
    if (el.name !== "iq" || (el.attrs.type !== "get" && el.attrs.type !== "set")) return;
    const log = this.log.child({ from: el.attrs.from, to: el.attrs.to, id: el.attrs.id });
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
    await Promise.allSettled([...this.inFlight]);
    await this.notifier.idle();
    await this.connection.stop();
    this.db.close();
  }
}
