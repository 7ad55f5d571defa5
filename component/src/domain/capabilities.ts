/**
 * THE authorization policy of Warble, in one file:
 *   1. who the actor is to the node (standing): service owner, operator deny/allow lists,
 *      the owner's per-JID and per-domain affiliations (bans = outcast);
 *   2. one table: affiliation × action → allowed (after Prosody's util/pubsub.lua);
 *   3. the access-model rules (open / authorize → pending / whitelist → member or better)
 *      and the publish model;
 *   3b. what an owner may do to others: set subscriptions only as approvals or removals,
 *      grant the affiliations that act as the user only to JIDs of the users domains;
 *   4. the abuse limits on subscription requests and the pending-request expiry.
 * Every refusal is a PubsubError carrying a countable RefusalReason.
 */
import { PubsubError, type RefusalReason } from "./errors.js";
import { bareJid, domainOf, isDomainJid } from "./jid.js";
import type { AccessModel, Affiliation, PublishModel, SubscriptionState } from "./types.js";

export const ACTIONS = [
  "create",
  "configure",
  "get-configuration",
  "delete",
  "purge",
  "publish",
  "retract-own",
  "retract-any",
  "retrieve-items",
  "subscribe",
  "unsubscribe",
  "subscribe-other",
  "unsubscribe-other",
  "configure-subscription",
  "configure-subscription-other",
  "get-subscriptions",
  "set-subscriptions",
  "get-affiliations",
  "set-affiliations",
  "get-pending",
  "approve",
  "be-notified",
  "discover",
] as const;

export type Action = (typeof ACTIONS)[number];

const Y = true;
const n = false;

/**
 * Affiliation × action → allowed, before access-model rules (XEP-0060 §4.1 table). "none" may
 * retrieve items here because the open access model lets anyone read; the access model then
 * narrows it. Publishers may purge and retract any item (the §4.1 "Yes *"); publish-only
 * entities may retract only their own items and see nothing. "opts" is configuring one's own
 * subscription options (§6.3: the bare JIDs match); "opts-o" someone else's (§6.3.4.1: only an
 * entity with authority over the node, here its owner). "disco" is seeing the node in XEP-0030
 * (§5.3, §5.4 meta-data): everyone but outcasts; the item ids of §5.5 also need "items".
 */
// biome-ignore format: a table reads best as a table
export const CAPABILITIES: Readonly<Record<Affiliation, Readonly<Record<Action, boolean>>>> = {
  //               create conf getcf delete purge  pub  r-own r-any items  sub  unsub sub-o unsub-o opts opts-o get-s set-s get-a set-a pend  appr notify disco
  owner:          row(Y,    Y,   Y,    Y,     Y,     Y,   Y,    Y,    Y,     Y,   Y,    Y,    Y,      Y,   Y,     Y,    Y,    Y,    Y,    Y,    Y,   Y,     Y),
  publisher:      row(n,    n,   n,    n,     Y,     Y,   Y,    Y,    Y,     Y,   Y,    n,    n,      Y,   n,     n,    n,    n,    n,    n,    n,   Y,     Y),
  "publish-only": row(n,    n,   n,    n,     n,     Y,   Y,    n,    n,     n,   Y,    n,    n,      Y,   n,     n,    n,    n,    n,    n,    n,   n,     Y),
  member:         row(n,    n,   n,    n,     n,     n,   n,    n,    Y,     Y,   Y,    n,    n,      Y,   n,     n,    n,    n,    n,    n,    n,   Y,     Y),
  none:           row(n,    n,   n,    n,     n,     n,   n,    n,    Y,     Y,   Y,    n,    n,      Y,   n,     n,    n,    n,    n,    n,    n,   Y,     Y),
  outcast:        row(n,    n,   n,    n,     n,     n,   n,    n,    n,     n,   n,    n,    n,      n,   n,     n,    n,    n,    n,    n,    n,   n,     n),
};

function row(...allowed: boolean[]): Record<Action, boolean> {
  return Object.fromEntries(ACTIONS.map((a, i) => [a, allowed[i] === true])) as Record<
    Action,
    boolean
  >;
}

/** Affiliations that count as "on the whitelist" / pre-approved under authorize. */
const MEMBER_OR_BETTER: ReadonlySet<Affiliation> = new Set(["owner", "publisher", "member"]);

// ───────────────────────────── 1. standing ─────────────────────────────

/** Operator configuration: service-wide domain deny list and optional allow list. */
export interface ServicePolicy {
  /** Domains whose users own nodes here; always allowed, exempt from per-domain limits. */
  usersDomains: readonly string[];
  /** Denied domains (and their subdomains): every request from them is refused. */
  deniedDomains: readonly string[];
  /** When non-empty, only these domains (and subdomains) and the users domains may interact. */
  allowedDomains: readonly string[];
  /**
   * Domains that act for the users (the component's own domain: u@C follows on u's behalf):
   * exempt from the request limits like the users domains, nothing more. Default none.
   */
  trustedDomains?: readonly string[];
}

/** Where an actor's effective affiliation comes from (decides the refusal reason of a ban). */
export type StandingSource =
  | "service-owner"
  | "service-deny"
  | "service-allow"
  | "jid"
  | "domain"
  | "default";

export interface Standing {
  affiliation: Affiliation;
  source: StandingSource;
}

/** "a.b.example" → ["a.b.example", "b.example", "example"]: most specific first. */
export function domainAndParents(domain: string): string[] {
  const labels = domain.split(".");
  return labels.map((_, i) => labels.slice(i).join("."));
}

function matchesDomainList(domain: string, list: readonly string[]): boolean {
  return domainAndParents(domain).some((d) => list.includes(d));
}

/**
 * The actor's effective affiliation with a node owned by `owner`. Order: the service owner is
 * always owner; then the operator's deny list, then its allow list; then the owner's entry for
 * the actor's bare JID; then the entry for its domain or nearest parent domain; else "none".
 */
export function resolveStanding(
  actor: string,
  owner: string,
  policy: ServicePolicy,
  lookup: (entity: string) => Affiliation,
): Standing {
  const bare = bareJid(actor);
  if (bare === bareJid(owner)) return { affiliation: "owner", source: "service-owner" };
  const domain = domainOf(bare);
  if (matchesDomainList(domain, policy.deniedDomains)) {
    return { affiliation: "outcast", source: "service-deny" };
  }
  if (
    policy.allowedDomains.length > 0 &&
    !matchesDomainList(domain, policy.allowedDomains) &&
    !matchesDomainList(domain, policy.usersDomains)
  ) {
    return { affiliation: "outcast", source: "service-allow" };
  }
  const own = lookup(bare);
  if (own !== "none") return { affiliation: own, source: "jid" };
  for (const d of domainAndParents(domain)) {
    const aff = lookup(d);
    if (aff !== "none") return { affiliation: aff, source: "domain" };
  }
  return { affiliation: "none", source: "default" };
}

// ───────────────────────────── 2+3. may ─────────────────────────────

export interface PolicyContext {
  standing: Standing;
  accessModel: AccessModel;
  publishModel: PublishModel;
  /** The actor's current subscription state to the node ("none" when it has none). */
  subscription: SubscriptionState;
}

/** allow; or allow as a pending request (subscribe under authorize); or refuse. */
export type Verdict =
  | { kind: "allow" }
  | { kind: "pending" }
  | { kind: "refuse"; error: PubsubError };

const ALLOW: Verdict = { kind: "allow" };

function refuse(
  reason: RefusalReason,
  condition: PubsubError["condition"],
  pubsubCondition?: PubsubError["pubsubCondition"],
  text?: string,
): Verdict {
  const error = new PubsubError(condition, {
    reason,
    ...(pubsubCondition ? { pubsubCondition } : {}),
    ...(text ? { text } : {}),
  });
  return { kind: "refuse", error };
}

const BAN_REASON: Partial<Record<StandingSource, RefusalReason>> = {
  "service-deny": "service-denied-domain",
  "service-allow": "service-not-allowed-domain",
  jid: "outcast-jid",
  domain: "outcast-domain",
};

/** May an actor with this standing do `action`? The single decision point of the core. */
export function may(action: Action, ctx: PolicyContext): Verdict {
  const { affiliation, source } = ctx.standing;
  if (affiliation === "outcast") {
    return refuse(BAN_REASON[source] ?? "outcast-jid", "forbidden", undefined, "you are blocked");
  }
  if (action === "publish") return mayPublish(ctx);
  if (!CAPABILITIES[affiliation][action]) {
    return refuse("insufficient-privileges", "forbidden");
  }
  if (action === "subscribe") return maySubscribe(ctx);
  if (action === "retrieve-items") return mayRetrieve(ctx);
  if (action === "be-notified" && ctx.accessModel === "whitelist") {
    return MEMBER_OR_BETTER.has(affiliation)
      ? ALLOW
      : refuse("not-on-whitelist", "not-allowed", "closed-node");
  }
  return ALLOW;
}

/** pubsub#publish_model: publishers (table) / subscribers (or subscribed) / open (anyone). */
function mayPublish(ctx: PolicyContext): Verdict {
  if (CAPABILITIES[ctx.standing.affiliation].publish) return ALLOW;
  if (ctx.publishModel === "open") return ALLOW;
  if (ctx.publishModel === "subscribers" && ctx.subscription === "subscribed") return ALLOW;
  return refuse("insufficient-privileges", "forbidden");
}

/** Access-model rules for subscribe (XEP-0060 §6.1.3). */
function maySubscribe(ctx: PolicyContext): Verdict {
  const trusted = MEMBER_OR_BETTER.has(ctx.standing.affiliation);
  if (ctx.subscription === "pending") {
    return refuse("pending-subscription", "not-authorized", "pending-subscription");
  }
  switch (ctx.accessModel) {
    case "open":
      return ALLOW;
    case "authorize":
      return trusted || ctx.subscription === "subscribed" ? ALLOW : { kind: "pending" };
    case "whitelist":
      return trusted ? ALLOW : refuse("not-on-whitelist", "not-allowed", "closed-node");
  }
}

/** Access-model rules for retrieving items (XEP-0060 §6.5.9). */
function mayRetrieve(ctx: PolicyContext): Verdict {
  const trusted = MEMBER_OR_BETTER.has(ctx.standing.affiliation);
  switch (ctx.accessModel) {
    case "open":
      return ALLOW;
    case "authorize":
      return trusted || ctx.subscription === "subscribed"
        ? ALLOW
        : refuse("not-subscribed", "not-authorized", "not-subscribed");
    case "whitelist":
      return trusted ? ALLOW : refuse("not-on-whitelist", "not-allowed", "closed-node");
  }
}

// ──────────────────── 3b. what an owner may do to others ────────────────────

/**
 * §8.8.2 the owner sets someone's subscription (`current`: that JID's state now, "none" when it
 * has none). Nobody is subscribed without asking: the owner may end any subscription ("none"),
 * and may set "subscribed" only for a JID that asked (approving its pending request, or keeping
 * its active subscription). Anything else, subscribing a JID that never asked or setting
 * "pending" / "unconfigured", is an invalid entry: not-acceptable, the error §8.8.2.4
 * (multiple simultaneous modifications) gives an invalid <subscription/>; nothing is changed.
 */
export function maySetSubscription(current: SubscriptionState, wanted: SubscriptionState): Verdict {
  if (wanted === "none") return ALLOW;
  if (wanted === "subscribed" && (current === "pending" || current === "subscribed")) {
    return ALLOW;
  }
  return refuse(
    "unrequested-subscription",
    "not-acceptable",
    undefined,
    wanted === "subscribed"
      ? "only a JID that asked to subscribe can be subscribed: approve its request"
      : `an owner sets a subscription to subscribed (approving) or none, not ${wanted}`,
  );
}

/** Affiliations that act as the node's user: manage the node, or post (as u@D, the entries' author). */
const ACTS_AS_USER: ReadonlySet<Affiliation> = new Set(["owner", "publisher", "publish-only"]);

/** Affiliations a whole domain may have: banned or whitelisted, never trusted more. */
const DOMAIN_AFFILIATIONS: ReadonlySet<Affiliation> = new Set(["member", "none", "outcast"]);

/**
 * §8.9.2 the owner gives `entity` (a bare JID or a domain) an affiliation. Only JIDs of the users
 * domains own nodes, and whatever is published on the node is the user's post: so owner (a
 * co-owner answers approval forms and manages the node), publisher and publish-only go only to
 * JIDs of the users domains. A whole domain can be member, none or outcast. A refused entry is
 * an invalid one: not-acceptable (§8.9.2.5), nothing is changed.
 */
export function mayGrantAffiliation(
  entity: string,
  affiliation: Affiliation,
  policy: ServicePolicy,
): Verdict {
  if (isDomainJid(entity)) {
    return DOMAIN_AFFILIATIONS.has(affiliation)
      ? ALLOW
      : refuse(
          "affiliation-not-grantable",
          "not-acceptable",
          undefined,
          `a whole domain can only be member, none or outcast, not ${affiliation}`,
        );
  }
  if (ACTS_AS_USER.has(affiliation) && !isLocalDomain(domainOf(entity), policy)) {
    return refuse(
      "affiliation-not-grantable",
      "not-acceptable",
      undefined,
      `${affiliation} is only for users of ${policy.usersDomains.join(", ") || "this service"}, not ${entity}`,
    );
  }
  return ALLOW;
}

// ───────────────────────────── 4. abuse limits ─────────────────────────────

export interface AbuseLimits {
  /** Pending requests to one node from one remote domain. */
  maxPendingPerDomainPerNode: number;
  /** New subscription requests (pending or not) from one remote domain per minute, service-wide. */
  maxRequestsPerDomainPerMinute: number;
  /**
   * The same from one remote account (bare JID), so that one rogue account cannot spend its
   * domain's whole budget and lock its legitimate users out for the minute.
   */
  maxRequestsPerRequesterPerMinute: number;
  /** Pending requests to one node from everyone. */
  maxPendingPerNode: number;
  /** A pending request older than this is denied ("pending-expired"). */
  pendingTtlMs: number;
}

export const DEFAULT_LIMITS: Readonly<AbuseLimits> = {
  maxPendingPerDomainPerNode: 10,
  maxRequestsPerDomainPerMinute: 30,
  maxRequestsPerRequesterPerMinute: 10,
  maxPendingPerNode: 200,
  pendingTtlMs: 7 * 24 * 60 * 60 * 1000,
};

export const RATE_WINDOW_MS = 60_000;

/** What the limits look at, read from the store before anything is written. */
export interface RequestCounts {
  /** Whether the requester's domain is remote (not a users domain): per-domain limits apply. */
  remote: boolean;
  /** Whether the request would be stored as pending. */
  pending: boolean;
  pendingFromDomainOnNode: number;
  requestsFromDomainLastMinute: number;
  requestsFromRequesterLastMinute: number;
  pendingOnNode: number;
}

/** The limit a new subscription request would break, as a refusal; undefined when none. */
export function checkRequestLimits(c: RequestCounts, limits: AbuseLimits): PubsubError | undefined {
  const over = (reason: RefusalReason, text: string) =>
    new PubsubError("policy-violation", { reason, text });
  // The requester's own limit first: its refused requests are not logged, so they spend
  // nothing of the domain's budget.
  if (c.remote && c.requestsFromRequesterLastMinute >= limits.maxRequestsPerRequesterPerMinute) {
    return over(
      "limit-requests-per-requester",
      "too many subscription requests from your account; try again in a minute",
    );
  }
  if (c.remote && c.requestsFromDomainLastMinute >= limits.maxRequestsPerDomainPerMinute) {
    return over(
      "limit-requests-per-minute",
      "too many subscription requests from your domain; try again later",
    );
  }
  if (!c.pending) return undefined;
  if (c.remote && c.pendingFromDomainOnNode >= limits.maxPendingPerDomainPerNode) {
    return over(
      "limit-pending-per-domain",
      "too many pending requests from your domain to this node",
    );
  }
  if (c.pendingOnNode >= limits.maxPendingPerNode) {
    return over("limit-pending-per-node", "this node has too many pending requests");
  }
  return undefined;
}

/** Whether a pending request created at `createdAt` has expired at `now`. */
export function isPendingExpired(createdAt: number, now: number, limits: AbuseLimits): boolean {
  return now - createdAt >= limits.pendingTtlMs;
}

/** Whether requests from `domain` are exempt from the per-domain abuse limits. */
export function isLimitExempt(domain: string, policy: ServicePolicy): boolean {
  return isLocalDomain(domain, policy) || (policy.trustedDomains ?? []).includes(domain);
}

/** Whether `domain` is one of the users domains (local) rather than remote. */
export function isLocalDomain(domain: string, policy: ServicePolicy): boolean {
  return policy.usersDomains.includes(domain);
}
