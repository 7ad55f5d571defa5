import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";
import { SqliteStore } from "../../../component/src/storage/sqlite/sqlite-store.js";
import { describeStoreContract, publish, REF, seedNode, sub } from "./store-contract.js";

describeStoreContract("sqlite", () => new SqliteStore(openDatabase(":memory:")));

describe("SqliteStore on a file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("keeps everything across close and reopen", () => {
    const dir = mkdtempSync(join(tmpdir(), "warble-store-"));
    dirs.push(dir);
    const path = join(dir, "warble.db");
    const db = openDatabase(path);
    const store = new SqliteStore(db);
    store.transaction(() => {
      seedNode(store);
      publish(store, "a");
      publish(store, "b");
      store.putSubscription({ ...sub("bob@example/phone", "pending"), options: { k: "v" } });
      store.setAffiliation(REF, "rogue.example", "outcast");
      store.incrementCounter("refused:outcast-domain", 4);
      store.recordRequest("rogue.example", "eve@rogue.example", 123);
    });
    const before = {
      node: store.getNode(REF),
      items: store.listItems(REF, {}),
      subs: store.listNodeSubscriptions(REF),
      affs: store.listNodeAffiliations(REF),
    };
    db.close();

    const reopened = new SqliteStore(openDatabase(path));
    expect(reopened.getNode(REF)).toEqual(before.node);
    expect(reopened.listItems(REF, {})).toEqual(before.items);
    expect(reopened.listNodeSubscriptions(REF)).toEqual(before.subs);
    expect(reopened.listNodeAffiliations(REF)).toEqual(before.affs);
    expect(reopened.getCounters()).toEqual({ "refused:outcast-domain": 4 });
    expect(reopened.countRequestsSince("rogue.example", 0)).toBe(1);
    expect(publish(reopened, "c").seq).toBeGreaterThan(before.items?.items[0]?.seq ?? Infinity);
  });
});
