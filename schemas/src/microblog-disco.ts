/**
 * Finding microblogs by XEP-0030: the XEP-0128 form a Warble adds to its disco#info (FORM_TYPE
 * urn:xmpp:warble:0, field users-domains), and readers of disco#info and disco#items answers,
 * for the component (following a@E) and the CLI (finding the component).
 */
import { buildDataForm, type DataForm, parseDataForm } from "./data-form.js";
import { NS_DATA_FORMS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MICROBLOG } from "./ns.js";
import { type Element, xml } from "./xml.js";

export const NS_WARBLE = "urn:xmpp:warble:0";

export interface DiscoInfo {
  identities: { category: string; type: string; name?: string }[];
  features: string[];
  forms: DataForm[];
}

export interface DiscoItem {
  jid: string;
  node?: string;
  name?: string;
}

/** The XEP-0128 extension of a Warble's disco#info. */
export function buildWarbleInfoForm(usersDomains: readonly string[]): Element {
  return buildDataForm({
    type: "result",
    formType: NS_WARBLE,
    fields: [{ var: "users-domains", type: "text-multi", values: [...usersDomains] }],
  });
}

export function buildDiscoInfoQuery(node?: string): Element {
  return xml("query", { xmlns: NS_DISCO_INFO, node });
}

export function buildDiscoItemsQuery(node?: string): Element {
  return xml("query", { xmlns: NS_DISCO_ITEMS, node });
}

/** Read a disco#info answer; forms that cannot be read are skipped (written by anybody). */
export function parseDiscoInfo(query: Element | undefined): DiscoInfo {
  const info: DiscoInfo = { identities: [], features: [], forms: [] };
  if (!query || query.attrs.xmlns !== NS_DISCO_INFO) return info;
  for (const el of query.getChildren("identity")) {
    const { category, type, name } = el.attrs;
    if (typeof category === "string" && typeof type === "string") {
      info.identities.push(
        typeof name === "string" ? { category, type, name } : { category, type },
      );
    }
  }
  for (const el of query.getChildren("feature")) {
    if (typeof el.attrs.var === "string") info.features.push(el.attrs.var);
  }
  for (const el of query.getChildren("x", NS_DATA_FORMS)) {
    try {
      info.forms.push(parseDataForm(el));
    } catch {
      // Not a readable form: ignored, like any other extension we do not know.
    }
  }
  return info;
}

export function parseDiscoItems(query: Element | undefined, max = 100): DiscoItem[] {
  if (!query || query.attrs.xmlns !== NS_DISCO_ITEMS) return [];
  const items: DiscoItem[] = [];
  for (const el of query.getChildren("item").slice(0, max)) {
    const { jid, node, name } = el.attrs;
    if (typeof jid !== "string" || jid === "") continue;
    const item: DiscoItem = { jid };
    if (typeof node === "string") item.node = node;
    if (typeof name === "string") item.name = name;
    items.push(item);
  }
  return items;
}

/** The users domains a Warble's disco#info declares; undefined when it is not a Warble. */
export function warbleUsersDomains(info: DiscoInfo): string[] | undefined {
  if (!info.features.includes(NS_MICROBLOG)) return undefined;
  const form = info.forms.find((f) => f.formType === NS_WARBLE);
  const field = form?.fields.find((f) => f.var === "users-domains");
  if (!field) return undefined;
  return field.values
    .flatMap((v) => v.split(/[\s,]+/))
    .filter((d) => d !== "")
    .map((d) => d.toLowerCase());
}
