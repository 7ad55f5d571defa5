/**
 * The store behind a test world: SQLite (a file in a temp dir) or PostgreSQL (a private server
 * started by test/harness/postgres.ts, one per test file, a fresh database per world).
 */

import { startPostgres, type TestPostgres } from "./postgres.js";
import type { ServerKind } from "./servers.js";
import { tempDir } from "./servers.js";

export type StoreKind = "sqlite" | "postgres";

export interface TestStore {
  kind: StoreKind;
  /** What the component's --db takes: a file path or a postgres:// URL. */
  db: string;
  dispose(): Promise<void>;
}

/**
 * Where the pubsub and authorization flows run: each server on the embedded SQLite store, and
 * Prosody with PostgreSQL behind the component.
 */
export const WORLDS: ReadonlyArray<readonly [ServerKind, StoreKind]> = [
  ["prosody", "sqlite"],
  ["ejabberd", "sqlite"],
  ["prosody", "postgres"],
];

let shared: { server: Promise<TestPostgres>; users: number } | undefined;

/** A fresh store; PostgreSQL servers are shared by the worlds of one test file. */
export async function startTestStore(kind: StoreKind, label = "world"): Promise<TestStore> {
  if (kind === "sqlite") {
    return { kind, db: `${tempDir(`${label}-db`)}/warble.db`, dispose: async () => {} };
  }
  shared ??= { server: startPostgres(), users: 0 };
  const state = shared;
  state.users++;
  try {
    const server = await state.server;
    const db = await server.newDatabase();
    return { kind, db, dispose: () => release(state) };
  } catch (err) {
    await release(state);
    throw err;
  }
}

async function release(state: { server: Promise<TestPostgres>; users: number }): Promise<void> {
  state.users--;
  if (state.users > 0) return;
  if (shared === state) shared = undefined;
  const server = await state.server.catch(() => undefined);
  await server?.dispose();
}
