import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** Everything the component needs to run, validated once at start. */
export interface Config {
  /** xmpp://host:port of the server's XEP-0114 listener. */
  service: string;
  /** The component's own domain C. */
  domain: string;
  secret: string;
  /** Domains D whose users own microblogs at u@C. */
  usersDomains: string[];
  db: string;
  logLevel: string;
  /** Longest post text, in characters (XEP-0277 entries). */
  maxPostLength: number;
  /** Largest item payload, in bytes. */
  maxPayloadBytes: number;
  /** JIDs allowed to run the operator's ad-hoc commands. */
  admins: string[];
  /** Remote domains refused service-wide; when allowDomains is non-empty only those may follow. */
  denyDomains: string[];
  allowDomains: string[];
  /** Every so many seconds a "health" log line (event-loop delay, memory); 0: none. */
  healthLogSeconds: number;
  /** Abuse limits per remote domain (see the README); defaults in the domain core. */
  limits: {
    maxPendingPerDomainPerNode?: number;
    maxRequestsPerDomainPerMinute?: number;
    maxRequestsPerRequesterPerMinute?: number;
    maxPendingPerNode?: number;
    pendingExpirySeconds?: number;
    /** Following and timelines (defaults: DEFAULT_TIMELINE_LIMITS). */
    maxFollowsPerUser?: number;
    maxTimelineEntries?: number;
    backfillItems?: number;
    /** Store-and-forward (defaults: DEFAULT_RETRY_POLICY, 120 s quiet). */
    retryFirstSeconds?: number;
    retryMaxSeconds?: number;
    retryDeadlineSeconds?: number;
    deliveryQuietSeconds?: number;
    /** Posts by chat per user and minute (default 10). */
    maxChatPostsPerMinute?: number;
  };
}

/** A setting that is missing or invalid: main prints the message as one line and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Raw = Partial<Record<keyof Config | "secretFile", unknown>>;

const DEFAULTS = {
  db: "./data/warble.db",
  logLevel: "info",
  maxPostLength: 500,
  maxPayloadBytes: 65536,
  admins: [] as string[],
  denyDomains: [] as string[],
  allowDomains: [] as string[],
};

export const USAGE = `Usage: warble-component [options]
  --service URI        XEP-0114 listener, e.g. xmpp://127.0.0.1:5347   (WARBLE_SERVICE)
  --domain C           the component's domain, e.g. microblog.example.org (WARBLE_DOMAIN)
  --secret-file F      file holding the component secret                (WARBLE_SECRET: the secret itself)
  --users-domain D     users' domain(s), comma-separated                 (WARBLE_USERS_DOMAIN)
  --db PATH|URL        SQLite file (default ./data/warble.db), or a      (WARBLE_DB)
                       PostgreSQL URL postgres://user@host:port/database
  --config FILE        JSON file with any of: service, domain, secret, secretFile, usersDomains,
                       db, logLevel, maxPostLength, maxPayloadBytes, admins, denyDomains, allowDomains,
                       healthLogSeconds,
                       limits {maxPendingPerDomainPerNode, maxRequestsPerDomainPerMinute,
                       maxRequestsPerRequesterPerMinute, maxPendingPerNode,
                       pendingExpirySeconds, maxFollowsPerUser, maxTimelineEntries,
                       backfillItems, retryFirstSeconds, retryMaxSeconds,
                       retryDeadlineSeconds, deliveryQuietSeconds, maxChatPostsPerMinute}
  --log-level LEVEL    trace|debug|info|warn|error (default info)        (WARBLE_LOG_LEVEL)
  --help               this text`;

function list(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const items = Array.isArray(v) ? v.map(String) : String(v).split(",");
  return items.map((s) => s.trim().toLowerCase()).filter(Boolean);
}

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new ConfigError(
      `cannot read the secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

function fromFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Raw;
  } catch (err) {
    throw new ConfigError(
      `the config file ${path} is not a JSON object: ${(err as Error).message}`,
    );
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Raw {
  return {
    service: env.WARBLE_SERVICE,
    domain: env.WARBLE_DOMAIN,
    secret: env.WARBLE_SECRET,
    usersDomains: env.WARBLE_USERS_DOMAIN,
    db: env.WARBLE_DB,
    logLevel: env.WARBLE_LOG_LEVEL,
    healthLogSeconds: env.WARBLE_HEALTH_LOG_SECONDS,
  };
}

function fromFlags(argv: string[]): { raw: Raw; configFile?: string; help: boolean } {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
  const v = parsed.values;
  return {
    raw: {
      service: v.service,
      domain: v.domain,
      secretFile: v["secret-file"],
      usersDomains: v["users-domain"],
      db: v.db,
      logLevel: v["log-level"],
    },
    configFile: v.config,
    help: v.help === true,
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      service: { type: "string" },
      domain: { type: "string" },
      "secret-file": { type: "string" },
      "users-domain": { type: "string" },
      db: { type: "string" },
      config: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** Later layers win where they give a value: defaults < file < environment < flags. */
function merge(...layers: Raw[]): Raw {
  const out: Raw = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined || v === null || v === "") continue;
      if (k === "secretFile") delete out.secret;
      if (k === "secret") delete out.secretFile;
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

const DOMAIN_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

function requireDomain(name: string, v: unknown): string {
  if (v === undefined)
    throw new ConfigError(
      `missing setting: ${name} (flag --${name}, env WARBLE_${name.toUpperCase().replace("-", "_")})`,
    );
  const s = String(v).trim().toLowerCase();
  if (!DOMAIN_RE.test(s)) throw new ConfigError(`invalid ${name}: "${s}" is not a domain name`);
  return s;
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`invalid ${name}: "${String(v)}" is not a positive integer`);
  return n;
}

function validateService(v: unknown): string {
  if (v === undefined)
    throw new ConfigError(
      "missing setting: service (flag --service xmpp://host:port, env WARBLE_SERVICE)",
    );
  const s = String(v);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError(`invalid service: "${s}" is not a URI like xmpp://127.0.0.1:5347`);
  }
  if (url.protocol !== "xmpp:" || !url.hostname)
    throw new ConfigError(`invalid service: "${s}" must look like xmpp://host:port`);
  return s;
}

const LIMIT_KEYS = [
  "maxPendingPerDomainPerNode",
  "maxRequestsPerDomainPerMinute",
  "maxRequestsPerRequesterPerMinute",
  "maxPendingPerNode",
  "pendingExpirySeconds",
  "maxFollowsPerUser",
  "maxTimelineEntries",
  "backfillItems",
  "retryFirstSeconds",
  "retryMaxSeconds",
  "retryDeadlineSeconds",
  "deliveryQuietSeconds",
  "maxChatPostsPerMinute",
] as const;

function validateLimits(v: unknown): Config["limits"] {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ConfigError("invalid limits: expected an object");
  const out: Config["limits"] = {};
  for (const [k, value] of Object.entries(v)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(k))
      throw new ConfigError(`invalid limits: unknown key ${k} (known: ${LIMIT_KEYS.join(", ")})`);
    out[k as (typeof LIMIT_KEYS)[number]] = positiveInt(`limits.${k}`, value, 1);
  }
  return out;
}

function validate(raw: Raw): Config {
  const service = validateService(raw.service);
  const domain = requireDomain("domain", raw.domain);
  const secret =
    raw.secret !== undefined
      ? String(raw.secret)
      : raw.secretFile !== undefined
        ? readSecretFile(String(raw.secretFile))
        : undefined;
  if (!secret)
    throw new ConfigError("missing setting: secret (flag --secret-file FILE, env WARBLE_SECRET)");
  const usersDomains = list(raw.usersDomains);
  if (!usersDomains?.length)
    throw new ConfigError(
      "missing setting: users-domain (flag --users-domain D, env WARBLE_USERS_DOMAIN)",
    );
  for (const d of usersDomains) requireDomain("users-domain", d);
  if (usersDomains.includes(domain))
    throw new ConfigError(
      `invalid domain: the component domain ${domain} must differ from the users' domain`,
    );
  const logLevel = raw.logLevel === undefined ? DEFAULTS.logLevel : String(raw.logLevel);
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel))
    throw new ConfigError(`invalid log-level: "${logLevel}"`);
  return {
    service,
    domain,
    secret,
    usersDomains,
    db: raw.db === undefined ? DEFAULTS.db : String(raw.db),
    logLevel,
    maxPostLength: positiveInt("maxPostLength", raw.maxPostLength, DEFAULTS.maxPostLength),
    maxPayloadBytes: positiveInt("maxPayloadBytes", raw.maxPayloadBytes, DEFAULTS.maxPayloadBytes),
    admins: list(raw.admins) ?? DEFAULTS.admins,
    denyDomains: list(raw.denyDomains) ?? DEFAULTS.denyDomains,
    allowDomains: list(raw.allowDomains) ?? DEFAULTS.allowDomains,
    healthLogSeconds:
      raw.healthLogSeconds === undefined || raw.healthLogSeconds === 0
        ? 0
        : positiveInt("healthLogSeconds", raw.healthLogSeconds, 0),
    limits: validateLimits(raw.limits),
  };
}

/** Read flags, environment and config file; null when --help was asked for. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config | null {
  const flags = fromFlags(argv);
  if (flags.help) return null;
  const file = flags.configFile ?? env.WARBLE_CONFIG;
  return validate(merge(file ? fromFile(file) : {}, fromEnv(env), flags.raw));
}
