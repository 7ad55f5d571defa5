/**
 * The storage contract on PostgreSQL (a private server from test/harness/postgres.ts), and what
 * only PostgreSQL has: concurrent transactions, retries after serialisation failures, several
 * pools (processes) on one database, connection errors.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PubsubStore } from "../../../component/src/domain/ports.js";
import { DEFAULT_MAX_ITEMS } from "../../../component/src/domain/types.js";
import { DatabaseOpenError, openStore } from "../../../component/src/storage/open-store.js";
import {
  PostgresStore,
  type PostgresStoreOptions,
} from "../../../component/src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../../component/src/storage/sqlite/sqlite-store.js";
import { freePort, ServerStartError } from "../../../scripts/servers.js";
import { startPostgres, type TestPostgres } from "../../harness/postgres.js";
import { describeStoreContract, publish, REF, seedNode, sub } from "./store-contract.js";

let server: TestPostgres;
let url: string;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.newDatabase();
});
afterAll(() => server?.dispose());

const TABLES = [
  "nodes, items, subscriptions, affiliations, counters, subscription_requests",
  "follows, timeline, timeline_sizes, user_settings, outbox",
].join(", ");

/** A store on the shared test database, emptied (the schema stays). */
async function freshStore(options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open(url, options);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${TABLES}, service_meta RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
  return store;
}

describeStoreContract("postgresql", () => freshStore(), { serialises: false });

const maxItemsOf = (store: PubsubStore) =>
  store.transaction(async (tx) => (await tx.getNode(REF))?.config.maxItems);

describe("PostgresStore retries", () => {
  it("runs a transaction again after a serialisation failure of a concurrent update", async () => {
    const store = await freshStore({ maxConcurrent: 2 });
    await store.transaction((tx) => seedNode(tx));
    let attempts = 0;
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((r) => {
      bothRead = r;
    });
    // Both read the node before either writes it: one of them must be refused (40001), retried.
    const bump = () =>
      store.transaction(async (tx) => {
        attempts++;
        const node = await tx.getNode(REF);
        if (!node) throw new Error("no node");
        if (++reads === 2) bothRead();
        await barrier;
        await tx.updateNodeConfig(REF, { ...node.config, maxItems: node.config.maxItems + 1 });
      });
    await Promise.all([bump(), bump()]);
    expect(attempts).toBe(3);
    expect(await maxItemsOf(store)).toBe(DEFAULT_MAX_ITEMS + 2);
    await store.close();
  });

  it("runs one transaction of a process at a time by default, in the order they came", async () => {
    const store = await freshStore();
    const log: string[] = [];
    const step = (n: number) =>
      store.transaction(async (tx) => {
        log.push(`${n} start`);
        await tx.getNode(REF);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${n} end`);
      });
    await Promise.all([step(1), step(2), step(3)]);
    expect(log).toEqual(["1 start", "1 end", "2 start", "2 end", "3 start", "3 end"]);
    await store.close();
  });

  it("gives up after maxAttempts, with the database's error", async () => {
    const store = await freshStore({ maxAttempts: 3 });
    let attempts = 0;
    const conflict = Object.assign(new Error("could not serialize access"), { code: "40001" });
    const always = store.transaction(async (tx) => {
      attempts++;
      await tx.incrementCounter("tries");
      throw conflict;
    });
    await expect(always).rejects.toBe(conflict);
    expect(attempts).toBe(3);
    expect(await store.transaction((tx) => tx.getCounters())).toEqual({});
    await store.close();
  });

  it("does not retry any other error", async () => {
    const store = await freshStore();
    let attempts = 0;
    const failing = store.transaction(async (tx) => {
      attempts++;
      await seedNode(tx);
      await seedNode(tx); // a duplicate key: 23505
    });
    await expect(failing).rejects.toMatchObject({ code: "23505" });
    expect(attempts).toBe(1);
    expect(await store.transaction((tx) => tx.listNodes())).toEqual([]);
    await store.close();
  });

  it("keeps every update of several pools (processes) writing one row at once", async () => {
    const stores = [await freshStore(), await PostgresStore.open(url)];
    await stores[0]?.transaction((tx) => seedNode(tx));
    const bump = (store: PubsubStore) =>
      store.transaction(async (tx) => {
        const node = await tx.getNode(REF);
        if (!node) throw new Error("no node");
        await tx.updateNodeConfig(REF, { ...node.config, maxItems: node.config.maxItems + 1 });
        await tx.incrementCounter("bumps");
      });
    await Promise.all(stores.flatMap((s) => [bump(s), bump(s), bump(s)]));
    const first = stores[0] as PubsubStore;
    expect(await maxItemsOf(first)).toBe(DEFAULT_MAX_ITEMS + 6);
    expect(await first.transaction((tx) => tx.getCounters())).toEqual({ bumps: 6 });
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe("PostgresStore on a database", () => {
  it("keeps everything across close and reopen, through openStore", async () => {
    await (await freshStore()).close();
    const store = await openStore(url);
    expect(store).toBeInstanceOf(PostgresStore);
    await store.transaction(async (tx) => {
      await seedNode(tx);
      await publish(tx, "a");
      await tx.putSubscription({ ...sub("bob@example/phone", "pending"), options: { k: "v" } });
      await tx.setAffiliation(REF, "rogue.example", "outcast");
      await tx.incrementCounter("refused:outcast-domain", 4);
    });
    const snapshot = (s: PubsubStore) =>
      s.transaction(async (tx) => ({
        node: await tx.getNode(REF),
        items: await tx.listItems(REF, {}),
        subs: await tx.listNodeSubscriptions(REF),
        affs: await tx.listNodeAffiliations(REF),
        counters: await tx.getCounters(),
      }));
    const before = await snapshot(store);
    await store.close();
    const reopened = await openStore(url.replace(/^postgres:/, "postgresql:"));
    expect(await snapshot(reopened)).toEqual(before);
    expect(before.subs[0]?.options).toEqual({ k: "v" });
    await reopened.close();
  });

  it("opens SQLite for anything but a postgres:// URL", async () => {
    const store = await openStore(":memory:");
    expect(store).toBeInstanceOf(SqliteStore);
    await store.close();
  });

  it("cannot open: one line, DatabaseOpenError, no password", async () => {
    const port = await freePort();
    const nobody = openStore(`postgres://warble:s3cret@127.0.0.1:${port}/warble`);
    await expect(nobody).rejects.toBeInstanceOf(DatabaseOpenError);
    await expect(nobody).rejects.toThrow(
      new RegExp(
        `^cannot open the database postgres://warble:\\*\\*\\*@127.0.0.1:${port}/warble: `,
      ),
    );
    const missing = openStore(
      url.replace(/\/\/warble@/, "//warble:s3cret@").replace(/\/[^/]+$/, "/nope"),
    );
    const err = (await missing.catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DatabaseOpenError);
    expect(err.message).toMatch(/database "nope" does not exist$/);
    expect(err.message).not.toMatch(/s3cret|\n/);
  });
});

describe("the PostgreSQL test harness", () => {
  it("fails with the server's own log lines when the server cannot start", async () => {
    const broken = startPostgres({ settings: { shared_buffers: "lots" } });
    await expect(broken).rejects.toBeInstanceOf(ServerStartError);
    await expect(broken).rejects.toThrow(/PostgreSQL did not start[\s\S]*shared_buffers/);
  });
});
