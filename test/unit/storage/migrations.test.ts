import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../component/src/storage/open-store.js";
import {
  DatabaseOpenError,
  DatabaseVersionError,
  loadMigrations,
  migrate,
} from "../../../component/src/storage/sqlite/migrations.js";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";

const dbPath = () => join(mkdtempSync(join(tmpdir(), "warble-mig-")), "w.db");

describe("schema migrations", () => {
  it("are numbered 1..n without gaps", () => {
    const ms = loadMigrations();
    expect(ms.length).toBeGreaterThan(0);
    expect(ms.map((m) => m.version)).toEqual(ms.map((_, i) => i + 1));
  });

  it("bring a new database to the newest version, in WAL mode", () => {
    const path = dbPath();
    const db = openDatabase(path);
    expect(db.pragma("user_version", { simple: true })).toBe(loadMigrations().length);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("apply only the missing ones to an older database", () => {
    const path = dbPath();
    const raw = new Database(path);
    const all = loadMigrations();
    migrate(raw, all.slice(0, 1));
    expect(raw.pragma("user_version", { simple: true })).toBe(1);
    raw.prepare("INSERT INTO service_meta (key, value) VALUES ('kept', 'yes')").run();
    raw.close();
    const db = openDatabase(path);
    expect(db.pragma("user_version", { simple: true })).toBe(all.length);
    expect(db.prepare("SELECT value FROM service_meta WHERE key = 'kept'").get()).toEqual({
      value: "yes",
    });
    db.close();
  });

  it("count the entries of the home timelines there are when timeline_sizes comes (006)", () => {
    const path = dbPath();
    const raw = new Database(path);
    const all = loadMigrations();
    const at = all.findIndex((m) => m.name === "006_timeline_catch_up.sql");
    migrate(raw, all.slice(0, at));
    const insert = raw.prepare(`INSERT INTO timeline
      (user_jid, service, node, item_id, author, payload, published_at, received_at)
      VALUES (?, 's@c', 'n', ?, 'a', '<entry/>', 1, 2)`);
    for (let i = 0; i < 5; i++) insert.run("u@d", `i${i}`);
    insert.run("v@d", "i0");
    raw.close();
    const db = openDatabase(path);
    const sizes = () => db.prepare("SELECT * FROM timeline_sizes ORDER BY user_jid").all();
    expect(sizes()).toEqual([
      { user_jid: "u@d", entries: 5 },
      { user_jid: "v@d", entries: 1 },
    ]);
    db.prepare("DELETE FROM timeline WHERE item_id IN ('i1', 'i2')").run();
    expect(sizes()).toEqual([
      { user_jid: "u@d", entries: 3 },
      { user_jid: "v@d", entries: 1 },
    ]);
    db.close();
  });

  it("refuse a database written by a newer version and leave it untouched", () => {
    const path = dbPath();
    const raw = new Database(path);
    raw.exec("CREATE TABLE future (x INTEGER)");
    raw.pragma("user_version = 999");
    raw.close();
    const before = readFileSync(path);
    expect(() => openDatabase(path)).toThrow(DatabaseVersionError);
    expect(() => openDatabase(path)).toThrow(/schema version 999, written by a newer Warble/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("are refused the same way through openStore, and an unusable path is an open error", async () => {
    const path = dbPath();
    const raw = new Database(path);
    raw.pragma("user_version = 999");
    raw.close();
    await expect(openStore(path)).rejects.toBeInstanceOf(DatabaseVersionError);
    const unusable = openStore("/dev/null/warble.db");
    await expect(unusable).rejects.toBeInstanceOf(DatabaseOpenError);
    await expect(unusable).rejects.toThrow(
      /^cannot open the database \/dev\/null\/warble.db: [^\n]+$/,
    );
  });

  it("roll back a failing migration as a whole", () => {
    const raw = new Database(":memory:");
    const bad = [
      ...loadMigrations().slice(0, 1),
      {
        version: 2,
        name: "002_bad.sql",
        sql: "CREATE TABLE t (x INTEGER); SELECT nope FROM missing;",
      },
    ];
    expect(() => migrate(raw, bad)).toThrow();
    expect(raw.pragma("user_version", { simple: true })).toBe(1);
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
  });
});
