/**
 * Group commit of the PostgreSQL store (a private server from test/harness/postgres.ts): the
 * jobs queued while a batch runs share the next SERIALIZABLE transaction, each in a savepoint.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import { DEFAULT_MAX_ITEMS } from "../../../component/src/domain/types.js";
import { PostgresStore } from "../../../component/src/storage/postgres/postgres-store.js";
import { startPostgres, type TestPostgres } from "../../harness/postgres.js";
import { publish, REF, seedNode } from "./store-fixtures.js";

let server: TestPostgres;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.dispose());

/** A store on a new database with the node REF. */
async function storeWithNode(): Promise<{ store: PostgresStore; url: string }> {
  const url = await server.newDatabase();
  const store = await PostgresStore.open(url);
  await store.transaction((tx) => seedNode(tx));
  return { store, url };
}

async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const itemIds = async (c: pg.Client) =>
  (await c.query<{ item_id: string }>("SELECT item_id FROM items ORDER BY item_id")).rows.map(
    (r) => r.item_id,
  );

const maxItemsOf = (store: PubsubStore) =>
  store.transaction(async (tx) => (await tx.getNode(REF))?.config.maxItems);

/** Read the node, wait for `ready`, write it back bumped: two of these conflict. */
async function bump(tx: PubsubTx, read: () => void, ready: Promise<void>): Promise<void> {
  const node = await tx.getNode(REF);
  if (!node) throw new Error("no node");
  read();
  await ready;
  await tx.updateNodeConfig(REF, { ...node.config, maxItems: node.config.maxItems + 1 });
}

describe("PostgresStore group commit", () => {
  it("runs the jobs queued meanwhile in one transaction, settled after its COMMIT", async () => {
    const { store, url } = await storeWithNode();
    await withClient(url, async (other) => {
      const seenAfter: string[][] = [];
      // The first job is a batch alone; the others queue while it runs: the next batch.
      const first = store.transaction((tx) => publish(tx, "a"));
      const b = store.transaction((tx) => publish(tx, "b"));
      const c = store.transaction(async (tx) => {
        await publish(tx, "c");
        // b ran before c in this transaction: another connection sees only the first batch.
        return itemIds(other);
      });
      // b settles only after the COMMIT that c's writes are part of, too.
      const bSeen = b.then(async () => seenAfter.push(await itemIds(other)));
      await first;
      expect(await c).toEqual(["a"]);
      await bSeen;
      expect(seenAfter).toEqual([["a", "b", "c"]]);
    });
    await store.close();
  });

  it("rolls back a failing job to its savepoint only; the rest of its batch commits", async () => {
    const { store, url } = await storeWithNode();
    const first = store.transaction((tx) => publish(tx, "a"));
    const jobs = [
      store.transaction((tx) => publish(tx, "b")),
      // A JavaScript error, no failed statement: its write is undone all the same.
      store.transaction(async (tx) => {
        await publish(tx, "c");
        throw new Error("refused");
      }),
      // A failed statement (a duplicate key) aborts the transaction until the rollback.
      store.transaction(async (tx) => {
        await publish(tx, "d");
        await seedNode(tx);
      }),
      // The failed statement's error caught and swallowed: the job still fails with it.
      store.transaction(async (tx) => {
        await publish(tx, "e");
        await seedNode(tx).catch(() => undefined);
        return "swallowed";
      }),
      store.transaction(async (tx) => {
        await publish(tx, "f");
        return tx.countItems(REF);
      }),
    ];
    await first;
    const settled = await Promise.allSettled(jobs);
    expect(settled.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason;
    expect(reason(1)).toEqual(new Error("refused"));
    expect(reason(2)).toMatchObject({ code: "23505" });
    expect(reason(3)).toMatchObject({ code: "23505" });
    expect((settled[4] as PromiseFulfilledResult<number>).value).toBe(3);
    expect(await withClient(url, itemIds)).toEqual(["a", "b", "f"]);
    await store.close();
  });

  it("commits 20 concurrent transactions with two COMMITs: the first alone, then the rest", async () => {
    const url = await server.newDatabase();
    await (await PostgresStore.open(url)).close();
    // A pool whose clients count the statements the store sends (BIGINTs as numbers, as
    // PostgresStore.open sets it up).
    const sent: string[] = [];
    const pool = new pg.Pool({
      connectionString: url,
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === pg.types.builtins.INT8
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === "string") sent.push(args[0]);
        return query(...args);
      };
    });
    const store = new PostgresStore(pool);
    await store.transaction((tx) => seedNode(tx));
    sent.length = 0;
    const ids = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    await Promise.all(ids.map((id) => store.transaction((tx) => publish(tx, id))));
    expect(sent.filter((q) => /\bCOMMIT\b/.test(q))).toHaveLength(2);
    expect(sent.filter((q) => /\bBEGIN\b/.test(q))).toHaveLength(2);
    expect(sent.filter((q) => /\bSAVEPOINT job$/.test(q))).toHaveLength(20);
    expect(await withClient(url, itemIds)).toEqual(ids);
    await store.close();
  });

  it("runs the whole batch again when another process's transaction conflicts", async () => {
    const { store: a, url } = await storeWithNode();
    const b = await PostgresStore.open(url);
    const attempts = { ax: 0, a1: 0, a2: 0, bx: 0, b1: 0, b2: 0 };
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const ready = new Promise<void>((r) => {
      bothRead = r;
    });
    const read = () => {
      if (++reads === 2) bothRead();
    };
    // Per process, a batch of three: a counter, a bump that conflicts with the other
    // process's (both read the node before either writes it), a counter.
    const batchOf = (store: PubsubStore, p: "a" | "b") => [
      store.transaction(async (tx) => {
        attempts[`${p}x`]++;
        await tx.incrementCounter(`${p}x`);
      }),
      store.transaction(async (tx) => {
        attempts[`${p}1`]++;
        await bump(tx, read, ready);
      }),
      store.transaction(async (tx) => {
        attempts[`${p}2`]++;
        await tx.incrementCounter(`${p}2`);
      }),
    ];
    // Each store's first transaction goes alone; the three queue behind it.
    const firsts = [a.transaction((tx) => tx.getNode(REF)), b.transaction((tx) => tx.getNode(REF))];
    const jobs = [...batchOf(a, "a"), ...batchOf(b, "b")];
    await Promise.all([...firsts, ...jobs]);
    expect(await maxItemsOf(a)).toBe(DEFAULT_MAX_ITEMS + 2);
    expect(await a.transaction((tx) => tx.getCounters())).toEqual({ ax: 1, a2: 1, bx: 1, b2: 1 });
    // At least one batch was refused and ran again from its first job.
    expect(attempts.ax + attempts.bx).toBeGreaterThanOrEqual(3);
    expect(attempts.a1 + attempts.b1).toBeGreaterThanOrEqual(3);
    await Promise.all([a.close(), b.close()]);
  });

  it("after maxAttempts every job of the batch rejects with the serialisation error", async () => {
    const url = await server.newDatabase();
    const store = await PostgresStore.open(url, { maxAttempts: 3 });
    const conflict = Object.assign(new Error("could not serialize access"), { code: "40001" });
    const attempts = { ok: 0, conflicting: 0 };
    const first = store.transaction((tx) => tx.getCounters());
    const ok = store.transaction(async (tx) => {
      attempts.ok++;
      await tx.incrementCounter("ok");
    });
    const conflicting = store.transaction(async (tx) => {
      attempts.conflicting++;
      await tx.incrementCounter("conflicting");
      throw conflict;
    });
    await first;
    await expect(ok).rejects.toBe(conflict);
    await expect(conflicting).rejects.toBe(conflict);
    expect(attempts).toEqual({ ok: 3, conflicting: 3 });
    expect(await store.transaction((tx) => tx.getCounters())).toEqual({});
    await store.close();
  });
});
