/**
 * Start and stop private Prosody and ejabberd instances on loopback, from the configs in
 * prosody-config/. Used by `npm start` and by the integration-test harness.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root, from either the sources or dist/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "prosody-config"))) {
    const up = resolve(dir, "..");
    if (up === dir) throw new Error("cannot find prosody-config/");
    dir = up;
  }
  return dir;
}

export interface ServerOptions {
  /** Users' domain D. */
  usersDomain: string;
  /** Component domain C. */
  componentDomain: string;
  secret: string;
  /** Where the server keeps its data and logs (created). */
  dir: string;
  /** Fixed ports (npm start); free ones are picked when absent (tests). */
  ports?: Partial<Ports>;
  /** Extra Prosody config file to Include (e.g. s2s routing for federation tests). */
  prosodyExtra?: string;
  /**
   * Prosody only: remote domains whose s2s goes to 127.0.0.1 at the given port instead of
   * DNS (mod_warble_s2s_routes, via WARBLE_S2S_ROUTES). List every remote domain, components
   * included; the remote side needs the routes back to this one for dialback.
   */
  s2sRoutes?: Record<string, number>;
  /**
   * ejabberd only: federate over s2s (dialback, no TLS). ejabberd 23.01 finds s2s peers only
   * through DNS, so it is pointed at a private DNS server on 127.0.0.1 (an Erlang inetrc file,
   * ERL_INETRC). Unset, ejabberd's config is the plain one.
   */
  ejabberdS2s?: EjabberdS2sOptions;
}

export interface EjabberdS2sOptions {
  /** UDP port of a DNS server on 127.0.0.1 that answers `_xmpp-server._tcp.DOMAIN` SRV. */
  dnsPort: number;
  /**
   * outgoing_s2s_port: where ejabberd connects for a domain without an SRV record, and for a
   * dot-less one such as `localhost` (for which it never asks for SRV). Default 5269.
   */
  outgoingPort?: number;
  /**
   * s2s_max_retry_delay in seconds: after one failed connection to a domain, ejabberd bounces
   * every stanza for it during a random delay up to this. Default 5 (ejabberd's own: 300).
   */
  maxRetryDelaySeconds?: number;
}

export interface Ports {
  c2s: number;
  s2s: number;
  component: number;
}

export interface RunningServer {
  kind: "prosody" | "ejabberd";
  opts: ServerOptions;
  ports: Ports;
  /** The server's own log lines so far. */
  log(): string;
  register(user: string, password: string): Promise<void>;
  stop(): Promise<void>;
  /** Stop and start again on the same ports and data. */
  restart(): Promise<void>;
}

/** A server that could not start; the message carries its own log lines. */
export class ServerStartError extends Error {
  override name = "ServerStartError";
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

async function pickPorts(fixed: Partial<Ports> = {}): Promise<Ports> {
  return {
    c2s: fixed.c2s ?? (await freePort()),
    s2s: fixed.s2s ?? (await freePort()),
    component: fixed.component ?? (await freePort()),
  };
}

/** Resolves once something accepts TCP connections on the port, or rejects after timeoutMs. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error("the process exited");
    const ok = await new Promise<boolean>((res) => {
      const s = new Socket();
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** `{ "a.example": 1, ... }` as WARBLE_S2S_ROUTES: "a.example=1,...". */
export function formatS2sRoutes(routes: Record<string, number>): string {
  return Object.entries(routes)
    .map(([domain, port]) => {
      if (!/^[^\s,=]+$/.test(domain) || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`bad s2s route ${domain} -> ${port}`);
      }
      return `${domain}=${port}`;
    })
    .join(",");
}

/** Spawn a server in the foreground, its stdout and stderr going to `onOutput`. */
function spawnLogged(
  cmd: string,
  args: string[],
  onOutput: (text: string) => void,
  env?: NodeJS.ProcessEnv,
): ChildProcess {
  const proc = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout?.on("data", (d: Buffer) => onOutput(d.toString()));
  proc.stderr?.on("data", (d: Buffer) => onOutput(d.toString()));
  return proc;
}

function hasExited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Resolves when the process has exited; SIGKILL after `killAfterMs`. */
function waitForExit(proc: ChildProcess, killAfterMs: number): Promise<void> {
  return new Promise<void>((res) => {
    if (hasExited(proc)) return res();
    const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      res();
    });
  });
}

export async function startProsody(opts: ServerOptions): Promise<RunningServer> {
  const ports = await pickPorts(opts.ports);
  const config = join(repoRoot(), "prosody-config", "prosody.cfg.lua");
  mkdirSync(join(opts.dir, "certs"), { recursive: true });
  const env = {
    ...process.env,
    WARBLE_PROSODY_DATA: opts.dir,
    WARBLE_USERS_DOMAIN: opts.usersDomain,
    WARBLE_DOMAIN: opts.componentDomain,
    WARBLE_SECRET: opts.secret,
    WARBLE_C2S_PORT: String(ports.c2s),
    WARBLE_S2S_PORT: String(ports.s2s),
    WARBLE_COMPONENT_PORT: String(ports.component),
    ...(opts.prosodyExtra ? { WARBLE_PROSODY_EXTRA: opts.prosodyExtra } : {}),
    ...(opts.s2sRoutes ? { WARBLE_S2S_ROUTES: formatS2sRoutes(opts.s2sRoutes) } : {}),
  };
  let output = "";
  let child: ChildProcess | null = null;

  const launch = async () => {
    const proc = spawnLogged(
      "prosody",
      ["-F", "--config", config],
      (t) => {
        output += t;
      },
      env,
    );
    child = proc;
    const exited = () => hasExited(proc);
    try {
      await waitForPort(ports.component, 15_000, () => !exited());
      await waitForPort(ports.c2s, 5_000, () => !exited());
    } catch (err) {
      proc.kill("SIGKILL");
      throw new ServerStartError(
        `Prosody did not start (${(err as Error).message}). Its log:\n${tail(output)}`,
      );
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || hasExited(proc)) return;
    proc.kill("SIGTERM");
    await waitForExit(proc, 5000);
  };
  await launch();
  return {
    kind: "prosody",
    opts,
    ports,
    log: () => output,
    register: async (user, password) => {
      await run("prosodyctl", ["--config", config, "register", user, opts.usersDomain, password], {
        env,
      });
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/@([A-Z0-9_]+)@/g, (m, name: string) =>
    name in values ? String(values[name]) : m,
  );
}

/** The Erlang inetrc for ejabberdS2s: DNS from 127.0.0.1:dnsPort only, `localhost` from the file. */
export function ejabberdInetrc(dnsPort: number): string {
  if (!Number.isInteger(dnsPort) || dnsPort < 1 || dnsPort > 65535) {
    throw new Error(`bad DNS port ${dnsPort}`);
  }
  return [
    // Order matters: a resolv_conf line clears the nameservers listed before it.
    '{resolv_conf, ""}.',
    '{hosts_file, ""}.',
    `{nameserver, {127,0,0,1}, ${dnsPort}}.`,
    "{lookup, [file, dns]}.",
    // So that ejabberdctl still reaches its node (name@localhost).
    '{host, {127,0,0,1}, ["localhost"]}.',
    "",
  ].join("\n");
}

/** ejabberd.yml with s2s for ejabberdS2s: top-level options appended, dialback among the modules. */
function withEjabberdS2s(yml: string, s2s: EjabberdS2sOptions): string {
  const modules = /^modules:\n/m;
  if (!modules.test(yml)) throw new Error("ejabberd.yml: no top-level modules: section");
  return `${yml.replace(modules, "modules:\n  mod_s2s_dialback: {}\n")}
# ejabberdS2s (scripts/servers.ts): s2s over a private DNS server, dialback without TLS.
s2s_dns_retries: 1
s2s_dns_timeout: 2
s2s_max_retry_delay: ${s2s.maxRetryDelaySeconds ?? 5}
outgoing_s2s_port: ${s2s.outgoingPort ?? 5269}
outgoing_s2s_families:
  - ipv4
`;
}

export async function startEjabberd(opts: ServerOptions): Promise<RunningServer> {
  const ports = await pickPorts(opts.ports);
  const distPort = await freePort();
  const root = repoRoot();
  const spool = join(opts.dir, "spool");
  const logs = join(opts.dir, "logs");
  mkdirSync(spool, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const node = `warble${distPort}`;
  const values = {
    USERS_DOMAIN: opts.usersDomain,
    COMPONENT_DOMAIN: opts.componentDomain,
    SECRET: opts.secret,
    C2S_PORT: ports.c2s,
    S2S_PORT: ports.s2s,
    COMPONENT_PORT: ports.component,
    NODE: node,
    DIST_PORT: distPort,
  };
  const yml = join(opts.dir, "ejabberd.yml");
  const ctl = join(opts.dir, "ejabberdctl.cfg");
  const ymlText = fill(readFileSync(join(root, "prosody-config", "ejabberd.yml"), "utf8"), values);
  writeFileSync(yml, opts.ejabberdS2s ? withEjabberdS2s(ymlText, opts.ejabberdS2s) : ymlText);
  writeFileSync(
    ctl,
    fill(readFileSync(join(root, "prosody-config", "ejabberdctl.cfg"), "utf8"), values),
  );
  const base = ["--config", yml, "--ctl-config", ctl, "--logs", logs, "--spool", spool];
  if (opts.ejabberdS2s) {
    // ejabberdctl sets ERL_INETRC to CONFIG_DIR/inetrc whatever the environment says.
    writeFileSync(join(opts.dir, "inetrc"), ejabberdInetrc(opts.ejabberdS2s.dnsPort));
    base.push("--config-dir", opts.dir);
  }
  let output = "";
  let child: ChildProcess | null = null;
  const readLog = () => {
    try {
      return readFileSync(join(logs, "ejabberd.log"), "utf8");
    } catch {
      return "";
    }
  };

  const launch = async () => {
    const proc = spawnLogged("ejabberdctl", [...base, "foreground"], (t) => {
      output += t;
    });
    child = proc;
    const exited = () => hasExited(proc);
    try {
      await waitForPort(ports.component, 60_000, () => !exited());
      await waitForPort(ports.c2s, 10_000, () => !exited());
      await run("ejabberdctl", [...base, "started"], { timeout: 60_000 });
    } catch (err) {
      proc.kill("SIGKILL");
      throw new ServerStartError(
        `ejabberd did not start (${(err as Error).message}). Its log:\n${tail(output + readLog())}`,
      );
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || hasExited(proc)) return;
    await run("ejabberdctl", [...base, "stop"], { timeout: 30_000 }).catch(() =>
      proc.kill("SIGTERM"),
    );
    await waitForExit(proc, 10_000);
  };
  await launch();
  return {
    kind: "ejabberd",
    opts,
    ports,
    log: () => output + readLog(),
    register: async (user, password) => {
      await run("ejabberdctl", [...base, "register", user, opts.usersDomain, password], {
        timeout: 30_000,
      });
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
