/**
 * XEP-0004 data forms with the XEP-0068 FORM_TYPE convention.
 * The FORM_TYPE field stays in `fields` (so forms round-trip exactly) and is also read into `formType`.
 */
import { WireError } from "./errors.js";
import { NS_DATA_FORMS } from "./ns.js";
import { type Element, xml } from "./xml.js";

export type DataFormType = "form" | "submit" | "result" | "cancel";
export type DataFieldType =
  | "boolean"
  | "fixed"
  | "hidden"
  | "jid-multi"
  | "jid-single"
  | "list-multi"
  | "list-single"
  | "text-multi"
  | "text-private"
  | "text-single";

export interface DataFieldOption {
  value: string;
  label?: string;
}

export interface DataField {
  var?: string;
  type?: DataFieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  values: string[];
  options?: DataFieldOption[];
}

export interface DataForm {
  type: DataFormType;
  /** The XEP-0068 FORM_TYPE; on build, added as a hidden field when `fields` has none. */
  formType?: string;
  title?: string;
  instructions?: string[];
  fields: DataField[];
  /** XEP-0004 §3.4 a table: the columns (<reported/>), then one row of fields per <item/>. */
  reported?: DataField[];
  items?: DataField[][];
}

/** A data form that cannot be read, or a field whose value is not what the form type says. */
export class DataFormError extends WireError {
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(message, "bad-request");
    this.name = "DataFormError";
    if (field !== undefined) this.field = field;
  }
}

const FORM_TYPES = new Set<string>(["form", "submit", "result", "cancel"]);
const FIELD_TYPES = new Set<string>([
  "boolean",
  "fixed",
  "hidden",
  "jid-multi",
  "jid-single",
  "list-multi",
  "list-single",
  "text-multi",
  "text-private",
  "text-single",
]);

/** Read an `<x xmlns='jabber:x:data'/>`. */
export function parseDataForm(x: Element): DataForm {
  if (!x.is("x", NS_DATA_FORMS))
    throw new DataFormError(`Expected a jabber:x:data <x/>, got <${x.name}/>.`);
  const type = x.attrs.type ?? "";
  if (!FORM_TYPES.has(type)) throw new DataFormError(`Unknown data form type '${type}'.`);
  const form: DataForm = { type: type as DataFormType, fields: [] };
  const title = x.getChildText("title");
  if (title !== null) form.title = title.trim();
  const instructions = x.getChildren("instructions").map((i) => i.getText().trim());
  if (instructions.length > 0) form.instructions = instructions;
  form.fields = x.getChildren("field").map(parseField);
  const reported = x.getChild("reported");
  if (reported) form.reported = reported.getChildren("field").map(parseField);
  const items = x.getChildren("item").map((i) => i.getChildren("field").map(parseField));
  if (items.length > 0) form.items = items;
  const formType = form.fields.find((f) => f.var === "FORM_TYPE")?.values[0];
  if (formType !== undefined) form.formType = formType;
  return form;
}

function parseField(el: Element): DataField {
  const field: DataField = { values: el.getChildren("value").map((v) => v.getText().trim()) };
  const { var: name, type, label } = el.attrs;
  if (name !== undefined) field.var = name;
  if (type !== undefined) {
    if (!FIELD_TYPES.has(type))
      throw new DataFormError(`Field '${name}' has unknown type '${type}'.`, name);
    field.type = type as DataFieldType;
  }
  if (label !== undefined) field.label = label;
  const desc = el.getChildText("desc");
  if (desc !== null) field.desc = desc;
  if (el.getChild("required")) field.required = true;
  const options = el.getChildren("option").map(parseOption);
  if (options.length > 0) field.options = options;
  return field;
}

function parseOption(el: Element): DataFieldOption {
  const option: DataFieldOption = { value: (el.getChildText("value") ?? "").trim() };
  if (el.attrs.label !== undefined) option.label = el.attrs.label;
  return option;
}

/** Build the `<x/>` element of a form. */
export function buildDataForm(form: DataForm): Element {
  const hasFormType = form.fields.some((f) => f.var === "FORM_TYPE");
  const formTypeField: DataField | undefined =
    form.formType !== undefined && !hasFormType
      ? { var: "FORM_TYPE", type: "hidden", values: [form.formType] }
      : undefined;
  return xml(
    "x",
    { xmlns: NS_DATA_FORMS, type: form.type },
    form.title !== undefined && xml("title", null, form.title),
    (form.instructions ?? []).map((i) => xml("instructions", null, i)),
    formTypeField && buildField(formTypeField),
    form.fields.map(buildField),
    form.reported && xml("reported", null, form.reported.map(buildField)),
    (form.items ?? []).map((row) => xml("item", null, row.map(buildField))),
  );
}

function buildField(field: DataField): Element {
  return xml(
    "field",
    { var: field.var, type: field.type, label: field.label },
    field.desc !== undefined && xml("desc", null, field.desc),
    field.required && xml("required"),
    field.values.map((v) => xml("value", null, v)),
    (field.options ?? []).map((o) =>
      xml("option", { label: o.label }, xml("value", null, o.value)),
    ),
  );
}

/** The data form child of `parent` (with the given FORM_TYPE when one is asked for). */
export function findDataForm(parent: Element, formType?: string): Element | undefined {
  return parent
    .getChildren("x", NS_DATA_FORMS)
    .find((x) => formType === undefined || parseDataForm(x).formType === formType);
}

export function getField(form: DataForm, name: string): DataField | undefined {
  return form.fields.find((f) => f.var === name);
}

/** The field's first value; undefined when the field is absent. */
export function getFieldString(form: DataForm, name: string): string | undefined {
  return getField(form, name)?.values[0];
}

/** All values of the field; undefined when the field is absent. */
export function getFieldList(form: DataForm, name: string): string[] | undefined {
  return getField(form, name)?.values;
}

/** XEP-0004 boolean: "1"/"true" → true, "0"/"false" → false; anything else is a DataFormError. */
export function getFieldBoolean(form: DataForm, name: string): boolean | undefined {
  const value = getFieldString(form, name);
  if (value === undefined) return undefined;
  return parseBoolean(value, name);
}

export function parseBoolean(value: string, field?: string): boolean {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  throw new DataFormError(
    `Field '${field ?? "?"}' must be a boolean (1/true/0/false), not '${value}'.`,
    field,
  );
}

/** An integer field; a non-integer value is a DataFormError. */
export function getFieldNumber(form: DataForm, name: string): number | undefined {
  const value = getFieldString(form, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new DataFormError(`Field '${name}' must be an integer, not '${value}'.`, name);
  return Number(value);
}

/** Build a field concisely: field("pubsub#title", "Blog", { type: "text-single" }). */
export function field(
  name: string,
  value: string | boolean | number | string[] | undefined,
  extra: Omit<DataField, "var" | "values"> = {},
): DataField {
  const values =
    value === undefined
      ? []
      : Array.isArray(value)
        ? value
        : [typeof value === "boolean" ? (value ? "1" : "0") : String(value)];
  return { var: name, values, ...extra };
}
