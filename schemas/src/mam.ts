/**
 * XEP-0313 Message Archive Management, the querying part (§4): the `<query/>` a client sends
 * (filter form + RSM), the result messages (XEP-0297 `<forwarded/>` with a XEP-0203 `<delay/>`),
 * the closing `<fin/>`, and the form that answers an IQ get for the query fields (§4.1.5).
 * Only the mandatory fields (FORM_TYPE, start, end, with) are understood: Warble does not
 * advertise urn:xmpp:mam:2#extended, so before-id / after-id / ids / include-groupchat and any
 * custom field are refused (feature-not-implemented, §4.1.5); `<flip-page/>` is ignored.
 */
import { clone } from "ltx";
import { buildDataForm, type DataField, type DataForm, parseDataForm } from "./data-form.js";
import { type StanzaErrorCondition, WireError } from "./errors.js";
import { NS_DATA_FORMS, NS_DELAY, NS_FORWARD, NS_MAM } from "./ns.js";
import {
  buildRsmRequest,
  buildRsmResponse,
  findRsmSet,
  parseRsmRequest,
  parseRsmResponse,
  type RsmRequest,
  type RsmResponse,
} from "./rsm.js";
import { type Element, xml } from "./xml.js";

/** The namespace a forwarded stanza gets when it carries none (XEP-0297 examples). */
const NS_CLIENT = "jabber:client";

/** A parsed `<query xmlns='urn:xmpp:mam:2'/>`. Times are milliseconds since the epoch (UTC). */
export interface MamQuery {
  queryid?: string;
  /** Only messages at or after this instant (§4.1.2.2). */
  start?: number;
  /** Only messages at or before this instant. */
  end?: number;
  /** Only messages to or from this JID (§4.1.2.1); not checked for JID syntax here. */
  with?: string;
  /** The RSM `<set/>` of the query; `{}` when there is none. */
  rsm: RsmRequest;
}

/** What a result message says (§4.2). */
export interface MamResult {
  queryid?: string;
  /** The archive UID of the message (the RSM ids of the fin). */
  id: string;
  /** The `<delay stamp/>`: when the archived message was received, ms since the epoch. */
  stamp: number;
  /** The archived stanza inside `<forwarded/>`. */
  forwarded: Element;
}

/** A result message to build: the result plus the addressing of the carrying `<message/>`. */
export interface MamResultMessage extends MamResult {
  to: string;
  from?: string;
  /** The `id` of the carrying `<message/>` (not the archive UID). */
  messageId?: string;
}

/** The `<fin/>` of the IQ result that ends a query (§4.3). */
export interface MamFin {
  /** True on the last page; false is written by omitting the attribute. */
  complete: boolean;
  /** false: the results may still change. Omitted means stable. */
  stable?: boolean;
  rsm: RsmResponse;
}

/**
 * A MAM element that cannot be honoured (or read). `condition` is bad-request, except for a form
 * field Warble does not know: XEP-0313 §4.1.5 requires feature-not-implemented for those.
 */
export class MamQueryError extends WireError {
  /** The form field at fault, when there is one. */
  readonly field?: string;
  constructor(message: string, condition: StanzaErrorCondition = "bad-request", field?: string) {
    super(message, condition);
    this.name = "MamQueryError";
    if (field !== undefined) this.field = field;
  }
}

/** The fields of the query form Warble understands (FORM_TYPE aside). */
export const MAM_QUERY_FIELDS = ["start", "end", "with"] as const;

/** Read a `<query xmlns='urn:xmpp:mam:2'/>`. Throws only MamQueryError. */
export function parseMamQuery(query: Element): MamQuery {
  if (!query.is("query", NS_MAM))
    throw new MamQueryError(`Expected a ${NS_MAM} <query/>, got <${query.name}/>.`);
  const result: MamQuery = { rsm: {} };
  if (query.attrs.queryid !== undefined) result.queryid = query.attrs.queryid;
  const forms = query.getChildren("x", NS_DATA_FORMS);
  if (forms.length > 1) throw new MamQueryError("A MAM query takes at most one data form.");
  if (forms[0]) readFilter(readForm(forms[0]), result);
  const set = findRsmSet(query);
  if (set) result.rsm = rewrap(() => parseRsmRequest(set));
  return result;
}

function readForm(x: Element): DataForm {
  const form = rewrap(() => parseDataForm(x));
  if (form.type !== "submit")
    throw new MamQueryError(`The MAM query form must be of type 'submit', not '${form.type}'.`);
  const formType = form.fields.find((f) => f.var === "FORM_TYPE")?.values;
  if (formType === undefined)
    throw new MamQueryError(`The MAM query form needs a FORM_TYPE field of '${NS_MAM}'.`);
  if (formType.length !== 1 || formType[0] !== NS_MAM)
    throw new MamQueryError(
      `The query form's FORM_TYPE must be '${NS_MAM}', not '${formType.join(" ")}'.`,
      "bad-request",
      "FORM_TYPE",
    );
  return form;
}

function readFilter(form: DataForm, into: MamQuery): void {
  const seen = new Set<string>();
  for (const f of form.fields) {
    const name = f.var;
    if (name === undefined) throw new MamQueryError("A field of the MAM query form has no 'var'.");
    if (seen.has(name))
      throw new MamQueryError(
        `Field '${name}' appears twice in the MAM query form.`,
        undefined,
        name,
      );
    seen.add(name);
    if (name === "FORM_TYPE") continue;
    if (name !== "start" && name !== "end" && name !== "with")
      throw new MamQueryError(
        `Unsupported MAM query field '${name}' (supported: ${MAM_QUERY_FIELDS.join(", ")}).`,
        "feature-not-implemented",
        name,
      );
    const value = singleValue(f, name);
    if (value === undefined) continue;
    if (name === "with") {
      if (value === "") throw new MamQueryError("Field 'with' must name a JID.", undefined, name);
      into.with = value;
    } else {
      const ms = parseDateTime(value);
      if (ms === undefined)
        throw new MamQueryError(
          `Field '${name}' must be an XEP-0082 DateTime (e.g. 2010-06-07T00:00:00Z), not '${value}'.`,
          undefined,
          name,
        );
      into[name] = ms;
    }
  }
}

/** The one value of a field; undefined for a field submitted without value. */
function singleValue(f: DataField, name: string): string | undefined {
  if (f.values.length > 1)
    throw new MamQueryError(`Field '${name}' takes a single value.`, undefined, name);
  return f.values[0];
}

/** Run a codec of another module, turning its WireError into a MamQueryError. */
function rewrap<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof MamQueryError || !(err instanceof WireError)) throw err;
    throw new MamQueryError(err.message, err.condition);
  }
}

/** Build a `<query/>` (for clients and tests): the form only when it filters, the set when paging. */
export function buildMamQuery(q: MamQuery): Element {
  const fields: DataField[] = [];
  if (q.with !== undefined) fields.push({ var: "with", values: [q.with] });
  if (q.start !== undefined) fields.push({ var: "start", values: [formatDateTime(q.start)] });
  if (q.end !== undefined) fields.push({ var: "end", values: [formatDateTime(q.end)] });
  const paged = Object.values(q.rsm).some((v) => v !== undefined);
  return xml(
    "query",
    { xmlns: NS_MAM, queryid: q.queryid },
    fields.length > 0 &&
      buildDataForm({
        type: "submit",
        fields: [{ var: "FORM_TYPE", type: "hidden", values: [NS_MAM] }, ...fields],
      }),
    paged && buildRsmRequest(q.rsm),
  );
}

/**
 * `<message to from id><result xmlns=mam queryid id><forwarded xmlns=forward:0>
 * <delay xmlns=delay stamp/>{forwarded}</forwarded></result></message>`.
 * The forwarded stanza is copied; when it declares no namespace it is put in jabber:client.
 */
export function buildMamResult(r: MamResultMessage): Element {
  const stanza = clone(r.forwarded);
  if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = NS_CLIENT;
  return xml(
    "message",
    { to: r.to, from: r.from, id: r.messageId },
    xml(
      "result",
      { xmlns: NS_MAM, queryid: r.queryid, id: r.id },
      xml(
        "forwarded",
        { xmlns: NS_FORWARD },
        xml("delay", { xmlns: NS_DELAY, stamp: formatDateTime(r.stamp) }),
        stanza,
      ),
    ),
  );
}

/**
 * The MAM result a message carries; undefined when it carries none, or one without archive id,
 * `<forwarded/>`, readable `<delay stamp/>` or forwarded stanza. Never throws.
 */
export function parseMamResult(message: Element): MamResult | undefined {
  const result = message.getChild("result", NS_MAM);
  const id = result?.attrs.id;
  if (!result || !id) return undefined;
  const forwarded = result.getChild("forwarded", NS_FORWARD);
  if (!forwarded) return undefined;
  const delay = forwarded.getChild("delay", NS_DELAY);
  const stamp = parseDateTime(delay?.attrs.stamp ?? "");
  const stanza = forwarded.getChildElements().find((c) => c !== delay);
  if (stamp === undefined || !stanza) return undefined;
  const parsed: MamResult = { id, stamp, forwarded: stanza };
  if (result.attrs.queryid !== undefined) parsed.queryid = result.attrs.queryid;
  return parsed;
}

/** `<fin xmlns=mam complete? stable?><set xmlns=rsm>…</set></fin>`. */
export function buildMamFin(fin: MamFin): Element {
  return xml(
    "fin",
    {
      xmlns: NS_MAM,
      complete: fin.complete ? "true" : undefined,
      stable: fin.stable === undefined ? undefined : String(fin.stable),
    },
    buildRsmResponse(fin.rsm),
  );
}

/** Read a `<fin/>`, or the IQ result that carries one. Throws only MamQueryError. */
export function parseMamFin(el: Element): MamFin {
  const fin = el.is("fin", NS_MAM) ? el : el.getChild("fin", NS_MAM);
  if (!fin) throw new MamQueryError(`Expected a ${NS_MAM} <fin/>, got <${el.name}/>.`);
  const parsed: MamFin = { complete: xsBoolean(fin, "complete") ?? false, rsm: {} };
  const stable = xsBoolean(fin, "stable");
  if (stable !== undefined) parsed.stable = stable;
  const set = findRsmSet(fin);
  if (set) parsed.rsm = rewrap(() => parseRsmResponse(set));
  return parsed;
}

function xsBoolean(el: Element, attr: string): boolean | undefined {
  const value = el.attrs[attr];
  if (value === undefined) return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new MamQueryError(`<fin ${attr}/> must be true or false, not '${value}'.`);
}

/** The answer to `<iq type='get'><query xmlns=mam/></iq>` (§4.1.5): the fields Warble supports. */
export function buildMamFieldsForm(): Element {
  return xml(
    "query",
    { xmlns: NS_MAM },
    buildDataForm({
      type: "form",
      fields: [
        { var: "FORM_TYPE", type: "hidden", values: [NS_MAM] },
        { var: "start", type: "text-single", values: [] },
        { var: "end", type: "text-single", values: [] },
        { var: "with", type: "jid-single", values: [] },
      ],
    }),
  );
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD = Z or ±hh:mm) to ms since the epoch;
 * undefined when malformed or naming no real instant (month 13, 30 February, 24:00, leap second).
 * Fractions finer than a millisecond are dropped.
 */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59)
    return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1) return undefined;
  if (date.getUTCDate() !== day) return undefined;
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
  return date.getTime() - (m[8] === "-" ? -offset : offset);
}

/** ms since the epoch as an XEP-0082 DateTime in UTC, with milliseconds only when there are some. */
export function formatDateTime(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999)
    throw new RangeError(`No XEP-0082 DateTime for ${ms} ms (years 0000-9999 only).`);
  const iso = date.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, 19)}Z` : iso;
}
