/**
 * `npm start`: a local Prosody from prosody-config/, two demo users, and the Warble component
 * attached to it with its SQLite store, all under ./data. Ctrl-C stops everything.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { App } from "../component/src/app.js";
import type { Config } from "../component/src/config.js";
import { createLogger } from "../component/src/log.js";
import { type RunningServer, repoRoot, startProsody } from "./servers.js";

const USERS_DOMAIN = "localhost";
const COMPONENT_DOMAIN = "microblog.localhost";
const PORTS = { c2s: 5222, s2s: 5269, component: 5347 };

interface Secrets {
  componentSecret: string;
  users: Record<string, string>;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Secrets made once and kept in ./data, so a second start reuses them. */
function loadSecrets(dataDir: string): Secrets {
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Secrets;
  const pw = () => randomBytes(6).toString("base64url");
  const secrets = {
    componentSecret: randomBytes(18).toString("base64url"),
    users: { alice: pw(), bob: pw() },
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const ensure = spawnSync(
    process.execPath,
    [join(root, "scripts", "ensure-servers.mjs"), "prosody"],
    { stdio: "inherit" },
  );
  if (ensure.status !== 0) process.exit(1);
  const dataDir = resolve("data");
  mkdirSync(dataDir, { recursive: true });
  const secrets = loadSecrets(dataDir);

  let prosody: RunningServer;
  try {
    prosody = await startProsody({
      usersDomain: USERS_DOMAIN,
      componentDomain: COMPONENT_DOMAIN,
      secret: secrets.componentSecret,
      dir: join(dataDir, "prosody"),
      ports: PORTS,
    });
  } catch (err) {
    say(`warble: ${(err as Error).message}`);
    say(`warble: is another XMPP server using ports ${Object.values(PORTS).join(", ")}?`);
    process.exit(1);
  }
  for (const [user, password] of Object.entries(secrets.users))
    await prosody.register(user, password);

  const config: Config = {
    service: `xmpp://127.0.0.1:${PORTS.component}`,
    domain: COMPONENT_DOMAIN,
    secret: secrets.componentSecret,
    usersDomains: [USERS_DOMAIN],
    db: join(dataDir, "warble.db"),
    logLevel: process.env.WARBLE_LOG_LEVEL ?? "warn",
    maxPostLength: 500,
    maxPayloadBytes: 65536,
    admins: [],
    denyDomains: [],
    allowDomains: [],
    healthLogSeconds: 0,
    limits: {},
  };
  const app = await App.create(config, createLogger(config.logLevel));
  await app.run();

  say("");
  say(
    `Warble is running: component ${COMPONENT_DOMAIN} on a local Prosody (${USERS_DOMAIN}, 127.0.0.1:${PORTS.c2s}).`,
  );
  say(`Data (SQLite store, Prosody, secrets): ${dataDir}`);
  say("Demo users:");
  for (const [user, password] of Object.entries(secrets.users))
    say(`  ${user}@${USERS_DOMAIN}  password ${password}`);
  say("");
  say("Next:");
  say(
    `  - Log in with any XMPP client as alice@${USERS_DOMAIN} (server 127.0.0.1, port ${PORTS.c2s}, no TLS).`,
  );
  say(
    `  - Alice's microblog is the pubsub node urn:xmpp:microblog:0 at alice@${COMPONENT_DOMAIN};`,
  );
  say(`    bob subscribes to it there and gets each post as a message.`);
  say(
    '  - Or, in another shell: npm run demo -- "my first post"  (alice posts, bob follows and receives it)',
  );
  say("  - Press Ctrl-C to stop.");

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say("\nwarble: stopping");
    await app.stop();
    await prosody.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`warble: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
