/**
 * Subscription options forms (XEP-0060 §6.3, §6.4; FORM_TYPE pubsub#subscribe_options) ↔ the
 * domain's SubscriptionOptions. Field parsing and validation are the domain's
 * (parseSubscriptionOptionFields); here: the FORM_TYPE and the form's type.
 */
import type { DataForm } from "../../../../schemas/src/data-form.js";
import { NS_PUBSUB_SUBSCRIBE_OPTIONS } from "../../../../schemas/src/ns.js";
import { subscribeOptionsToForm } from "../../../../schemas/src/subscribe-options.js";
import {
  parseSubscriptionOptionFields,
  type SubscriptionOptions,
} from "../../domain/subscription-options.js";
import { StanzaError } from "../stanza-error.js";

function invalidOptions(text: string): StanzaError {
  return new StanzaError("bad-request", text, "invalid-options");
}

/**
 * The options a submitted form sets (§6.3.5, §6.3.7). A cancelled form sets nothing. Another
 * FORM_TYPE, a form that is not submitted, or a field Warble cannot honour is bad-request +
 * invalid-options (§6.3.6).
 */
export function readOptionsForm(form: DataForm): Partial<SubscriptionOptions> {
  if (form.type === "cancel") return {};
  if (form.formType !== undefined && form.formType !== NS_PUBSUB_SUBSCRIBE_OPTIONS) {
    throw invalidOptions(
      `the form's FORM_TYPE must be ${NS_PUBSUB_SUBSCRIBE_OPTIONS}, not ${form.formType}`,
    );
  }
  if (form.type !== "submit") {
    throw invalidOptions(`submit the options as a form of type 'submit', not '${form.type}'`);
  }
  const fields: Record<string, string[]> = {};
  for (const f of form.fields) if (f.var) fields[f.var] = f.values;
  return parseSubscriptionOptionFields(fields);
}

/** The §6.3.2 options form (type "form": types and labels) or a result form (§6.3.7, §6.4.2). */
export function optionsToForm(
  options: SubscriptionOptions,
  type: "form" | "result" = "form",
): DataForm {
  return subscribeOptionsToForm(options, type);
}
