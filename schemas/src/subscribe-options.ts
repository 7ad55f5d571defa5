/**
 * The XEP-0060 subscription options form (FORM_TYPE http://jabber.org/protocol/pubsub#subscribe_options,
 * §6.3, §6.4, registry §16.4.3) for the options Warble offers: pubsub#deliver and
 * pubsub#include_body. Built here; submitted forms are read by the component (the domain
 * validates the fields) and by the CLI with parseSubscribeOptionsForm.
 */
import {
  type DataField,
  type DataForm,
  DataFormError,
  getField,
  parseBoolean,
} from "./data-form.js";
import { NS_PUBSUB_SUBSCRIBE_OPTIONS } from "./ns.js";

export interface SubscribeOptionsValues {
  /** pubsub#deliver */
  deliver: boolean;
  /** pubsub#include_body */
  includeBody: boolean;
}

const FIELDS: ReadonlyArray<{ key: keyof SubscribeOptionsValues; var: string; label: string }> = [
  { key: "deliver", var: "pubsub#deliver", label: "Enable delivery?" },
  {
    key: "includeBody",
    var: "pubsub#include_body",
    label: "Receive message body in addition to payload?",
  },
];

/**
 * The form for (possibly partial) options. Type "form" (§6.3.2) adds field types and labels;
 * "result" (§6.3.7, §6.4.2) and "submit" carry only var and values.
 */
export function subscribeOptionsToForm(
  values: Partial<SubscribeOptionsValues>,
  type: DataForm["type"] = "form",
): DataForm {
  const fields: DataField[] = [
    { var: "FORM_TYPE", type: "hidden", values: [NS_PUBSUB_SUBSCRIBE_OPTIONS] },
  ];
  for (const spec of FIELDS) {
    const value = values[spec.key];
    if (value === undefined) continue;
    const v = [value ? "1" : "0"];
    fields.push(
      type === "form"
        ? { var: spec.var, type: "boolean", label: spec.label, values: v }
        : { var: spec.var, values: v },
    );
  }
  return { type, fields };
}

/**
 * Read the options Warble knows from a subscribe_options form (other fields are skipped). A
 * FORM_TYPE other than pubsub#subscribe_options, or a value that is not a boolean, is a
 * DataFormError (bad-request).
 */
export function parseSubscribeOptionsForm(form: DataForm): Partial<SubscribeOptionsValues> {
  if (form.formType !== undefined && form.formType !== NS_PUBSUB_SUBSCRIBE_OPTIONS) {
    throw new DataFormError(
      `Expected a ${NS_PUBSUB_SUBSCRIBE_OPTIONS} form, got FORM_TYPE '${form.formType}'.`,
    );
  }
  const values: Partial<SubscribeOptionsValues> = {};
  for (const spec of FIELDS) {
    const field = getField(form, spec.var);
    if (field === undefined) continue;
    values[spec.key] = parseBoolean(field.values[0] ?? "", spec.var);
  }
  return values;
}
