/**
 * Subscription options (XEP-0060 §6.3, §6.4; FORM_TYPE pubsub#subscribe_options): what one
 * subscriber wants of its notifications. Warble offers two:
 *   - pubsub#deliver: whether the subscription gets notifications at all;
 *   - pubsub#include_body: whether item notifications carry a readable <body>; when the
 *     subscriber has not chosen, the node's pubsub#include_body decides.
 * The store keeps only what the subscriber chose, as `Subscription.options` (field var → "1"/"0").
 *
 * The other fields of the §16.4.3 registry are accepted only where they ask for what Warble does
 * anyway (no digests, no leases, item notifications of a leaf node); pubsub#show-values is accepted
 * and not used (notifications are sent whatever the subscriber's presence). Fields outside the
 * registry, and values Warble cannot honour, are bad-request + invalid-options (§6.3.6).
 */
import { PubsubError } from "./errors.js";
import type { NodeConfig, Subscription } from "./types.js";

export interface SubscriptionOptions {
  /** pubsub#deliver: receive notifications. */
  deliver: boolean;
  /** pubsub#include_body: a readable <body> in item notifications. */
  includeBody: boolean;
}

/** The form fields Warble offers, in form order, with the option each one sets. */
export const SUBSCRIPTION_OPTION_FIELDS: Readonly<Record<string, keyof SubscriptionOptions>> = {
  "pubsub#deliver": "deliver",
  "pubsub#include_body": "includeBody",
};

const SHOW_VALUES: readonly string[] = ["away", "chat", "dnd", "online", "xa"];

/**
 * Registry fields Warble does not store: a check of the submitted values (true = acceptable).
 * pubsub#digest_frequency and pubsub#subscription_depth mean nothing without digests and
 * collections; pubsub#show-values is not used (see above).
 */
const ACCEPTED_FIELDS: Readonly<Record<string, (values: readonly string[]) => boolean>> = {
  "pubsub#digest": (v) => v.length === 1 && parseBoolean(v[0] ?? "") === false,
  "pubsub#digest_frequency": (v) => v.every((x) => /^\d*$/.test(x)),
  "pubsub#expire": (v) => v.every((x) => x === ""),
  "pubsub#show-values": (v) => v.every((x) => SHOW_VALUES.includes(x)),
  "pubsub#subscription_type": (v) => v.length === 1 && v[0] === "items",
  "pubsub#subscription_depth": (v) => v.length === 1 && (v[0] === "1" || v[0] === "all"),
};

function invalidOptions(text: string): PubsubError {
  return new PubsubError("bad-request", { pubsubCondition: "invalid-options", text });
}

function parseBoolean(value: string): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

/**
 * Warble's own mark in the stored options, not a form field: the subscription was asked for by
 * a roster subscription (an IM client adding u@C). Its notifications are chat messages, which
 * servers keep for an offline user; a pubsub subscriber's are headlines.
 */
const BY_PRESENCE = "warble#presence";

export const byPresence = (sub: Subscription): boolean => sub.options?.[BY_PRESENCE] === "1";

/** The subscription marked as asked for by presence. */
export function markedByPresence(sub: Subscription): Subscription {
  return byPresence(sub) ? sub : { ...sub, options: { ...sub.options, [BY_PRESENCE]: "1" } };
}

/** The defaults of a subscription to a node with this configuration (§6.4). */
export function defaultSubscriptionOptions(config: NodeConfig): SubscriptionOptions {
  return { deliver: true, includeBody: config.includeBody };
}

/** What the subscriber chose (only the options it set), read from the stored options. */
export function chosenOptions(sub: Subscription): Partial<SubscriptionOptions> {
  const chosen: Partial<SubscriptionOptions> = {};
  for (const [field, key] of Object.entries(SUBSCRIPTION_OPTION_FIELDS)) {
    const value = parseBoolean(sub.options?.[field] ?? "");
    if (value !== undefined) chosen[key] = value;
  }
  return chosen;
}

/** The options in force: the subscriber's choices over the node's defaults. */
export function effectiveOptions(sub: Subscription, config: NodeConfig): SubscriptionOptions {
  return { ...defaultSubscriptionOptions(config), ...chosenOptions(sub) };
}

/** Every value is a boolean and every key an option; else bad-request + invalid-options. */
export function validateSubscriptionOptions(options: Partial<SubscriptionOptions>): void {
  const keys: readonly string[] = Object.values(SUBSCRIPTION_OPTION_FIELDS);
  for (const [key, value] of Object.entries(options)) {
    if (!keys.includes(key)) throw invalidOptions(`unknown subscription option ${key}`);
    if (value !== undefined && typeof value !== "boolean") {
      throw invalidOptions(`the subscription option ${key} must be a boolean`);
    }
  }
}

/** The stored options after applying `changes` to what `sub` had. */
export function withOptions(
  sub: Subscription,
  changes: Partial<SubscriptionOptions>,
): Subscription {
  const stored: Record<string, string> = { ...sub.options };
  for (const [field, key] of Object.entries(SUBSCRIPTION_OPTION_FIELDS)) {
    const value = changes[key];
    if (value !== undefined) stored[field] = value ? "1" : "0";
  }
  return Object.keys(stored).length === 0 ? sub : { ...sub, options: stored };
}

/**
 * Submitted pubsub#subscribe_options fields (var → values; FORM_TYPE is skipped) → the options
 * they set. Throws bad-request + invalid-options naming the field.
 */
export function parseSubscriptionOptionFields(
  fields: Readonly<Record<string, readonly string[]>>,
): Partial<SubscriptionOptions> {
  const options: Partial<SubscriptionOptions> = {};
  for (const [field, raw] of Object.entries(fields)) {
    if (field === "FORM_TYPE") continue;
    const values = raw.map((v) => v.trim());
    const key = SUBSCRIPTION_OPTION_FIELDS[field];
    if (key) {
      const value = values.length === 1 ? parseBoolean(values[0] ?? "") : undefined;
      if (value === undefined) {
        throw invalidOptions(`${field} must be a boolean (1/true/0/false)`);
      }
      options[key] = value;
      continue;
    }
    const accepts = ACCEPTED_FIELDS[field];
    if (!accepts) throw invalidOptions(`${field} is not a subscription option here`);
    if (!accepts(values)) {
      throw invalidOptions(`${field} cannot be "${values.join(" ")}" here`);
    }
  }
  return options;
}
