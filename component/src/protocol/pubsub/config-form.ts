/**
 * Node configuration forms (XEP-0060 §8.2, §8.3, §7.1.5) ↔ the domain's NodeConfig.
 * Field parsing and validation are the domain's (parseConfigFields); here: FORM_TYPE checks and
 * the one XEP-0060 condition the domain leaves out (unsupported-access-model, §8.1.2).
 */
import type { DataForm } from "../../../../schemas/src/data-form.js";
import { nodeConfigToForm } from "../../../../schemas/src/node-config.js";
import { NS_PUBSUB_NODE_CONFIG, NS_PUBSUB_PUBLISH_OPTIONS } from "../../../../schemas/src/ns.js";
import { parseConfigFields } from "../../domain/node-config.js";
import { ACCESS_MODELS, type AccessModel, type NodeConfig } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";

const FORM_TYPES = {
  configure: NS_PUBSUB_NODE_CONFIG,
  "publish-options": NS_PUBSUB_PUBLISH_OPTIONS,
} as const;

/**
 * The configuration changes a submitted form asks for. "configure": a node_config form
 * (create-and-configure, configure); unknown fields are ignored. "publish-options": every field is
 * a precondition; a value the node cannot have is conflict + precondition-not-met.
 */
export function readConfigForm(
  form: DataForm,
  mode: "configure" | "publish-options",
  maxItemsCeiling: number,
): Partial<NodeConfig> {
  const expected = FORM_TYPES[mode];
  // XEP-0004 §3.1: only a "submit" form (or "cancel", handled by the caller) answers a form.
  if (form.type !== "submit") {
    throw new StanzaError(
      "bad-request",
      `submit the configuration as a form of type 'submit', not '${form.type}'`,
    );
  }
  if (form.formType !== undefined && form.formType !== expected) {
    throw new StanzaError(
      "bad-request",
      `the form's FORM_TYPE must be ${expected}, not ${form.formType}`,
    );
  }
  const fields: Record<string, string[]> = {};
  for (const f of form.fields) if (f.var) fields[f.var] = f.values;
  const access = fields["pubsub#access_model"]?.join("").trim();
  if (mode === "configure" && access && !ACCESS_MODELS.includes(access as AccessModel)) {
    throw new StanzaError(
      "not-acceptable",
      `the access model "${access}" is not supported (${ACCESS_MODELS.join(", ")})`,
      "unsupported-access-model",
    );
  }
  return parseConfigFields(fields, mode, maxItemsCeiling);
}

/** The §8.2 configure form (type "form": labels, types, options) or a result form for events. */
export function configToForm(config: NodeConfig, type: "form" | "result" = "form"): DataForm {
  return nodeConfigToForm(config, type);
}
