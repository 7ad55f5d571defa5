/**
 * The `warble` CLI as a process (issue 10): run the built dist/client-cli/src/main.js as a user
 * or a script would, with a clean environment (PATH, and HOME / XDG_CONFIG_HOME in a temp dir so
 * no real config file is read), and collect its exit code, stdout, stderr and wall time. For
 * `listen`, a process whose stdout is read line by line. Nothing here imports the CLI's code: the
 * tests follow its contract (the spec of issue 10), not its internals.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../../scripts/servers.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { type ServerKind, startTestServer, type TestServer, tempDir } from "./servers.js";
import { startTestStore } from "./stores.js";

export const CLI_MAIN = join(repoRoot(), "dist", "client-cli", "src", "main.js");

export interface CliOptions {
  /** Added to the clean environment (PATH, HOME, XDG_CONFIG_HOME). */
  env?: Record<string, string>;
  /** Written to stdin, then closed; without it stdin is /dev/null (not a TTY). */
  stdin?: string;
  /** Killed (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
  /** HOME of the process (XDG_CONFIG_HOME is HOME/.config); default a fresh temp dir. */
  home?: string;
}

export interface CliResult {
  /** The arguments it ran with. */
  args: string[];
  /** The exit code; null when killed by a signal (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

/** A fresh HOME for CLI processes (its .config exists, empty). */
export function cliHome(): string {
  const home = tempDir("cli-home");
  mkdirSync(join(home, ".config"), { recursive: true, mode: 0o700 });
  return home;
}

/** The clean environment of a CLI process. */
export function cliEnv(home: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    ...env,
  };
}

function spawnProcess(args: string[], opts: CliOptions): ChildProcess {
  const home = opts.home ?? cliHome();
  return spawn(process.execPath, [CLI_MAIN, ...args], {
    env: cliEnv(home, opts.env),
    stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
}

/** Run `warble ARGS` to its end. Never rejects: a timeout gives code null and timedOut. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const proc = spawnProcess(args, opts);
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  proc.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  if (opts.stdin !== undefined && proc.stdin) {
    proc.stdin.on("error", () => {}); // EPIPE when the CLI exits without reading
    proc.stdin.end(opts.stdin);
  }
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    proc.once("error", (err) => {
      clearTimeout(timer);
      resolve({
        args,
        code: null,
        signal: null,
        timedOut,
        stdout,
        stderr: `${stderr}spawn failed: ${err.message}`,
        ms: performance.now() - started,
      });
    });
    // "close": the process exited and its stdout/stderr are fully read.
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, timedOut, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** A long-running CLI process (`listen`), its stdout read line by line. */
export interface CliProcess {
  proc: ChildProcess;
  /** Complete stdout lines so far. */
  lines(): string[];
  stderr(): string;
  /** Resolves with the first stdout line (so far or later) matching; rejects after timeoutMs. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves once at least `n` stdout lines match. */
  waitForLines(
    match: RegExp | ((line: string) => boolean),
    n: number,
    timeoutMs?: number,
  ): Promise<string[]>;
  /** The exit code (or signal name). */
  exited(timeoutMs?: number): Promise<number | string>;
  /** Send `signal` (default SIGINT) and wait for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

export function spawnCli(args: string[], opts: CliOptions = {}): CliProcess {
  const proc = spawnProcess(args, opts);
  const complete: string[] = [];
  let partial = "";
  let err = "";
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  proc.stdout?.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop() ?? "";
    complete.push(...parts);
    notify();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
    notify();
  });
  if (opts.stdin !== undefined && proc.stdin) {
    proc.stdin.on("error", () => {});
    proc.stdin.end(opts.stdin);
  }
  const exitPromise = new Promise<number | string>((resolve) => {
    proc.once("close", (code, signal) => {
      notify();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const describe = () =>
    `stdout:\n${complete.join("\n")}${partial ? `\n${partial}` : ""}\nstderr:\n${err}`;
  const timeout = <T>(p: Promise<T>, ms: number, what: string) => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<T>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what} within ${ms} ms; ${describe()}`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const matcher = (m: RegExp | ((line: string) => boolean)) =>
    typeof m === "function" ? m : (l: string) => m.test(l);
  const waitForLines = (m: RegExp | ((line: string) => boolean), n: number, timeoutMs = 15_000) => {
    const test = matcher(m);
    return timeout(
      new Promise<string[]>((resolve, reject) => {
        const check = () => {
          const found = complete.filter(test);
          if (found.length >= n) {
            listeners.delete(check);
            resolve(found);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            listeners.delete(check);
            reject(
              new Error(`the CLI exited (${proc.exitCode ?? proc.signalCode}); ${describe()}`),
            );
          }
        };
        listeners.add(check);
        check();
      }),
      timeoutMs,
      `not ${n} stdout line(s) matching ${m}`,
    );
  };
  return {
    proc,
    lines: () => [...complete],
    stderr: () => err,
    waitForLine: async (m, timeoutMs) => (await waitForLines(m, 1, timeoutMs))[0] as string,
    waitForLines,
    exited: (timeoutMs = 15_000) => timeout(exitPromise, timeoutMs, "the CLI did not exit"),
    stop: (signal = "SIGINT", timeoutMs = 15_000) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return timeout(exitPromise, timeoutMs, "the CLI did not stop");
    },
  };
}

/** The environment that gives the CLI an account: WARBLE_JID, WARBLE_PASSWORD, and so on. */
export function accountEnv(account: {
  jid: string;
  password: string;
  port: number;
  component?: string;
}): Record<string, string> {
  return {
    WARBLE_JID: account.jid,
    WARBLE_PASSWORD: account.password,
    WARBLE_XMPP_SERVICE: `xmpp://127.0.0.1:${account.port}`,
    ...(account.component ? { WARBLE_COMPONENT: account.component } : {}),
  };
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * The short id of the spec, computed here independently of the CLI: the first 6 characters of
 * the lower-case base32 (RFC 4648 alphabet) of SHA-256(service "\n" node "\n" item).
 */
export function expectedShortId(service: string, node: string, item: string): string {
  const digest = createHash("sha256").update(`${service}\n${node}\n${item}`).digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 6) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= 6) break;
  }
  return out;
}

/**
 * A TCP relay in front of a port that can be cut: `close()` drops every connection through it
 * and refuses new ones until `open()`. Lets a test keep one client (a `listen`) away from the
 * server for as long as it needs.
 */
export interface Gate {
  port: number;
  open(): void;
  close(): void;
  /** Connections accepted while open, so far. */
  connections(): number;
  dispose(): Promise<void>;
}

export async function startGate(targetPort: number): Promise<Gate> {
  let isOpen = true;
  let accepted = 0;
  const live = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    if (!isOpen) {
      socket.destroy();
      return;
    }
    accepted++;
    const upstream = createConnection({ port: targetPort, host: "127.0.0.1" });
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    live.add(socket);
    live.add(upstream);
    socket.once("close", () => live.delete(socket));
    upstream.once("close", () => live.delete(upstream));
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const s of live) s.destroy();
    live.clear();
  };
  return {
    port,
    open: () => {
      isOpen = true;
    },
    close: () => {
      isOpen = false;
      dropAll();
    },
    connections: () => accepted,
    dispose: async () => {
      isOpen = false;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What went wrong with a run, for failure messages: command, exit, stdout, stderr. */
export function describeRun(res: CliResult): string {
  return `warble ${res.args.join(" ")} → exit ${res.code ?? res.signal}${res.timedOut ? " (timed out)" : ""} in ${Math.round(res.ms)} ms\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
}

/**
 * The one line a failed run wrote on stderr (without "\n"); throws when stderr is not exactly
 * one line or carries a stack trace.
 */
export function errorLine(res: CliResult): string {
  const lines = res.stderr.split("\n");
  if (lines.length !== 2 || lines[1] !== "" || !lines[0]) {
    throw new Error(`stderr is not exactly one line: ${JSON.stringify(res.stderr)}`);
  }
  if (/^\s*at /m.test(res.stderr) || /\bat .+:\d+:\d+\)?$/m.test(res.stderr)) {
    throw new Error(`stderr carries a stack trace: ${JSON.stringify(res.stderr)}`);
  }
  return lines[0];
}

/**
 * Options of a run as a user of a CliWorld: `component: false` leaves WARBLE_COMPONENT out (disco
 * finds it), `port` is the c2s port to use (e.g. a Gate's); `env` is added last.
 */
export type AsOptions = CliOptions & { component?: boolean; port?: number };

/** A Warble server (Prosody or ejabberd on a temp dir), its component, and registered users. */
export interface CliWorld {
  server: TestServer;
  component: ComponentProcess;
  /** The component domain C. */
  C: string;
  /** The users domain D. */
  D: string;
  /** Options that give the CLI `user`'s account by environment (with WARBLE_COMPONENT). */
  as(user: string, extra?: AsOptions): CliOptions;
  /** `warble ARGS` as `user`. */
  run(user: string, args: string[], extra?: AsOptions): Promise<CliResult>;
  /** `warble ARGS --json` as `user`, exit 0 required; the parsed stdout. */
  json<T = unknown>(user: string, args: string[], extra?: AsOptions): Promise<T>;
  /** How many "ready" lines the component logged (one per connection to the server). */
  readyCount(): number;
  dispose(): Promise<void>;
}

export const password = (user: string) => `${user}-pw`;

export async function startCliWorld(
  kind: ServerKind,
  users: readonly string[],
  env: Record<string, string> = {},
): Promise<CliWorld> {
  const server = await startTestServer(kind);
  const store = await startTestStore("sqlite", "cli");
  let component: ComponentProcess | undefined;
  const dispose = async () => {
    await component?.stop().catch(() => {});
    await server.dispose();
    await store.dispose();
  };
  try {
    for (const u of users) await server.register(u, password(u));
    component = spawnComponent(server.componentArgs(store.db), {
      WARBLE_SECRET: server.secret,
      ...env,
    });
    await component.waitForLine(/"msg":"ready"/);
  } catch (err) {
    await dispose();
    throw err;
  }
  const proc = component;
  const C = server.componentDomain;
  const D = server.usersDomain;
  const as: CliWorld["as"] = (user, extra = {}) => {
    const { component: withComponent = true, port = server.ports.c2s, env = {}, ...rest } = extra;
    return {
      ...rest,
      env: {
        ...accountEnv({
          jid: `${user}@${D}`,
          password: password(user),
          port,
          ...(withComponent ? { component: C } : {}),
        }),
        ...env,
      },
    };
  };
  const run: CliWorld["run"] = (user, args, extra = {}) => runCli(args, as(user, extra));
  return {
    server,
    component: proc,
    C,
    D,
    as,
    run,
    json: async <T>(user: string, args: string[], extra: AsOptions = {}) => {
      const all = [...args, "--json"];
      const res = await run(user, all, extra);
      if (res.code !== 0) throw new Error(describeRun(res));
      try {
        return JSON.parse(res.stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON: ${describeRun(res)}`);
      }
    },
    readyCount: () =>
      proc
        .output()
        .split("\n")
        .filter((l) => l.includes('"msg":"ready"')).length,
    dispose,
  };
}

/** One post of `timeline`, `show` and `listen --json`, as the spec describes it. */
export interface CliPost {
  id: string;
  short: string;
  author: string;
  service: string;
  node: string;
  item: string;
  published: string;
  text: string;
  uri: string;
}

export const MICROBLOG_NODE = "urn:xmpp:microblog:0";

/** The xmpp: URI of an item (XEP-0277 style, as the spec's `post --json` gives). */
export const itemUri = (service: string, item: string, node = MICROBLOG_NODE) =>
  `xmpp:${service}?;node=${encodeURIComponent(node)};item=${encodeURIComponent(item)}`;

export interface TtyOptions extends CliOptions {
  /** The terminal's width (stty cols); default 80. */
  columns?: number;
  /** When the output so far matches `after`, type `send` (once). */
  answer?: { after: RegExp; send: string };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** ANSI escape sequences out of a terminal's output. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
export const stripAnsi = (s: string) => s.replace(ANSI, "");
/** Whether `s` holds an ANSI escape sequence (colour). */
export const hasAnsi = (s: string) => s.includes(`${String.fromCharCode(27)}[`);

/**
 * `warble ARGS` on a terminal: a pseudo-terminal from util-linux `script`, so stdin and stdout
 * are TTYs. The result's stdout is everything the terminal showed (stdout and stderr, "\r\n"
 * made "\n"); stderr is script's own.
 */
export function runCliTty(args: string[], opts: TtyOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const home = opts.home ?? cliHome();
  const command = [process.execPath, CLI_MAIN, ...args].map(shellQuote).join(" ");
  const inner = `stty cols ${opts.columns ?? 80} rows 40; exec ${command}`;
  const proc = spawn("script", ["-qec", inner, "/dev/null"], {
    env: { TERM: "xterm-256color", ...cliEnv(home, opts.env) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let answered = false;
  let timedOut = false;
  proc.stdin.on("error", () => {});
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (opts.answer && !answered && opts.answer.after.test(out)) {
      answered = true;
      proc.stdin.write(opts.answer.send);
    }
  });
  proc.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      proc.stdin.destroy();
      resolve({
        args,
        code,
        signal,
        timedOut,
        stdout: out.replace(/\r\n/g, "\n"),
        stderr: err,
        ms: performance.now() - started,
      });
    });
  });
}
