/**
 * The files and the terminal behind an account: the config file and password files (refused
 * when other users may read or write them), and the password prompt without echo.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type ConfigFile,
  type Env,
  type GlobalOptions,
  parseConfig,
  type ResolvedAccount,
  resolveAccount,
} from "./account.js";
import { usageError } from "./errors.js";

export interface Account extends Omit<ResolvedAccount, "password"> {
  password: string;
}

export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "warble", "config.json");
}

/** The file's text; undefined when it does not exist. Refused when group or others have access. */
function readPrivateFile(path: string, what: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw usageError(`cannot read the ${what} ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw usageError(`${path} can be read by other users; run: chmod 600 ${path}`);
  }
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw usageError(`cannot read the ${what} ${path}: ${(err as Error).message}`);
  }
}

export function loadConfig(env: Env): ConfigFile | undefined {
  const path = configPath(env);
  const text = readPrivateFile(path, "config file");
  return text === undefined ? undefined : parseConfig(text, path);
}

function readPasswordFile(given: string): string {
  const path = given.startsWith("~/") ? join(homedir(), given.slice(2)) : given;
  const text = readPrivateFile(path, "password file");
  if (text === undefined) throw usageError(`the password file ${path} does not exist`);
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw usageError(`the password file ${path} is empty`);
  return password;
}

/** Read a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  // Echo off before the question shows: what is typed (or pasted) at once is not echoed.
  stdin.setRawMode(true);
  stderr.write(question);
  stdin.resume();
  stdin.setEncoding("utf8");
  let typed = "";
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      stderr.write("\n");
      fn();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done(() => resolve(typed));
        if (ch === "\u0003" || ch === "\u0004")
          return done(() => reject(usageError("no password given")));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** The account with its password, from flags, environment, config file or the terminal. */
export async function loadAccount(options: GlobalOptions, env: Env): Promise<Account> {
  const resolved = resolveAccount(options, env, loadConfig(env));
  const { password: source, ...rest } = resolved;
  if (source.kind === "value") return { ...rest, password: source.value };
  if (source.kind === "file") return { ...rest, password: readPasswordFile(source.path) };
  if (!process.stdin.isTTY) {
    throw usageError(
      `no password for ${resolved.jid}: use --password-file, WARBLE_PASSWORD or the config file`,
    );
  }
  const password = await promptHidden(`Password for ${resolved.jid}: `);
  if (password === "") throw usageError("no password given");
  return { ...rest, password };
}
