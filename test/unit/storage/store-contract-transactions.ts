/** The transaction part of the storage contract (see store-contract.ts). */
import { describe, expect, it } from "vitest";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
import { DEFAULT_MAX_ITEMS } from "../../../component/src/domain/types.js";
import { OTHER, publish, REF, seedNode, sub } from "./store-fixtures.js";

export interface StoreContractOptions {
  /**
   * The store runs one transaction at a time, in call order (SQLite, memory). PostgreSQL runs
   * them concurrently under SERIALIZABLE: the outcome is some serial order, not the call order.
   */
  serialises: boolean;
}

/** Give other work (another transaction, if the store lets it) every chance to run. */
async function pause(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 5));
}

const itemIds = async (tx: PubsubTx) => (await tx.listItems(REF, {}))?.items.map((i) => i.id);

export function describeTransactions(get: () => PubsubStore, options: StoreContractOptions): void {
  describe("transactions", () => {
    describeCommitAndRollback(get);
    describeConcurrency(get, options);
    describeMisuse(get);
  });
}

function describeCommitAndRollback(get: () => PubsubStore): void {
  it("commits and returns the function's value", async () => {
    const store = get();
    expect(await store.transaction(async (tx) => (await publish(tx, "a")).id)).toBe("a");
    expect(await store.transaction((tx) => tx.countItems(REF))).toBe(1);
  });

  it("rolls back everything when the function throws, and rejects with its error", async () => {
    const store = get();
    const boom = new Error("boom");
    const failing = store.transaction(async (tx) => {
      await publish(tx, "a");
      await tx.putSubscription(sub("bob@example"));
      await tx.incrementCounter("x");
      await tx.setAffiliation(REF, "eve@rogue.example", "outcast");
      await tx.recordRequest("rogue.example", "eve@rogue.example", 1);
      await seedNode(tx, OTHER);
      throw boom;
    });
    await expect(failing).rejects.toBe(boom);
    await store.transaction(async (tx) => {
      expect(await tx.countItems(REF)).toBe(0);
      expect(await tx.listNodeSubscriptions(REF)).toEqual([]);
      expect(await tx.getCounters()).toEqual({});
      expect(await tx.listNodeAffiliations(REF)).toEqual([]);
      expect(await tx.countRequestsSince("rogue.example", 0)).toBe(0);
      expect(await tx.getNode(OTHER)).toBeUndefined();
    });
  });

  it("keeps the transactions before and after one that rolled back", async () => {
    const store = get();
    await store.transaction((tx) => publish(tx, "a"));
    const failing = store.transaction(async (tx) => {
      await publish(tx, "b");
      await tx.deleteItems(REF, ["a"]);
      throw new Error("no");
    });
    await expect(failing).rejects.toThrow("no");
    await store.transaction((tx) => publish(tx, "c"));
    expect(await store.transaction(itemIds)).toEqual(["c", "a"]);
  });
}

function describeConcurrency(get: () => PubsubStore, options: StoreContractOptions): void {
  it("runs concurrent transactions as if one after the other (no lost update)", async () => {
    const store = get();
    // Read, wait, write back: two of these interleaved would lose one increment.
    const bump = () =>
      store.transaction(async (tx) => {
        const node = await tx.getNode(REF);
        if (!node) throw new Error("no node");
        await pause();
        await tx.updateNodeConfig(REF, { ...node.config, maxItems: node.config.maxItems + 1 });
      });
    await Promise.all([bump(), bump(), bump()]);
    const config = await store.transaction(async (tx) => (await tx.getNode(REF))?.config);
    expect(config?.maxItems).toBe(DEFAULT_MAX_ITEMS + 3);
  });

  if (!options.serialises) return;
  it("runs one transaction at a time, in call order, past one that fails", async () => {
    const store = get();
    const log: string[] = [];
    const step = (n: number, fail = false) =>
      store.transaction(async (tx) => {
        log.push(`${n} start`);
        await publish(tx, `t${n}`);
        await pause();
        log.push(`${n} end`);
        if (fail) throw new Error(`t${n} fails`);
      });
    const outcomes = await Promise.allSettled([step(1), step(2, true), step(3)]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(log).toEqual(["1 start", "1 end", "2 start", "2 end", "3 start", "3 end"]);
    expect(await store.transaction(itemIds)).toEqual(["t3", "t1"]);
  });
}

function describeMisuse(get: () => PubsubStore): void {
  it("makes a tx unusable once its transaction has ended", async () => {
    const store = get();
    let leaked: PubsubTx | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked?.getNode(REF)).rejects.toThrow(/transaction has ended/);
    await expect(leaked ? publish(leaked, "late") : undefined).rejects.toThrow(/has ended/);
    expect(await store.transaction((tx) => tx.countItems(REF))).toBe(0);
  });

  it("finishes the running transactions on close, then refuses new ones", async () => {
    const store = get();
    const running = store.transaction(async (tx) => {
      await pause();
      await publish(tx, "late");
      return "done";
    });
    await store.close();
    expect(await running).toBe("done");
    await expect(store.transaction(async () => 1)).rejects.toThrow(/closed/);
  });
}
