import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startEjabberd, startProsody } from "../../scripts/servers.js";

export type ServerKind = "prosody" | "ejabberd";
export const SERVER_KINDS: ServerKind[] = ["prosody", "ejabberd"];

export interface TestServer extends RunningServer {
  usersDomain: string;
  componentDomain: string;
  secret: string;
  /** Flags that attach a warble-component to this server. */
  componentArgs(db: string): string[];
  /** Stop the server and remove its temp dir. */
  dispose(): Promise<void>;
}

/** Start a private Prosody or ejabberd with data in a temp dir; a failure carries its log. */
export async function startTestServer(
  kind: ServerKind,
  usersDomain = "localhost",
  componentDomain = "microblog.localhost",
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), `warble-${kind}-`));
  const secret = `secret-${Math.random().toString(36).slice(2)}`;
  const opts = { usersDomain, componentDomain, secret, dir };
  const server = kind === "prosody" ? await startProsody(opts) : await startEjabberd(opts);
  // One line per server in the run's log, so CI shows both servers starting.
  console.info(
    `harness: ${kind} started for ${usersDomain} + ${componentDomain} (c2s ${server.ports.c2s}, component ${server.ports.component})`,
  );
  return asTestServer(server, dir);
}

/** Give a running server the test conveniences: component flags and a dispose that cleans up. */
export function asTestServer<S extends RunningServer>(server: S, dir: string): S & TestServer {
  const { usersDomain, componentDomain, secret } = server.opts;
  return Object.assign(server, {
    usersDomain,
    componentDomain,
    secret,
    componentArgs: (db: string) => [
      "--service",
      `xmpp://127.0.0.1:${server.ports.component}`,
      "--domain",
      componentDomain,
      "--users-domain",
      usersDomain,
      "--db",
      db,
    ],
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `warble-${prefix}-`));
}
