/**
 * A private PostgreSQL for tests, started the way servers.ts starts Prosody and ejabberd:
 * Debian's binaries, data in a temp dir, listening only on 127.0.0.1 on a free port (and a unix
 * socket in the temp dir), trust authentication for the one test user on loopback. PostgreSQL
 * refuses to run as root, so as root initdb and postgres run as the `postgres` system user.
 * A server that cannot start throws a ServerStartError carrying its own log lines.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort, ServerStartError } from "../../scripts/servers.js";

/** The superuser initdb creates; trusted on 127.0.0.1 only. */
const USER = "warble";

export interface TestPostgres {
  /** postgres://warble@127.0.0.1:PORT/postgres (the maintenance database). */
  url: string;
  port: number;
  /** Create an empty database and give its URL (one per test world). */
  newDatabase(): Promise<string>;
  /** The server's own log lines so far. */
  log(): string;
  /** Stop the server and remove its temp dir. */
  dispose(): Promise<void>;
}

/** Debian's server binaries: pg_config's bindir when it has initdb, else the newest version. */
export function postgresBinDir(): string {
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  } catch {
    // no pg_config: look in /usr/lib/postgresql
  }
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new ServerStartError(
      "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); run: node scripts/ensure-servers.mjs postgresql",
    );
  }
  return join(root, versions[0], "bin");
}

/** As root: the uid/gid of the `postgres` system user, to run the server as. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    throw new ServerStartError(
      "running as root needs the `postgres` system user to run PostgreSQL",
    );
  }
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** initdb into `data`, as `user`; trust only the test user on loopback and the private socket. */
function initCluster(bin: string, data: string, user: ReturnType<typeof serverUser>): void {
  try {
    execFileSync(
      join(bin, "initdb"),
      ["-D", data, "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: data, ...user },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new ServerStartError(
      `initdb failed (${e.message.split("\n")[0]}). Its output:\n${tail(`${e.stdout ?? ""}${e.stderr ?? ""}`)}`,
    );
  }
  writeFileSync(
    join(data, "pg_hba.conf"),
    `local all all trust\nhost all ${USER} 127.0.0.1/32 trust\n`,
  );
  if (user) chownSync(join(data, "pg_hba.conf"), user.uid, user.gid);
}

/** Resolves once the server answers a query; throws when it exits or after `timeoutMs`. */
async function waitReady(url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error("postgres exited");
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not ready after ${timeoutMs} ms (${last})`);
}

export interface PostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: "off" }`. */
  settings?: Record<string, string>;
}

/** Start a private PostgreSQL; `dispose()` stops it and removes its data. */
export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const started = Date.now();
  const bin = postgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "warble-postgres-"));
  const data = join(dir, "data");
  const sockets = join(dir, "sock");
  for (const d of [data, sockets]) mkdirSync(d, { mode: 0o700 });
  if (user) for (const d of [dir, data, sockets]) chownSync(d, user.uid, user.gid);
  let proc: ChildProcess | undefined;
  let output = "";
  try {
    initCluster(bin, data, user);
    const port = await freePort();
    const settings = { ...baseSettings(port, sockets), ...options.settings };
    proc = spawnPostgres(bin, data, settings, user, (t) => {
      output += t;
    });
    const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
    await waitReady(url, proc, 30_000);
    console.info(`harness: postgresql started on 127.0.0.1:${port} in ${Date.now() - started} ms`);
    return handle(url, port, proc, dir, () => output);
  } catch (err) {
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof ServerStartError) throw err;
    throw new ServerStartError(
      `PostgreSQL did not start (${(err as Error).message}). Its log:\n${tail(output)}`,
    );
  }
}

/** Loopback only, a private socket directory, logs on stderr, small. */
function baseSettings(port: number, sockets: string): Record<string, string> {
  return {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: sockets,
    logging_collector: "off",
    max_connections: "100",
    shared_buffers: "32MB",
  };
}

function spawnPostgres(
  bin: string,
  data: string,
  settings: Record<string, string>,
  user: ReturnType<typeof serverUser>,
  onOutput: (text: string) => void,
): ChildProcess {
  const args = ["-D", data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  const proc = spawn(join(bin, "postgres"), args, {
    cwd: data,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", LC_ALL: "C" },
    ...user,
  });
  proc.stdout?.on("data", (d: Buffer) => onOutput(d.toString()));
  proc.stderr?.on("data", (d: Buffer) => onOutput(d.toString()));
  // A test run that dies must not leave the server behind.
  const orphanGuard = () => proc.kill("SIGKILL");
  process.once("exit", orphanGuard);
  proc.once("exit", () => process.removeListener("exit", orphanGuard));
  return proc;
}

function handle(
  url: string,
  port: number,
  proc: ChildProcess,
  dir: string,
  log: () => string,
): TestPostgres {
  let databases = 0;
  return {
    url,
    port,
    log,
    newDatabase: async () => {
      const name = `warble_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    dispose: async () => {
      await stopProcess(proc, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SIGINT is PostgreSQL's fast shutdown; SIGKILL when it takes longer than `killAfterMs`. */
function stopProcess(proc: ChildProcess, killAfterMs: number): Promise<void> {
  return new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return res();
    const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      res();
    });
    proc.kill("SIGINT");
  });
}
