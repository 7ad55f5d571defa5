import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../../component/src/storage/open-store.js";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";
import { SqliteStore } from "../../../component/src/storage/sqlite/sqlite-store.js";
import { describeStoreContract, publish, REF, seedNode, sub } from "./store-contract.js";
import { outboxEntry } from "./store-contract-outbox.js";
import { ANN, entry, follow, U } from "./store-contract-timeline.js";

describeStoreContract("sqlite", () => new SqliteStore(openDatabase(":memory:")));

describe("SqliteStore on a file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dbPath = () => {
    const dir = mkdtempSync(join(tmpdir(), "warble-store-"));
    dirs.push(dir);
    return join(dir, "nested", "warble.db");
  };

  it("keeps everything across close and reopen (openStore creates the directory)", async () => {
    const path = dbPath();
    const store = await openStore(path);
    expect(store).toBeInstanceOf(SqliteStore);
    await store.transaction(async (tx) => {
      await seedNode(tx);
      await publish(tx, "a");
      await publish(tx, "b");
      await tx.putSubscription({ ...sub("bob@example/phone", "pending"), options: { k: "v" } });
      await tx.setAffiliation(REF, "rogue.example", "outcast");
      await tx.incrementCounter("refused:outcast-domain", 4);
      await tx.recordRequest("rogue.example", "eve@rogue.example", 123);
      await tx.putFollow(follow(U, ANN));
      await tx.upsertTimelineEntry(entry("t1"));
      await tx.putUserSettings(U, { relay: false });
      await tx.enqueueOutbox(outboxEntry("m1"));
    });
    const snapshot = (s: typeof store) =>
      s.transaction(async (tx) => ({
        node: await tx.getNode(REF),
        items: await tx.listItems(REF, {}),
        subs: await tx.listNodeSubscriptions(REF),
        affs: await tx.listNodeAffiliations(REF),
        counters: await tx.getCounters(),
        requests: await tx.countRequestsSince("rogue.example", 0),
        follows: await tx.listFollows(U),
        timeline: await tx.listTimeline(U, {}, 9, "oldest"),
        settings: await tx.getUserSettings(U),
        outbox: await tx.listDueOutbox(Number.MAX_SAFE_INTEGER, 9),
      }));
    const before = await snapshot(store);
    await store.close();

    const reopened = await openStore(path);
    expect(await snapshot(reopened)).toEqual(before);
    expect(before.counters).toEqual({ "refused:outcast-domain": 4 });
    const c = await reopened.transaction((tx) => publish(tx, "c"));
    expect(c.seq).toBeGreaterThan(before.items?.items[0]?.seq ?? Infinity);
    // The timeline's seqs and the outbox's ids go on from where they were, too.
    const more = await reopened.transaction(async (tx) => ({
      seq: (await tx.upsertTimelineEntry(entry("t2"))).entry.seq,
      id: (await tx.enqueueOutbox(outboxEntry("m2"))).id,
    }));
    expect(more.seq).toBeGreaterThan(before.timeline[0]?.seq ?? Infinity);
    expect(more.id).toBeGreaterThan(before.outbox[0]?.id ?? Infinity);
    expect(before.settings).toEqual({ relay: false });
    await reopened.close();
  });

  it("takes the write lock at BEGIN and settles a transaction only after its COMMIT", async () => {
    const path = dbPath();
    const db = openDatabase(path);
    const store = new SqliteStore(db);
    const other = new Database(path, { timeout: 0 });
    const done = store.transaction(async (tx) => {
      // BEGIN IMMEDIATE: no other connection may write, even before this one has written.
      expect(() => other.exec("CREATE TABLE elsewhere (x INTEGER)")).toThrow(/locked|busy/i);
      await seedNode(tx);
      return db.inTransaction;
    });
    expect(await done).toBe(true);
    expect(db.inTransaction).toBe(false);
    expect(other.prepare("SELECT COUNT(*) AS n FROM nodes").get()).toEqual({ n: 1 });
    other.close();
    await store.close();
    expect(db.open).toBe(false);
  });

  it("group commit: jobs queued together share one COMMIT; a failing one undoes only itself", async () => {
    const path = dbPath();
    const db = openDatabase(path);
    // No time limit on a batch here: the three jobs must share one, however slow the machine.
    const store = new SqliteStore(db, { maxBatchMs: 60_000 });
    await store.transaction((tx) => seedNode(tx));
    const other = new Database(path, { readonly: true });
    const committed: number[] = [];
    const counted = db.prepare("SELECT COUNT(*) AS n FROM items");
    // While the first job runs, the others queue: they form the next batch.
    const first = store.transaction(async (tx) => publish(tx, "a"));
    const rest = [
      store.transaction(async (tx) => publish(tx, "b")),
      store.transaction(async (tx) => {
        await publish(tx, "c");
        throw new Error("refused");
      }),
      store.transaction(async (tx) => {
        await publish(tx, "d");
        // b ran before d in the same transaction: another connection does not see it yet.
        committed.push((other.prepare("SELECT COUNT(*) AS n FROM items").get() as { n: number }).n);
        return (counted.get() as { n: number }).n;
      }),
    ];
    await first;
    const settled = await Promise.allSettled(rest);
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error("refused"));
    expect((settled[2] as PromiseFulfilledResult<number>).value).toBe(3);
    expect(committed).toEqual([1]);
    other.close();
    const stored = db.prepare("SELECT item_id FROM items ORDER BY item_id").all();
    expect(stored).toEqual([{ item_id: "a" }, { item_id: "b" }, { item_id: "d" }]);
    expect(db.inTransaction).toBe(false);
    await store.close();
  });

  it("a batch that has run maxBatchMs commits; the event loop runs before the next batch", async () => {
    const path = dbPath();
    const db = openDatabase(path);
    const store = new SqliteStore(db, { maxBatchMs: 0 });
    await store.transaction((tx) => seedNode(tx));
    const other = new Database(path, { readonly: true });
    const seen = () => (other.prepare("SELECT COUNT(*) AS n FROM items").get() as { n: number }).n;
    const order: string[] = [];
    const first = store.transaction(async (tx) => publish(tx, "a"));
    const jobs = ["b", "c", "d"].map((id) =>
      store.transaction(async (tx) => {
        order.push(`${id}: ${seen()} committed`);
        await publish(tx, id);
      }),
    );
    setImmediate(() => order.push("event loop"));
    await first;
    await Promise.all(jobs);
    // Each job alone in its batch (maxBatchMs 0): the one before it is committed when it runs,
    // and the event loop had its turn before the queue was done.
    expect(order.filter((o) => o !== "event loop")).toEqual([
      "b: 1 committed",
      "c: 2 committed",
      "d: 3 committed",
    ]);
    expect(order.indexOf("event loop")).toBeGreaterThan(-1);
    expect(order.indexOf("event loop")).toBeLessThan(order.length - 1);
    other.close();
    await store.close();
  });
});
