/**
 * A test world with a sender who is not a local user: besides Warble (C) the server takes a
 * second XEP-0114 component, STRANGER, whose entities (eve@stranger.localhost) are of no users
 * domain. No second server and no s2s are needed: the server routes between its components.
 * Prosody gets the component from an included config file; ejabberd a listener of its own in
 * its ejabberd.yml, rewritten after the first start (then restarted on the same ports).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { ComponentConnection } from "../../component/src/protocol/component-connection.js";
import type { Element } from "../../schemas/src/xml.js";
import { freePort, startEjabberd, startProsody, waitForPort } from "../../scripts/servers.js";
import { connectClient, type TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { C, D } from "./pubsub.js";
import { asTestServer, type ServerKind, type TestServer, tempDir } from "./servers.js";

export const STRANGER = "stranger.localhost";

/** An entity of STRANGER's domain that sends IQs and waits for their answers. */
export interface Stranger {
  jid: string;
  iq(el: Element, timeoutMs?: number): Promise<Element>;
  stop(): Promise<void>;
}

/**
 * ejabberd serves every host of one ejabberd_service listener on each of its connections, so
 * STRANGER gets a listener (a port) of its own.
 */
function withStrangerListener(yml: string, port: number, secret: string): string {
  if (!yml.includes("\nmodules:")) throw new Error("ejabberd.yml has no modules section");
  const listener = [
    "  -",
    `    port: ${port}`,
    '    ip: "127.0.0.1"',
    "    module: ejabberd_service",
    "    hosts:",
    `      "${STRANGER}":`,
    `        password: "${secret}"`,
  ].join("\n");
  return yml.replace("\nmodules:", `\n${listener}\nmodules:`);
}

async function startServer(kind: ServerKind, secret: string, strangerSecret: string) {
  const dir = tempDir(`${kind}-stranger`);
  const opts = { usersDomain: D, componentDomain: C, secret, dir };
  if (kind === "prosody") {
    const extra = join(dir, "stranger.cfg.lua");
    writeFileSync(extra, `Component "${STRANGER}"\n  component_secret = "${strangerSecret}"\n`);
    const server = asTestServer(await startProsody({ ...opts, prosodyExtra: extra }), dir);
    return { server, strangerPort: server.ports.component };
  }
  const server = asTestServer(await startEjabberd(opts), dir);
  try {
    const strangerPort = await freePort();
    const yml = join(dir, "ejabberd.yml");
    writeFileSync(
      yml,
      withStrangerListener(readFileSync(yml, "utf8"), strangerPort, strangerSecret),
    );
    await server.restart();
    await waitForPort(strangerPort, 30_000);
    return { server, strangerPort };
  } catch (err) {
    await server.dispose();
    throw err;
  }
}

async function connectStranger(port: number, secret: string): Promise<Stranger> {
  const connection = new ComponentConnection({
    service: `xmpp://127.0.0.1:${port}`,
    domain: STRANGER,
    secret,
    log: pino({ level: "silent" }),
  });
  const waiting = new Map<string, (el: Element) => void>();
  connection.on("stanza", (el: Element) => waiting.get(el.attrs.id)?.(el));
  await connection.start();
  const jid = `eve@${STRANGER}`;
  let ids = 0;
  return {
    jid,
    iq: (el, timeoutMs = 10_000) => {
      const id = `s${++ids}`;
      el.attrs.id = id;
      el.attrs.from = jid;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${el}`)), timeoutMs);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
        connection.send(el);
      });
    },
    stop: () => connection.stop(),
  };
}

export interface StrangerWorld {
  server: TestServer;
  component: ComponentProcess;
  clients: Record<string, TestClient>;
  stranger: Stranger;
  dispose(): Promise<void>;
}

/** The server (with STRANGER), Warble on a fresh SQLite file, and one client per user. */
export async function startStrangerWorld(
  kind: ServerKind,
  users: readonly string[],
): Promise<StrangerWorld> {
  const secret = `secret-${randomBytes(6).toString("hex")}`;
  const strangerSecret = `stranger-${randomBytes(6).toString("hex")}`;
  const { server, strangerPort } = await startServer(kind, secret, strangerSecret);
  const world: Partial<StrangerWorld> & {
    server: TestServer;
    clients: Record<string, TestClient>;
  } = { server, clients: {} };
  const dispose = async () => {
    await Promise.all(Object.values(world.clients).map((c) => c.stop()));
    await world.stranger?.stop();
    await world.component?.stop();
    await server.dispose();
  };
  try {
    for (const user of users) await server.register(user, `${user}-pw`);
    const db = `${tempDir("timeline-db")}/warble.db`;
    world.component = spawnComponent(server.componentArgs(db), { WARBLE_SECRET: secret });
    await world.component.waitForLine(/"msg":"ready"/);
    for (const user of users) {
      world.clients[user] = await connectClient(server.ports.c2s, D, user, `${user}-pw`);
    }
    world.stranger = await connectStranger(strangerPort, strangerSecret);
  } catch (err) {
    await dispose().catch(() => {});
    throw err;
  }
  return { ...(world as StrangerWorld), dispose };
}
