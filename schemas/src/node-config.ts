/**
 * The XEP-0060 node configuration form (FORM_TYPE http://jabber.org/protocol/pubsub#node_config)
 * mapped to a plain config object. The domain keeps its own equivalent type; the protocol layer converts.
 */
import {
  buildDataForm,
  type DataField,
  type DataForm,
  DataFormError,
  getField,
  parseBoolean,
  parseDataForm,
} from "./data-form.js";
import { WireError } from "./errors.js";
import { NS_PUBSUB_NODE_CONFIG } from "./ns.js";
import type { Element } from "./xml.js";

export type ConfigAccessModel = "open" | "authorize" | "whitelist";
export type ConfigSendLastPublishedItem = "never" | "on_sub" | "on_sub_and_presence";
export type ConfigPublishModel = "publishers" | "subscribers" | "open";

export interface NodeConfigValues {
  accessModel: ConfigAccessModel;
  /** pubsub#max_items: an integer, or "max" (XEP-0060 integer-or-max: the service maximum). */
  maxItems: number | "max";
  title: string;
  notifyRetract: boolean;
  notifyDelete: boolean;
  notifySub: boolean;
  notifyConfig: boolean;
  sendLastPublishedItem: ConfigSendLastPublishedItem;
  includeBody: boolean;
  deliverPayloads: boolean;
  publishModel?: ConfigPublishModel;
}

/** A submitted value the node cannot take; names the field. The caller answers not-acceptable. */
export class NodeConfigError extends WireError {
  readonly field: string;
  constructor(message: string, field: string, pubsubCondition?: "unsupported-access-model") {
    super(message, "not-acceptable", pubsubCondition);
    this.name = "NodeConfigError";
    this.field = field;
  }
}

type Key = keyof NodeConfigValues;
type Kind = "boolean" | "text" | "max-items" | readonly string[];

interface FieldSpec {
  key: Key;
  var: string;
  label: string;
  kind: Kind;
}

const ACCESS_MODELS = ["open", "authorize", "whitelist"] as const;
const SEND_LAST = ["never", "on_sub", "on_sub_and_presence"] as const;
const PUBLISH_MODELS = ["publishers", "subscribers", "open"] as const;

/** One row per supported field, in form order. */
const FIELDS: readonly FieldSpec[] = [
  { key: "title", var: "pubsub#title", label: "A friendly name for the node", kind: "text" },
  {
    key: "accessModel",
    var: "pubsub#access_model",
    label: "Who may subscribe and retrieve items",
    kind: ACCESS_MODELS,
  },
  {
    key: "maxItems",
    var: "pubsub#max_items",
    label: "Max # of items to persist",
    kind: "max-items",
  },
  {
    key: "deliverPayloads",
    var: "pubsub#deliver_payloads",
    label: "Deliver payloads with event notifications",
    kind: "boolean",
  },
  {
    key: "includeBody",
    var: "pubsub#include_body",
    label: "Add a readable message body to notifications",
    kind: "boolean",
  },
  {
    key: "notifyConfig",
    var: "pubsub#notify_config",
    label: "Notify subscribers when the node configuration changes",
    kind: "boolean",
  },
  {
    key: "notifyDelete",
    var: "pubsub#notify_delete",
    label: "Notify subscribers when the node is deleted",
    kind: "boolean",
  },
  {
    key: "notifyRetract",
    var: "pubsub#notify_retract",
    label: "Notify subscribers when items are removed from the node",
    kind: "boolean",
  },
  {
    key: "notifySub",
    var: "pubsub#notify_sub",
    label: "Notify owners about new subscribers and unsubscribes",
    kind: "boolean",
  },
  {
    key: "sendLastPublishedItem",
    var: "pubsub#send_last_published_item",
    label: "When to send the last published item",
    kind: SEND_LAST,
  },
  {
    key: "publishModel",
    var: "pubsub#publish_model",
    label: "Specify the publisher model",
    kind: PUBLISH_MODELS,
  },
];

/**
 * The form for a (possibly partial) config. type "form" adds field types, labels and options
 * (what a configure get answers); "submit" / "result" carry only var and values.
 */
export function nodeConfigToForm(
  config: Partial<NodeConfigValues>,
  type: DataForm["type"] = "form",
): DataForm {
  const fields: DataField[] = [
    { var: "FORM_TYPE", type: "hidden", values: [NS_PUBSUB_NODE_CONFIG] },
  ];
  for (const spec of FIELDS) {
    const value = config[spec.key];
    if (value === undefined) continue;
    const values = [typeof value === "boolean" ? (value ? "1" : "0") : String(value)];
    fields.push(type === "form" ? { ...describeField(spec), values } : { var: spec.var, values });
  }
  return { type, fields };
}

function describeField(spec: FieldSpec): Omit<DataField, "values"> {
  const base = { var: spec.var, label: spec.label };
  if (spec.kind === "boolean") return { ...base, type: "boolean" };
  if (spec.kind === "text" || spec.kind === "max-items") return { ...base, type: "text-single" };
  return { ...base, type: "list-single", options: spec.kind.map((value) => ({ value })) };
}

export function buildNodeConfigForm(
  config: Partial<NodeConfigValues>,
  type: DataForm["type"] = "form",
): Element {
  return buildDataForm(nodeConfigToForm(config, type));
}

/**
 * Read a node configuration form: only the supported fields that are present (unknown fields are
 * ignored). A value outside a field's range is a NodeConfigError naming the field; a FORM_TYPE
 * other than pubsub#node_config is a DataFormError (bad-request). A cancelled form reads as {}.
 */
export function parseNodeConfigForm(formOrElement: DataForm | Element): Partial<NodeConfigValues> {
  const form = "fields" in formOrElement ? formOrElement : parseDataForm(formOrElement);
  if (form.formType !== undefined && form.formType !== NS_PUBSUB_NODE_CONFIG) {
    throw new DataFormError(
      `Expected a ${NS_PUBSUB_NODE_CONFIG} form, got FORM_TYPE '${form.formType}'.`,
    );
  }
  const config: Record<string, unknown> = {};
  if (form.type === "cancel") return {};
  for (const spec of FIELDS) {
    const field = getField(form, spec.var);
    if (field === undefined) continue;
    config[spec.key] = readValue(spec, field.values[0] ?? "");
  }
  return config as Partial<NodeConfigValues>;
}

function readValue(spec: FieldSpec, raw: string): string | number | boolean {
  if (spec.kind === "text") return raw;
  if (spec.kind === "boolean") {
    try {
      return parseBoolean(raw, spec.var);
    } catch {
      throw new NodeConfigError(
        `${spec.var} must be a boolean (1/true/0/false), not '${raw}'.`,
        spec.var,
      );
    }
  }
  if (spec.kind === "max-items") return readMaxItems(raw);
  if (spec.kind.includes(raw)) return raw;
  const allowed = spec.kind.join(", ");
  const pubsub = spec.key === "accessModel" ? "unsupported-access-model" : undefined;
  throw new NodeConfigError(
    `${spec.var} must be one of ${allowed}; '${raw}' is not supported.`,
    spec.var,
    pubsub,
  );
}

function readMaxItems(raw: string): number | "max" {
  if (raw === "max") return "max";
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new NodeConfigError(
      `pubsub#max_items must be a non-negative integer or 'max', not '${raw}'.`,
      "pubsub#max_items",
    );
  }
  return Number(raw);
}
