/**
 * Node configuration: validation, changes, and the pubsub#… field names of XEP-0060 §16.4.4
 * (the data form itself is built and parsed by the protocol layer; here fields are strings).
 */
import { PubsubError } from "./errors.js";
import {
  ACCESS_MODELS,
  type NodeConfig,
  PUBLISH_MODELS,
  SEND_LAST_PUBLISHED_ITEM_VALUES,
} from "./types.js";

type Key = keyof NodeConfig;

interface FieldSpec {
  key: Key;
  kind: "boolean" | "text" | "max-items" | "list";
  options?: readonly string[];
}

/** pubsub#… form field → configuration key, with the kind of value it takes. */
export const CONFIG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  "pubsub#access_model": { key: "accessModel", kind: "list", options: ACCESS_MODELS },
  "pubsub#max_items": { key: "maxItems", kind: "max-items" },
  "pubsub#title": { key: "title", kind: "text" },
  "pubsub#notify_retract": { key: "notifyRetract", kind: "boolean" },
  "pubsub#notify_delete": { key: "notifyDelete", kind: "boolean" },
  "pubsub#notify_sub": { key: "notifySub", kind: "boolean" },
  "pubsub#notify_config": { key: "notifyConfig", kind: "boolean" },
  "pubsub#send_last_published_item": {
    key: "sendLastPublishedItem",
    kind: "list",
    options: SEND_LAST_PUBLISHED_ITEM_VALUES,
  },
  "pubsub#include_body": { key: "includeBody", kind: "boolean" },
  "pubsub#deliver_payloads": { key: "deliverPayloads", kind: "boolean" },
  "pubsub#publish_model": { key: "publishModel", kind: "list", options: PUBLISH_MODELS },
};

/** Fields Warble does not store but accepts with their one supported value. */
const FIXED_FIELDS: Readonly<Record<string, string>> = {
  "pubsub#persist_items": "true",
  "pubsub#deliver_notifications": "true",
};

const TITLE_MAX = 200;

function notAcceptable(text: string): PubsubError {
  return new PubsubError("not-acceptable", { text });
}

function parseBoolean(value: string): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

/**
 * Check every value of `changes` (e.g. accessModel is one of the supported models, maxItems an
 * integer in 1..ceiling). Throws not-acceptable naming the bad value.
 */
export function validateConfigChanges(changes: Partial<NodeConfig>, maxItemsCeiling: number): void {
  const c = changes;
  if (c.accessModel !== undefined && !ACCESS_MODELS.includes(c.accessModel)) {
    throw notAcceptable(`unsupported access model "${c.accessModel}"`);
  }
  if (c.publishModel !== undefined && !PUBLISH_MODELS.includes(c.publishModel)) {
    throw notAcceptable(`unsupported publish model "${c.publishModel}"`);
  }
  if (
    c.sendLastPublishedItem !== undefined &&
    !SEND_LAST_PUBLISHED_ITEM_VALUES.includes(c.sendLastPublishedItem)
  ) {
    throw notAcceptable(`unsupported send_last_published_item "${c.sendLastPublishedItem}"`);
  }
  if (
    c.maxItems !== undefined &&
    (!Number.isInteger(c.maxItems) || c.maxItems < 1 || c.maxItems > maxItemsCeiling)
  ) {
    throw notAcceptable(`max_items must be a whole number from 1 to ${maxItemsCeiling}`);
  }
  if (c.title !== undefined && (typeof c.title !== "string" || c.title.length > TITLE_MAX)) {
    throw notAcceptable(`the title must be text of at most ${TITLE_MAX} characters`);
  }
  for (const [field, spec] of Object.entries(CONFIG_FIELDS)) {
    const v = c[spec.key];
    if (spec.kind === "boolean" && v !== undefined && typeof v !== "boolean") {
      throw notAcceptable(`${field} must be a boolean`);
    }
  }
}

function parseField(field: string, spec: FieldSpec, value: string, ceiling: number): unknown {
  switch (spec.kind) {
    case "boolean": {
      const b = parseBoolean(value);
      if (b === undefined) throw notAcceptable(`${field} must be a boolean, not "${value}"`);
      return b;
    }
    case "max-items":
      if (value === "max") return ceiling;
      if (!/^\d+$/.test(value)) throw notAcceptable(`${field} must be a number, not "${value}"`);
      return Number.parseInt(value, 10);
    case "list":
      if (!spec.options?.includes(value)) throw notAcceptable(`unsupported ${field} "${value}"`);
      return value;
    case "text":
      return value;
  }
}

/**
 * Turn submitted form fields (var → value or values) into configuration changes, validated.
 * FORM_TYPE is skipped. Unknown fields: ignored for "configure" (XEP-0004 forms may carry more
 * than we offer), refused for "publish-options" (XEP-0060 §7.1.5: MUST reject). In the
 * publish-options mode every refusal is conflict + precondition-not-met.
 */
export function parseConfigFields(
  fields: Readonly<Record<string, string | readonly string[]>>,
  mode: "configure" | "publish-options",
  maxItemsCeiling: number,
): Partial<NodeConfig> {
  try {
    const changes: Record<string, unknown> = {};
    for (const [field, raw] of Object.entries(fields)) {
      if (field === "FORM_TYPE") continue;
      const value = (typeof raw === "string" ? raw : raw.join("\n")).trim();
      const spec = CONFIG_FIELDS[field];
      if (spec) {
        changes[spec.key] = parseField(field, spec, value, maxItemsCeiling);
      } else if (FIXED_FIELDS[field] !== undefined) {
        if (parseBoolean(value) !== (FIXED_FIELDS[field] === "true")) {
          throw notAcceptable(`${field} cannot be changed`);
        }
      } else if (mode === "publish-options") {
        throw notAcceptable(`unknown field ${field}`);
      }
    }
    const parsed = changes as Partial<NodeConfig>;
    validateConfigChanges(parsed, maxItemsCeiling);
    return parsed;
  } catch (err) {
    if (mode === "publish-options" && err instanceof PubsubError) {
      throw new PubsubError("conflict", {
        pubsubCondition: "precondition-not-met",
        ...(err.text ? { text: err.text } : {}),
      });
    }
    throw err;
  }
}

/** The configuration as form field values (var → values), e.g. for the configure form. */
export function formatConfigFields(config: NodeConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [field, spec] of Object.entries(CONFIG_FIELDS)) {
    const v = config[spec.key];
    out[field] = [typeof v === "boolean" ? (v ? "1" : "0") : String(v)];
  }
  for (const [field, value] of Object.entries(FIXED_FIELDS))
    out[field] = [value === "true" ? "1" : "0"];
  return out;
}

/** Keys whose precondition value differs from the configuration. */
export function unmetPreconditions(config: NodeConfig, preconditions: Partial<NodeConfig>): Key[] {
  return (Object.keys(preconditions) as Key[]).filter((k) => preconditions[k] !== config[k]);
}
