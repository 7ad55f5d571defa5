/**
 * XEP-0277 microblog entries: Atom (RFC 4287) `<entry/>` with RFC 4685 threading.
 * parseEntry/buildAtomEntry map the wire form to a typed MicroblogEntry and back; buildEntry is the
 * client-side builder (the CLI posts with it); completeEntry is what the service stores.
 */

import { clone } from "ltx";
import { WireError } from "./errors.js";
import { NS_ATOM, NS_MICROBLOG, NS_THREADING } from "./ns.js";
import { type Element, xml } from "./xml.js";
import { decodeCharRef, REPLACEMENT_CHARACTER } from "./xml-chars.js";

export type AtomTextType = "text" | "html" | "xhtml";

/** An Atom text construct, reduced to its plain text (html tags stripped, xhtml flattened). */
export interface AtomText {
  type: AtomTextType;
  text: string;
}

export interface AtomPerson {
  name?: string;
  uri?: string;
}

export interface AtomLink {
  href: string;
  rel?: string;
  type?: string;
  title?: string;
  /** On rel='via' (XEP-0277 repeat): the Atom id of the repeated entry. */
  ref?: string;
}

/** RFC 4685 `<thr:in-reply-to/>`. */
export interface InReplyTo {
  ref: string;
  href?: string;
  type?: string;
}

export interface AtomCategory {
  term: string;
  scheme?: string;
  label?: string;
}

export interface MicroblogEntry {
  id?: string;
  title?: AtomText;
  summary?: AtomText;
  /** The text content when there is one (XEP-0277: a text content beside an xhtml one), else the first. */
  content?: AtomText;
  published?: string;
  updated?: string;
  author?: AtomPerson;
  /** Every link except rel='via'. */
  links: AtomLink[];
  /** XEP-0277 repeat: the link rel='via' to the original post. */
  via?: AtomLink;
  inReplyTo: InReplyTo[];
  categories: AtomCategory[];
}

/** Why an entry is refused: invalid-payload (bad-request) or too-long (not-acceptable). */
export class AtomEntryError extends WireError {
  readonly kind: "invalid-payload" | "too-long";
  constructor(kind: "invalid-payload" | "too-long", message: string) {
    super(
      message,
      kind === "too-long" ? "not-acceptable" : "bad-request",
      kind === "too-long" ? "payload-too-big" : "invalid-payload",
    );
    this.name = "AtomEntryError";
    this.kind = kind;
  }
}

export interface ParseEntryOptions {
  /**
   * What to do with an html character reference that names no XML character (`&amp;#1;`):
   * "refuse" throws invalid-payload (what a publish gets), "replace" reads it as U+FFFD (for
   * showing entries that are already stored or come from elsewhere). Default "refuse".
   */
  badCharRef?: "refuse" | "replace";
}

/** Read an Atom entry; geoloc, generator and other extensions are not represented. */
export function parseEntry(entry: Element, options: ParseEntryOptions = {}): MicroblogEntry {
  assertAtomEntry(entry);
  const readText = (el: Element | undefined) => readTextConstruct(el, options.badCharRef);
  const result: MicroblogEntry = { links: [], inReplyTo: [], categories: [] };
  const text = (name: string) => entry.getChildText(name, NS_ATOM)?.trim();
  assign(result, "id", text("id"));
  assign(result, "published", text("published"));
  assign(result, "updated", text("updated"));
  assign(result, "title", readText(entry.getChild("title", NS_ATOM)));
  assign(result, "summary", readText(entry.getChild("summary", NS_ATOM)));
  assign(result, "content", readText(pickContent(entry.getChildren("content", NS_ATOM))));
  assign(result, "author", readPerson(entry.getChild("author", NS_ATOM)));
  for (const el of entry.getChildren("link", NS_ATOM)) {
    const link = readLink(el);
    if (link.rel === "via" && result.via === undefined) result.via = link;
    else result.links.push(link);
  }
  result.inReplyTo = entry.getChildren("in-reply-to", NS_THREADING).map((el) => {
    const reply: InReplyTo = { ref: el.attrs.ref ?? "" };
    assign(reply, "href", el.attrs.href);
    assign(reply, "type", el.attrs.type);
    return reply;
  });
  result.categories = entry.getChildren("category", NS_ATOM).map((el) => {
    const category: AtomCategory = { term: el.attrs.term ?? "" };
    assign(category, "scheme", el.attrs.scheme);
    assign(category, "label", el.attrs.label);
    return category;
  });
  return result;
}

/** Set an optional property only when there is a value (exactOptionalPropertyTypes-friendly). */
function assign<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function assertAtomEntry(entry: Element): void {
  if (!entry.is("entry", NS_ATOM)) {
    throw new AtomEntryError(
      "invalid-payload",
      `The payload must be an Atom <entry xmlns='${NS_ATOM}'/>, not <${entry.getName()}${entry.getNS() ? ` xmlns='${entry.getNS()}'` : ""}/>.`,
    );
  }
}

function pickContent(contents: Element[]): Element | undefined {
  return contents.find((c) => (c.attrs.type ?? "text") === "text") ?? contents[0];
}

function readTextConstruct(
  el: Element | undefined,
  badCharRef: ParseEntryOptions["badCharRef"],
): AtomText | undefined {
  if (!el) return undefined;
  const type = el.attrs.type === "html" || el.attrs.type === "xhtml" ? el.attrs.type : "text";
  if (type === "xhtml") return { type, text: collapse(deepText(el)) };
  if (type === "html") return { type, text: htmlToText(el.getText(), el.name, badCharRef) };
  return { type, text: el.getText().trim() };
}

function deepText(el: Element): string {
  return el.children.map((c) => (typeof c === "string" ? c : ` ${deepText(c)} `)).join("");
}

function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

function htmlToText(
  html: string,
  where: string,
  badCharRef: ParseEntryOptions["badCharRef"] = "refuse",
): string {
  const stripped = html.replace(/<br\s*\/?>/gi, "\n").replace(/<[^>]*>/g, "");
  return stripped
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (!name.startsWith("#")) return ENTITIES[name.toLowerCase()] ?? whole;
      const text = decodeCharRef(name.slice(1));
      if (text !== undefined) return text;
      if (badCharRef === "replace") return REPLACEMENT_CHARACTER;
      throw new AtomEntryError(
        "invalid-payload",
        `The html <${where}/> has the character reference ${whole.slice(0, 24)}, which names no character XML allows.`,
      );
    })
    .trim();
}

function readPerson(el: Element | undefined): AtomPerson | undefined {
  if (!el) return undefined;
  const person: AtomPerson = {};
  assign(person, "name", el.getChildText("name", NS_ATOM)?.trim());
  assign(person, "uri", el.getChildText("uri", NS_ATOM)?.trim());
  return person;
}

/** A link; whitespace in href is dropped (a URI has none; the XEP-0277 examples wrap long ones). */
function readLink(el: Element): AtomLink {
  const link: AtomLink = { href: (el.attrs.href ?? "").replace(/\s+/g, "") };
  assign(link, "rel", el.attrs.rel);
  assign(link, "type", el.attrs.type);
  assign(link, "title", el.attrs.title);
  assign(link, "ref", el.attrs.ref);
  return link;
}

/** The post text: the content when it has text, else the title. "" when neither has any. */
export function entryText(entry: MicroblogEntry | Element): string {
  const parsed =
    "links" in entry && Array.isArray(entry.links)
      ? entry
      : parseEntry(entry as Element, { badCharRef: "replace" });
  const content = parsed.content?.text ?? "";
  return content !== "" ? content : (parsed.title?.text ?? "");
}

/** The readable `<body>` of a notification: "u@D: text". */
export function notificationBody(ownerJid: string, entry: MicroblogEntry | Element): string {
  return `${ownerJid}: ${entryText(entry)}`;
}

/**
 * Write a typed entry. Order: author, title, summary, content, links, via, id, published, updated,
 * in-reply-to, categories (the order of the XEP-0277 examples). Text constructs are written as
 * type='text' unless html (xhtml markup is not kept by parseEntry).
 */
export function buildAtomEntry(entry: MicroblogEntry): Element {
  const hasThreading = entry.inReplyTo.length > 0;
  return xml(
    "entry",
    { xmlns: NS_ATOM, "xmlns:thr": hasThreading ? NS_THREADING : undefined },
    entry.author && buildPerson(entry.author),
    buildText("title", entry.title),
    buildText("summary", entry.summary),
    buildText("content", entry.content),
    entry.links.map(buildLink),
    entry.via && buildLink(entry.via),
    entry.id !== undefined && xml("id", null, entry.id),
    entry.published !== undefined && xml("published", null, entry.published),
    entry.updated !== undefined && xml("updated", null, entry.updated),
    entry.inReplyTo.map((r) => xml("thr:in-reply-to", { ref: r.ref, type: r.type, href: r.href })),
    entry.categories.map((c) =>
      xml("category", { term: c.term, scheme: c.scheme, label: c.label }),
    ),
  );
}

function buildText(name: string, text: AtomText | undefined): Element | undefined {
  if (!text) return undefined;
  return xml(name, { type: text.type === "html" ? "html" : "text" }, text.text);
}

function buildPerson(person: AtomPerson): Element {
  return xml(
    "author",
    null,
    person.name !== undefined && xml("name", null, person.name),
    person.uri !== undefined && xml("uri", null, person.uri),
  );
}

function buildLink(link: AtomLink): Element {
  return xml("link", {
    rel: link.rel,
    type: link.type,
    title: link.title,
    href: link.href,
    ref: link.ref,
  });
}

export interface NewEntry {
  text: string;
  /** The entry replied to: its Atom id (ref) and where it lives (href, an xmpp: URI). */
  inReplyTo?: InReplyTo;
  /** Repeat: the original post. */
  via?: { href: string; ref?: string };
  categories?: string[];
}

/** A new post as a client sends it: `<title type='text'>` with the text; the service fills the rest. */
export function buildEntry(post: NewEntry): Element {
  const entry: MicroblogEntry = {
    title: { type: "text", text: post.text },
    links: [],
    inReplyTo: post.inReplyTo ? [post.inReplyTo] : [],
    categories: (post.categories ?? []).map((term) => ({ term })),
  };
  if (post.via) entry.via = { rel: "via", ...post.via };
  return buildAtomEntry(entry);
}

/** What the service knows when it stores an entry. */
export interface CompleteEntryContext {
  itemId: string;
  /** The microblog address u@C. */
  serviceJid: string;
  /** The owner's account u@D (the author uri is xmpp:u@D). */
  ownerJid: string;
  authorName: string;
  now: Date;
  /** Default urn:xmpp:microblog:0. */
  node?: string;
  /** Longest post text in Unicode code points. Default 500. */
  maxLength?: number;
}

export const DEFAULT_MAX_POST_LENGTH = 500;

/** RFC 3339 UTC without fractions: 2008-05-08T18:30:02Z. */
export function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** xmpp:u@C?;node=urn%3Axmpp%3Amicroblog%3A0;item=ID (XEP-0060 §12.22 / RFC 5122 pubsub URI). */
export function itemUri(serviceJid: string, node: string, itemId: string): string {
  return `xmpp:${serviceJid}?;node=${encodeURIComponent(node)};item=${encodeURIComponent(itemId)}`;
}

/**
 * The Atom id Warble gives an item: a tag URI (RFC 4151) `tag:C,YYYY-MM-DD:LOCAL/posts/ITEM` with C
 * the component domain, the UTC date of the entry's `published`, LOCAL the user's localpart and
 * ITEM the item id (both percent-encoded). The localpart keeps ids unique when clients choose item
 * ids; the published date keeps the id stable when the same item is republished.
 */
export function entryTagUri(serviceJid: string, published: Date, itemId: string): string {
  const at = serviceJid.indexOf("@");
  const local = at >= 0 ? serviceJid.slice(0, at) : "";
  const domain = serviceJid.slice(at + 1).split("/")[0] ?? "";
  const date = published.toISOString().slice(0, 10);
  return `tag:${domain},${date}:${encodeURIComponent(local)}/posts/${encodeURIComponent(itemId)}`;
}

/**
 * A NEW element: the entry as the service stores it. Sets <id>, keeps a valid client <published>
 * (else now), sets <updated> to now, replaces any <author> with the owner, replaces xmpp: alternate
 * links with the item's own, sets a <title> from the content when missing; keeps replies, via,
 * categories and everything else. Throws AtomEntryError (invalid-payload / too-long).
 */
export function completeEntry(entry: Element, ctx: CompleteEntryContext): Element {
  assertAtomEntry(entry);
  const parsed = parseEntry(entry);
  checkText(parsed, ctx.maxLength ?? DEFAULT_MAX_POST_LENGTH);
  const published = validDate(parsed.published) ?? ctx.now;
  const completed = clone(entry);
  completed.children = completed.children.filter((c) => typeof c !== "string" && !isReplaced(c));
  const node = ctx.node ?? NS_MICROBLOG;
  completed.children.unshift(
    buildPerson({ name: ctx.authorName, uri: `xmpp:${ctx.ownerJid}` }),
    ...(parsed.title?.text ? [] : [xml("title", { type: "text" }, parsed.content?.text ?? "")]),
  );
  completed.append(
    xml("link", { rel: "alternate", href: itemUri(ctx.serviceJid, node, ctx.itemId) }),
    xml("id", null, entryTagUri(ctx.serviceJid, published, ctx.itemId)),
    xml("published", null, rfc3339(published)),
    xml("updated", null, rfc3339(ctx.now)),
  );
  for (const child of completed.children) if (typeof child !== "string") child.parent = completed;
  return completed;
}

/** Children completeEntry writes itself (a title-less entry keeps its content, it gains a title). */
function isReplaced(child: Element): boolean {
  if (child.getNS() !== NS_ATOM) return false;
  const name = child.getName();
  if (name === "id" || name === "published" || name === "updated" || name === "author") return true;
  if (name === "title")
    return child.getText().trim() === "" && child.getChildElements().length === 0;
  return (
    name === "link" &&
    child.attrs.rel === "alternate" &&
    (child.attrs.href ?? "").trim().startsWith("xmpp:")
  );
}

/** Refuse empty or too-long posts; the length is the longest of title and content, in code points. */
function checkText(entry: MicroblogEntry, maxLength: number): void {
  const title = entry.title?.text ?? "";
  const content = entry.content?.text ?? "";
  if (title === "" && content === "") {
    throw new AtomEntryError(
      "invalid-payload",
      "A microblog entry needs a <title/> or <content/> with text.",
    );
  }
  const length = Math.max(codePoints(title), codePoints(content));
  if (length > maxLength) {
    throw new AtomEntryError(
      "too-long",
      `The post is ${length} characters long; the limit is ${maxLength}.`,
    );
  }
}

function codePoints(text: string): number {
  return [...text].length;
}

function validDate(text: string | undefined): Date | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
