/**
 * Who the CLI speaks as: flags beat environment beat the config file
 * ($XDG_CONFIG_HOME/warble/config.json, one or more named accounts). The choice is pure
 * (resolveAccount); reading files and asking for the password is in account-io.ts.
 */
import { usageError } from "./errors.js";

export interface GlobalOptions {
  jid?: string;
  passwordFile?: string;
  service?: string;
  component?: string;
  account?: string;
  json?: boolean;
}

export interface ConfigAccount {
  jid?: string;
  password?: string;
  passwordFile?: string;
  service?: string;
  component?: string;
}

export interface ConfigFile {
  default?: string;
  accounts: Record<string, ConfigAccount>;
}

/** Where the password comes from, in the order of precedence. */
export type PasswordSource =
  | { kind: "file"; path: string }
  | { kind: "value"; value: string }
  | { kind: "prompt" };

export interface ResolvedAccount {
  jid: string;
  local: string;
  domain: string;
  password: PasswordSource;
  service: ServiceAddress;
  component?: string;
}

export interface ServiceAddress {
  uri: string;
  host: string;
  port: number;
  tls: boolean;
}

export type Env = Record<string, string | undefined>;

const nonEmpty = (v: string | undefined) => (v !== undefined && v !== "" ? v : undefined);

/** The config file's account to use; undefined when there is none to use. */
export function chooseAccount(
  config: ConfigFile | undefined,
  name: string | undefined,
  jidGiven: string | undefined,
): ConfigAccount | undefined {
  const names = Object.keys(config?.accounts ?? {});
  if (name !== undefined) {
    const found = config?.accounts[name];
    if (!found) throw usageError(`no account "${name}" in the config file`);
    return found;
  }
  if (!config || names.length === 0) return undefined;
  if (jidGiven !== undefined) {
    return Object.values(config.accounts).find((a) => sameJid(a.jid, jidGiven));
  }
  if (config.default !== undefined) {
    const found = config.accounts[config.default];
    if (!found)
      throw usageError(`the default account "${config.default}" is not in the config file`);
    return found;
  }
  if (names.length === 1) return config.accounts[names[0] as string];
  throw usageError(
    `the config file has ${names.length} accounts (${names.join(", ")}): choose one with --account NAME or set "default"`,
  );
}

const sameJid = (a: string | undefined, b: string) => a?.toLowerCase() === b.toLowerCase();

/** Check and split u@D. */
export function parseJid(jid: string): { local: string; domain: string } {
  const m = /^([^@/\s]+)@([^@/\s]+)$/.exec(jid.trim());
  if (!m) throw usageError(`"${jid}" is not an account JID such as alice@example.org`);
  return { local: m[1] as string, domain: (m[2] as string).toLowerCase() };
}

/** xmpp://host:port (xmpps:// for direct TLS); a bare host[:port] is taken as xmpp://. */
export function parseService(text: string): ServiceAddress {
  const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `xmpp://${text}`;
  const m = /^(xmpps?):\/\/(\[[^\]]+\]|[^/:[\]]+)(?::(\d{1,5}))?\/?$/i.exec(uri);
  if (!m) throw usageError(`"${text}" is not a service address such as xmpp://example.org:5222`);
  const tls = (m[1] as string).toLowerCase() === "xmpps";
  const port = m[3] === undefined ? (tls ? 5223 : 5222) : Number(m[3]);
  if (port < 1 || port > 65535) throw usageError(`"${text}" has no valid port`);
  const host = m[2] as string;
  return { uri: `${tls ? "xmpps" : "xmpp"}://${host}:${port}`, host, port, tls };
}

/** Flags, then environment, then the config file's account. */
export function resolveAccount(
  options: GlobalOptions,
  env: Env,
  config: ConfigFile | undefined,
): ResolvedAccount {
  const given = nonEmpty(options.jid) ?? nonEmpty(env.WARBLE_JID);
  const file = chooseAccount(config, options.account, given);
  const jid = given ?? nonEmpty(file?.jid);
  if (!jid) {
    throw usageError(
      "no account: give --jid u@D, set WARBLE_JID, or add one to the config file (see warble --help)",
    );
  }
  const { local, domain } = parseJid(jid);
  const serviceText =
    nonEmpty(options.service) ??
    nonEmpty(env.WARBLE_XMPP_SERVICE) ??
    nonEmpty(file?.service) ??
    `xmpp://${domain}:5222`;
  const component =
    nonEmpty(options.component) ?? nonEmpty(env.WARBLE_COMPONENT) ?? nonEmpty(file?.component);
  const account: ResolvedAccount = {
    jid: `${local}@${domain}`,
    local,
    domain,
    password: passwordSource(options, env, file),
    service: parseService(serviceText),
  };
  if (component) account.component = component.toLowerCase();
  return account;
}

function passwordSource(
  options: GlobalOptions,
  env: Env,
  file: ConfigAccount | undefined,
): PasswordSource {
  const flagFile = nonEmpty(options.passwordFile);
  if (flagFile) return { kind: "file", path: flagFile };
  const fromEnv = nonEmpty(env.WARBLE_PASSWORD);
  if (fromEnv) return { kind: "value", value: fromEnv };
  const fromFile = nonEmpty(file?.password);
  if (fromFile) return { kind: "value", value: fromFile };
  const fileFile = nonEmpty(file?.passwordFile);
  if (fileFile) return { kind: "file", path: fileFile };
  return { kind: "prompt" };
}

/** Read the config file's JSON; a usage error says what is wrong with it. */
export function parseConfig(text: string, path: string): ConfigFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // (Not the parser's message: it quotes the text around the mistake, a password perhaps.)
    throw usageError(`${path} is not valid JSON (check it with: jq . ${path})`);
  }
  const obj = data as { default?: unknown; accounts?: unknown };
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    throw usageError(`${path} must hold a JSON object`);
  if (obj.default !== undefined && typeof obj.default !== "string")
    throw usageError(`${path}: "default" must be an account name`);
  const accounts = obj.accounts ?? {};
  if (typeof accounts !== "object" || accounts === null || Array.isArray(accounts))
    throw usageError(`${path}: "accounts" must be an object of named accounts`);
  for (const [name, a] of Object.entries(accounts)) checkAccount(a, name, path);
  const config: ConfigFile = { accounts: accounts as Record<string, ConfigAccount> };
  if (obj.default !== undefined) config.default = obj.default;
  return config;
}

const ACCOUNT_KEYS = ["jid", "password", "passwordFile", "service", "component"];

function checkAccount(a: unknown, name: string, path: string): void {
  if (typeof a !== "object" || a === null || Array.isArray(a))
    throw usageError(`${path}: account "${name}" must be an object`);
  for (const [key, value] of Object.entries(a)) {
    if (!ACCOUNT_KEYS.includes(key))
      throw usageError(`${path}: account "${name}" has an unknown setting "${key}"`);
    if (typeof value !== "string")
      throw usageError(`${path}: "${key}" of account "${name}" must be a string`);
  }
}

/** Whether a host is this machine (PLAIN is then allowed without TLS). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
