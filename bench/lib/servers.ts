/**
 * The server of a fan-out run: the harness's Prosody or ejabberd (test/harness/servers.ts) with
 * what the bench adds and the tests do not need: two more component domains, the sink and the
 * route-limit sender (same secret as Warble's), and the server's own pubsub service
 * (Prosody's `pubsub` component, ejabberd's mod_pubsub) at pubsub.D.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEjabberd, startProsody } from "../../scripts/servers.js";
import { asTestServer, type ServerKind, type TestServer } from "../../test/harness/servers.js";
import { findPid } from "./stats.js";

export interface FanoutServer extends TestServer {
  /** The sink component: its JIDs subscribe and count. */
  sinkDomain: string;
  /** The trivial component of the route limit. */
  limitDomain: string;
  /** The server's own XEP-0060 service. */
  pubsubDomain: string;
  /** The server's OS process (for its CPU time); undefined when it cannot be found. */
  pid(): number | undefined;
}

export interface FanoutServerOptions {
  /** Prosody only: `network_settings = { nagle = false }` (Prosody 0.12 leaves Nagle on). */
  nagleOff?: boolean;
  /** The user who publishes (an admin of Prosody's pubsub, which lets only admins create nodes). */
  publisher: string;
}

const USERS = "localhost";

function domains(users: string) {
  return {
    componentDomain: `microblog.${users}`,
    sinkDomain: `sink.${users}`,
    limitDomain: `limit.${users}`,
    pubsubDomain: `pubsub.${users}`,
  };
}

/** Start the server with the bench's components and pubsub service on free loopback ports. */
export async function startFanoutServer(
  kind: ServerKind,
  options: FanoutServerOptions,
): Promise<FanoutServer> {
  const dir = mkdtempSync(join(tmpdir(), `warble-fanout-${kind}-`));
  const names = domains(USERS);
  const secret = `secret-${Math.random().toString(36).slice(2)}`;
  const opts = { usersDomain: USERS, componentDomain: names.componentDomain, secret, dir };
  const server =
    kind === "prosody"
      ? await startProsody({ ...opts, prosodyExtra: writeProsodyExtra(dir, secret, options) })
      : await startEjabberd(opts);
  if (kind === "ejabberd") await addEjabberdServices(server, dir, secret);
  console.info(
    `fanout: ${kind} started for ${USERS} + ${names.componentDomain}, ${names.sinkDomain}, ` +
      `${names.limitDomain}, ${names.pubsubDomain} (c2s ${server.ports.c2s}, component ${server.ports.component})`,
  );
  const pidOf = kind === "prosody" ? () => prosodyPid(dir) : () => findPid(["beam", dir]);
  return Object.assign(asTestServer(server, dir), names, { pid: pidOf });
}

/**
 * Prosody: a config file Included in prosody-config/prosody.cfg.lua's global section
 * (WARBLE_PROSODY_EXTRA). The sections it opens end where the main file's VirtualHost begins.
 * The pubsub service keeps Prosody's defaults (storage included): each subscribe there writes
 * the node's whole subscriber list (util/pubsub.lua save_node_to_store), so 10,000 subscriptions
 * take about ten minutes here; the memory store serialises the same way and is no faster.
 */
function writeProsodyExtra(dir: string, secret: string, options: FanoutServerOptions): string {
  const names = domains(USERS);
  const lines = [
    "-- Written by bench/lib/servers.ts for bench/fanout.ts.",
    options.nagleOff ? "network_settings = { nagle = false }" : "",
    `Component "${names.sinkDomain}"`,
    `  component_secret = "${secret}"`,
    `Component "${names.limitDomain}"`,
    `  component_secret = "${secret}"`,
    `Component "${names.pubsubDomain}" "pubsub"`,
    `  admins = { "${options.publisher}@${USERS}" }`,
    "",
  ];
  const file = join(dir, "fanout-extra.cfg.lua");
  writeFileSync(file, lines.join("\n"));
  return file;
}

/** Prosody's pid from the pidfile its config puts in the data dir (mod_posix). */
function prosodyPid(dir: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, "prosody.pid"), "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * ejabberd: the harness writes DIR/ejabberd.yml from prosody-config/ejabberd.yml and starts it;
 * the bench adds its two component domains to the ejabberd_service listener and mod_pubsub to
 * the modules, then restarts ejabberd on the same file and ports. The listener also gets
 * `global_routes: false`: by default each connection to it takes the routes of every host it
 * lists (ejabberd_service:handle_auth_success), so the sink would receive Warble's stanzas.
 */
async function addEjabberdServices(
  server: { restart(): Promise<void> },
  dir: string,
  secret: string,
): Promise<void> {
  const names = domains(USERS);
  const file = join(dir, "ejabberd.yml");
  const entry = (d: string) => `      "${d}":\n        password: "${secret}"\n`;
  const edits: Array<[RegExp, (m: string) => string]> = [
    [/^ {4}module: ejabberd_service\n/m, (m) => `${m}    global_routes: false\n`],
    [/^ {4}hosts:\n/m, (m) => m + entry(names.sinkDomain) + entry(names.limitDomain)],
    [/^modules:\n/m, (m) => `${m}  mod_pubsub:\n    hosts:\n      - "${names.pubsubDomain}"\n`],
  ];
  let yml = readFileSync(file, "utf8");
  for (const [re, edit] of edits) {
    if (!re.test(yml)) throw new Error(`${file}: nothing matches ${re} to extend`);
    yml = yml.replace(re, edit);
  }
  writeFileSync(file, yml);
  await server.restart();
}
