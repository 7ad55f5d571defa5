/**
 * Helpers of the federation attack tests (issue 4): one Warble component on the "home" server
 * of a federated Prosody pair, read with the owner's and the admin's views, attacked by real
 * users of the "rogue" server over s2s (test/harness/federation.ts).
 */
import { writeFileSync } from "node:fs";
import { expect } from "vitest";
import type { Element } from "../../schemas/src/xml.js";
import { type ComponentSettings, listed } from "./authorization.js";
import { connectClient, type TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { type FederatedPair, startFederatedProsodyPair } from "./federation.js";
import { expectResult, NODE, NS_PUBSUB_OWNER, ownerIq, sleep, stanza, svc } from "./pubsub.js";
import { tempDir } from "./servers.js";

export const HOME = "localhost";
export const ROGUE = "rogue.localhost";
export const ADMIN = `admin@${HOME}`;

/** `bob` → `bob@localhost`; `rogue("mallory")` → `mallory@rogue.localhost`. */
export const home = (user: string) => `${user}@${HOME}`;
export const rogue = (user: string) => `${user}@${ROGUE}`;

export interface AttackWorld {
  pair: FederatedPair;
  component: ComponentProcess;
  /** Logged-in clients by bare JID (home and rogue users alike). */
  clients: Record<string, TestClient>;
  /** The client of a bare JID. */
  c(jid: string): TestClient;
  /** Register users on the rogue server and log them in (in parallel batches). */
  addRogueUsers(users: readonly string[], batch?: number): Promise<TestClient[]>;
  /** Stop the component, rewrite its config file, start it again on the same database. */
  reconfigure(settings: ComponentSettings): Promise<void>;
  /** Both servers' logs and the component's output, for failure messages. */
  logs(): string;
  dispose(): Promise<void>;
}

function writeSettings(file: string, settings: ComponentSettings): void {
  writeFileSync(file, JSON.stringify({ admins: [ADMIN], ...settings }));
}

/** Run `fn` over `items`, at most `batch` at a time, keeping the order of the results. */
export async function inBatches<T, R>(
  items: readonly T[],
  batch: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += batch) {
    out.push(...(await Promise.all(items.slice(i, i + batch).map((x, j) => fn(x, i + j)))));
  }
  return out;
}

/** A client fetches its roster: then its server delivers inbound subscription presences to it. */
async function fetchRoster(client: TestClient): Promise<void> {
  expectResult(await client.iq(stanza("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>")));
}

/**
 * A federated pair, Warble on home started with `--config FILE` (ADMIN is its admin), and
 * logged-in clients for `homeUsers` (plus admin) on localhost and `rogueUsers` on rogue.localhost.
 */
export async function startAttackWorld(
  homeUsers: readonly string[],
  rogueUsers: readonly string[],
  settings: ComponentSettings = {},
): Promise<AttackWorld> {
  const pair = await startFederatedProsodyPair();
  const dir = tempDir("attacks");
  const db = `${dir}/warble.db`;
  const configFile = `${dir}/config.json`;
  writeSettings(configFile, settings);
  const start = async (): Promise<ComponentProcess> => {
    const proc = spawnComponent([...pair.home.componentArgs(db), "--config", configFile], {
      WARBLE_SECRET: pair.home.secret,
    });
    await proc.waitForLine(/"msg":"ready"/);
    return proc;
  };
  const login = async (domain: string, user: string): Promise<TestClient> => {
    const server = domain === HOME ? pair.home : pair.rogue;
    const client = await connectClient(server.ports.c2s, domain, user, `${user}-pw`);
    await fetchRoster(client);
    world.clients[client.jid] = client;
    return client;
  };
  const world: AttackWorld = {
    pair,
    component: undefined as unknown as ComponentProcess,
    clients: {},
    c: (jid) => {
      const client = world.clients[jid];
      if (!client) throw new Error(`no client ${jid}`);
      return client;
    },
    addRogueUsers: async (users, batch = 16) => {
      await inBatches(users, batch, (u) => pair.rogue.register(u, `${u}-pw`));
      return inBatches(users, batch, (u) => login(ROGUE, u));
    },
    reconfigure: async (next) => {
      writeSettings(configFile, next);
      expect(await world.component.stop()).toBe(0);
      world.component = await start();
    },
    logs: () =>
      `--- component ---\n${world.component?.output()}\n--- home ---\n${pair.home.log()}` +
      `\n--- rogue ---\n${pair.rogue.log()}`,
    dispose: async () => {
      await inBatches(Object.values(world.clients), 50, (c) => c.stop());
      await world.component?.stop();
      await pair.dispose();
    },
  };
  try {
    const homeAll = [...homeUsers, "admin"];
    await Promise.all([
      inBatches(homeAll, 8, (u) => pair.home.register(u, `${u}-pw`)),
      inBatches(rogueUsers, 8, (u) => pair.rogue.register(u, `${u}-pw`)),
    ]);
    world.component = await start();
    await Promise.all([
      ...homeAll.map((u) => login(HOME, u)),
      ...rogueUsers.map((u) => login(ROGUE, u)),
    ]);
  } catch (err) {
    await world.dispose().catch(() => {});
    throw err;
  }
  return world;
}

/** The node's subscriptions as its owner reads them (§8.8.1), as sorted "jid state" lines. */
export async function nodeSubscriptions(owner: TestClient): Promise<string[]> {
  const user = owner.jid.split("@")[0] ?? "";
  const reply = await owner.iq(ownerIq("get", svc(user), `<subscriptions node='${NODE}'/>`));
  expectResult(reply);
  return reply
    .getChild("pubsub", NS_PUBSUB_OWNER)!
    .getChild("subscriptions")!
    .getChildren("subscription")
    .map((s) => `${s.attrs.jid} ${s.attrs.subscription}`)
    .sort();
}

/**
 * The owner's views agree with what the owner allowed: §8.8.1 lists exactly these subscribed
 * JIDs (pending requests are §8.7's, not §8.8's), and so does `followers`; `pending` lists
 * exactly these pending requests.
 */
export async function expectOwnerView(
  owner: TestClient,
  expected: { subscribed: readonly string[]; pending: readonly string[] },
): Promise<void> {
  const subscribed = [...expected.subscribed].sort();
  expect(await nodeSubscriptions(owner)).toEqual(subscribed.map((j) => `${j} subscribed`));
  expect(await listed(owner, "followers")).toEqual(subscribed);
  expect(await listed(owner, "pending")).toEqual([...expected.pending].sort());
}

/** A presence from u@C (any resource) of this type (undefined: available). */
export const presenceFrom = (owner: string, type?: string) => (el: Element) =>
  el.name === "presence" &&
  (el.attrs.from as string | undefined)?.split("/")[0] === svc(owner) &&
  el.attrs.type === type;

/** Poll `check` every 100 ms until true (at most `ms`). */
export async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`condition not reached within ${ms} ms`);
}
