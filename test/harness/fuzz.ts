/**
 * Property-based fuzzing of the component with hostile stanzas (fast-check).
 *
 * Generators: stanzas for every handler the component has (XEP-0060 at u@C, disco, ping,
 * version, XEP-0050 commands, §8.6 answers in messages, presences), written as XML text that the
 * server accepts: well-formed XML 1.0 with only the characters it allows, so hostile characters
 * travel as escaped character references inside html text (`&amp;#1;`), never raw.
 *
 * The checking loop: real clients (the attacker mallory and the owner alice, who may write) send
 * a batch of stanzas one at a time through a real Prosody or ejabberd, from a fixed baseline
 * store. After each one: the component process is alive and its stream was not reset, its log has
 * no error, every IQ got an answer within the timeout that is a result or an error with a defined
 * RFC 6120 condition other than internal-server-error, and the store changed only where the
 * sender may change it. The store is read through the owners' own queries (alice's, bob's and
 * mallory's items, node subscriptions, affiliations, configuration and pending requests, and
 * disco#items at addresses that are no user's): a sender may change its own node, and elsewhere
 * only its own subscriptions; a refused request (an error reply) and an inert one (an IQ get, a
 * read-only command, a form that is not a submitted one) change nothing at all; no stored entry is
 * a malformed JID; no node appears at an address that is no user's.
 *
 * runFuzz explores with a fixed seed, then replays each batch that showed a new kind of failure
 * (fast-check `path`) and shrinks it to a small counterexample for that failure alone.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import fc from "fast-check";
import { ERROR_TYPE_BY_CONDITION } from "../../schemas/src/errors.js";
import {
  NS_ATOM,
  NS_COMMANDS,
  NS_DATA_FORMS,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_PING,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_NODE_CONFIG,
  NS_PUBSUB_OWNER,
  NS_PUBSUB_PUBLISH_OPTIONS,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
  NS_PUBSUB_SUBSCRIBE_OPTIONS,
  NS_RSM,
  NS_STANZAS,
  NS_THREADING,
  NS_VERSION,
} from "../../schemas/src/ns.js";
import { type Element, parseXml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { type ServerKind, startTestServer, type TestServer, tempDir } from "./servers.js";

export const C = "microblog.localhost";
export const D = "localhost";
export const NODE = "urn:xmpp:microblog:0";
const NODE_GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";
const NS_XHTML = "http://www.w3.org/1999/xhtml";

export const USERS = ["alice", "bob", "mallory"] as const;
export type User = (typeof USERS)[number];
/** Who sends a batch: the attacker, or alice, the owner (who may write, so the most dangerous). */
export type Sender = "alice" | "mallory";
/** The owners whose stores are read before and after every stanza. */
const OWNERS = ["alice", "bob", "mallory"] as const;
type Owner = (typeof OWNERS)[number];
/** Addresses that are no user's microblog (or no user who ever logs in): no node may appear. */
const GHOSTS = ["nobody", "escaped", "unicode", "long"] as const;

/**
 * Every user of the users domain has a microblog: a subscription (pubsub or presence) to one
 * that was never published to creates it. Of the ghost addresses, "escaped" is nobody's and
 * must stay empty; the others name possible users.
 */
const POSSIBLE_USERS: ReadonlySet<string> = new Set(["nobody", "unicode", "long"]);

function possibleUserNode(ghost: string): boolean {
  return [...POSSIBLE_USERS].some(
    (g) => ghost === `${targetJid(g as Target, "alice")} urn:xmpp:microblog:0`,
  );
}

function createdBySubscription(st: FuzzStanza, ghost: string): boolean {
  if (st.label !== "pubsub:subscribe" && st.label !== "presence:subscribe") return false;
  return (
    POSSIBLE_USERS.has(String(st.to)) &&
    ghost === `${targetJid(st.to, "alice")} urn:xmpp:microblog:0`
  );
}

/** Limits of the generators that depend on the server (set by runFuzz). */
export const generatorLimits = {
  /**
   * How deep generated elements nest. ejabberd 23.01 drops a client's stream on a stanza about
   * 4,000 elements deep, before the component could see it.
   */
  maxDepth: 16_000,
};

// ───────────────────────────── XML text ─────────────────────────────

/** Everything XML 1.0 forbids (controls, surrogates, U+FFFE/U+FFFF). */
const NOT_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Text or an attribute value as XML: only allowed characters, escaped. */
export function xmlText(s: string): string {
  return s.replace(NOT_XML_CHARS, "\uFFFD").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function attrs(a: Record<string, string | undefined>): string {
  return Object.entries(a)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}='${xmlText(v)}'`)
    .join("");
}

function el(name: string, a: Record<string, string | undefined> = {}, inner = ""): string {
  return inner === "" ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${inner}</${name}>`;
}

/**
 * A long XML text made readable: runs of a repeated piece become ‹piece›×n, and what is still
 * longer than `max` is cut in the middle.
 */
export function compact(s: string, max = 700): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    let best: { p: number; n: number } | undefined;
    for (let p = 1; p <= 40 && i + 2 * p <= s.length; p++) {
      const piece = s.slice(i, i + p);
      let n = 1;
      while (s.startsWith(piece, i + n * p)) n++;
      if (n >= 4 && n * p >= 24 && (!best || n * p > best.n * best.p)) best = { p, n };
    }
    if (best) {
      out += `‹${s.slice(i, i + best.p)}›×${best.n}`;
      i += best.p * best.n;
    } else {
      out += s[i];
      i++;
    }
  }
  if (out.length <= max) return out;
  return `${out.slice(0, max / 2)} …(${out.length} chars)… ${out.slice(-max / 2)}`;
}

// ───────────────────────────── stanzas ─────────────────────────────

/** Where a stanza goes, resolved against the sender ("self" is the sender's own u@C). */
export type Target =
  | "self"
  | "alice"
  | "bob"
  | "mallory"
  | "nobody"
  | "escaped"
  | "upper"
  | "full"
  | "unicode"
  | "long"
  | "weird"
  | "service";

/**
 * One generated stanza. `body` is its inner XML, with tokens the loop fills in when it sends it:
 * %%SELF%% / %%SELF_FULL%% (the sender's bare / full JID), %%ITEM%% / %%ITEM2%% (ids of alice's
 * items), %%SESSION%% (the sender's last XEP-0050 session id), %%SUBID%% (its last subid).
 */
export interface FuzzStanza {
  kind: "iq" | "message" | "presence";
  /** The handler it aims at, e.g. "pubsub:publish", "command:approve", "presence:subscribe". */
  label: string;
  type?: string;
  to: Target;
  body: string;
  /** Why this stanza may change nothing at all (an IQ get, a cancelled or non-submit form…). */
  inert?: string;
}

/** One stanza and who sends it. */
export interface FuzzStep {
  sender: Sender;
  stanza: FuzzStanza;
}

/** A batch: steps sent one after the other from the same baseline. */
export interface FuzzBatch {
  steps: FuzzStep[];
}

function showSteps(steps: readonly FuzzStep[]): string {
  return `[\n  ${steps.map((s) => `${s.sender} sends ${fc.stringify(s.stanza)}`).join(",\n  ")}\n]`;
}

function batchOf(steps: FuzzStep[]): FuzzBatch {
  return Object.assign({ steps }, { [fc.toStringMethod]: () => showSteps(steps) });
}

export function targetJid(to: Target, sender: string): string {
  switch (to) {
    case "self":
      return `${sender}@${C}`;
    case "alice":
    case "bob":
    case "mallory":
      return `${to}@${C}`;
    case "nobody":
      return `nobody@${C}`;
    case "escaped":
      return `alice\\40${D}@${C}`;
    case "upper":
      return `ALICE@${C}`;
    case "full":
      return `alice@${C}/fuzz`;
    case "unicode":
      return `ålice@${C}`;
    case "long":
      return `${"l".repeat(1000)}@${C}`;
    case "weird":
      return `a\\5c40b@${C}`;
    case "service":
      return C;
  }
}

/** The stanza as XML text, with tokens already filled in, or with the tokens shown. */
export function stanzaXml(st: FuzzStanza, id: string, sender: string, body = st.body): string {
  const to = targetJid(st.to, sender);
  const head = `<${st.kind}${attrs({ id, to, type: st.type })}`;
  return body === "" ? `${head}/>` : `${head}>${body}</${st.kind}>`;
}

/** A stanza that fast-check prints readably (the sender's own address shown as SENDER@C). */
export function mk(st: FuzzStanza): FuzzStanza {
  const inert = inertReason(st);
  return Object.assign(st, inert === undefined ? {} : { inert }, {
    [fc.toStringMethod]: () => `${st.label}: ${compact(stanzaXml(st, "…", "SENDER"))}`,
  });
}

const READ_ONLY_COMMANDS = new Set(["command:followers", "command:pending", "command:stats"]);
const INERT_PRESENCES = new Set(["probe", "subscribed", "unsubscribed", "unavailable", undefined]);

/** The type and FORM_TYPE of a data form element. */
function formFacts(x: Element): { type: string; formType?: string } {
  const ft = x.getChildren("field").find((f) => f.attrs.var === "FORM_TYPE");
  const formType = ft?.getChildren("value")[0]?.getText().trim();
  return { type: (x.attrs.type as string | undefined) ?? "", ...(formType ? { formType } : {}) };
}

/** Not a submitted form of this FORM_TYPE (a missing FORM_TYPE passes): why, or undefined. */
function notSubmitted(x: Element | undefined, formType: string): string | undefined {
  if (!x) return undefined;
  const facts = formFacts(x);
  if (facts.type !== "submit") return `its form is of type '${facts.type}', not submit`;
  if (facts.formType !== undefined && facts.formType !== formType)
    return `its form's FORM_TYPE is ${facts.formType}`;
  return undefined;
}

/**
 * Why a stanza must change nothing, read from the stanza itself: an IQ get, a read-only command,
 * a cancelled command, a configuration or options form that is not a submitted one of its kind
 * (XEP-0004 §3.1), a message without a submitted §8.6 answer, a presence that is no request.
 */
function inertReason(st: FuzzStanza): string | undefined {
  if (st.kind === "presence")
    return INERT_PRESENCES.has(st.type)
      ? `a presence of type ${st.type ?? "available"}`
      : undefined;
  if (st.kind === "iq" && st.type === "get") return "an IQ get";
  if (READ_ONLY_COMMANDS.has(st.label)) return "a read-only command";
  if (!/^(owner:configure|pubsub:options|command:|message:)/.test(st.label)) return undefined;
  let root: Element;
  try {
    root = parseXml(`<r>${st.body}</r>`);
  } catch {
    return undefined;
  }
  if (st.kind === "message") {
    const answers = root
      .getChildren("x", NS_DATA_FORMS)
      .map(formFacts)
      .filter((f) => f.type === "submit" && f.formType === NS_PUBSUB_SUBSCRIBE_AUTHORIZATION);
    return answers.length === 0 ? "a message without a submitted §8.6 answer" : undefined;
  }
  const command = root.getChild("command", NS_COMMANDS);
  if (command) {
    if (command.attrs.action === "cancel") return "a cancelled command";
    const x = command.getChild("x", NS_DATA_FORMS);
    const type = x ? formFacts(x).type : "submit";
    return type === "submit" ? undefined : `its form is of type '${type}', not submit`;
  }
  const configure = root.getChild("pubsub", NS_PUBSUB_OWNER)?.getChild("configure");
  if (configure) return notSubmitted(configure.getChild("x", NS_DATA_FORMS), NS_PUBSUB_NODE_CONFIG);
  const options = root.getChild("pubsub", NS_PUBSUB)?.getChild("options");
  if (options)
    return notSubmitted(options.getChild("x", NS_DATA_FORMS), NS_PUBSUB_SUBSCRIBE_OPTIONS);
  return undefined;
}

// ───────────────────────────── generators ─────────────────────────────

const rarely = <T>(arb: fc.Arbitrary<T>, odds = 6): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: odds, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof(fc.constant(undefined), arb);
const mostly = <T>(usual: T, other: fc.Arbitrary<T>, odds = 6): fc.Arbitrary<T> =>
  fc.oneof({ weight: odds, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: other });
/** true 8 times in 9. */
const often = mostly(true, fc.constant(false), 8);

/** Characters that trip parsers, normalisers and escapers (all of them allowed in XML). */
const SPICY = [
  "é",
  "ß",
  "İ",
  "ﬃ",
  "Ω",
  "e\u0301",
  "\u200b",
  "\u202e",
  "\ufeff",
  "\ufffd",
  "\u00a0",
  "\u0085",
  "\u2028",
  "😀",
  "👩‍👩‍👧",
  "\u{10FFFD}",
  "\uE000",
  "\t",
  "\n",
  "\r\n",
  " ",
  "<",
  ">",
  "&",
  "'",
  '"',
  "]]>",
  "\\",
  "\\40",
  "&amp;",
  "&#1;",
  "&#x110000;",
  "%s%n",
  "$" + "{x}",
  "</entry>",
];

/** A short hostile plain text (XML-escaped where it is embedded). */
export const hostileText: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...SPICY), fc.string({ maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(""));

/** Character and entity references as an html text would carry them (escaped once more in XML). */
const CHAR_REFS = [
  "&#1;",
  "&#0;",
  "&#x0;",
  "&#8;",
  "&#xB;",
  "&#x1F;",
  "&#x7F;",
  "&#xFFFE;",
  "&#xFFFF;",
  "&#x110000;",
  "&#99999999999;",
  "&#xD800;",
  "&#xDFFF;",
  "&#55296;",
  "&#xD83D;&#xDE00;",
  "&#x10FFFF;",
  "&#x1F600;",
  "&#65;",
  "&#9;",
  "&#x;",
  "&#;",
  "&#xZZ;",
  "&#-1;",
  "&#x0000000041;",
  "&#0000000000065;",
  "&#xFFFFFFFFFFFF;",
];
const ENTITIES = [
  "&amp;",
  "&lt;",
  "&gt;",
  "&quot;",
  "&nbsp;",
  "&bogus;",
  "&AMP;",
  "&amp",
  "&",
  "&#",
];
const TAGS = [
  "<b>",
  "</b>",
  "<br>",
  "<br/>",
  "<BR />",
  "<script>alert(1)</script>",
  "<a href='javascript:x'>",
  "<",
  "<<>>",
  "<!-- c -->",
  "<![CDATA[x]]>",
  "<img src=x onerror=y>",
  "<p",
];

/** The source of an html text construct (plain text that holds markup and references). */
export const htmlSource: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...CHAR_REFS) },
      { weight: 2, arbitrary: fc.constantFrom(...ENTITIES) },
      { weight: 2, arbitrary: fc.constantFrom(...TAGS) },
      { weight: 2, arbitrary: hostileText },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(""));

/** Byte budget of a generated stanza body (the servers take 256 KiB per stanza). */
const MAX_BODY_BYTES = 180_000;

/** One piece repeated many times, already as XML text. */
export const bulkText: fc.Arbitrary<string> = fc
  .record({
    piece: fc.constantFrom("x", "é", "😀", " ", "&#1;", "<b>", "&amp;", "\n"),
    n: fc.integer({ min: 1, max: 80_000 }),
  })
  .map(({ piece, n }) => {
    const escaped = xmlText(piece);
    return escaped.repeat(Math.min(n, Math.floor(120_000 / Buffer.byteLength(escaped))));
  });

/** An element nested `depth` deep (XML text). */
export const deepNest: fc.Arbitrary<string> = fc
  .record({
    depth: fc.integer({ min: 2, max: 16_000 }),
    name: fc.constantFrom("div", "a", "entry", "x"),
    leaf: fc.constantFrom("", "x", "&amp;#1;"),
  })
  .map(({ depth: wanted, name, leaf }) => {
    const depth = Math.min(wanted, generatorLimits.maxDepth);
    return `<${name}>`.repeat(depth) + leaf + `</${name}>`.repeat(depth);
  });

/** Many siblings (XML text). */
export const manyChildren: fc.Arbitrary<string> = fc
  .record({
    n: fc.integer({ min: 2, max: 4000 }),
    child: fc.constantFrom(
      "<category term='t'/>",
      "<link href='x'/>",
      "<title>t</title>",
      `<thr:in-reply-to xmlns:thr='${NS_THREADING}' ref='r'/>`,
      "<author><name>n</name></author>",
      `<entry xmlns='${NS_ATOM}'><title>e</title></entry>`,
      "<content type='html'>&amp;#1;</content>",
    ),
  })
  .map(({ n, child }) => child.repeat(n));

const xhtmlDiv: fc.Arbitrary<string> = fc
  .record({
    ns: fc.constantFrom(NS_XHTML, NS_XHTML, NS_XHTML, "", "urn:example:junk"),
    kids: fc.array(
      fc.oneof(
        hostileText.map(xmlText),
        fc
          .tuple(fc.constantFrom("p", "b", "span", "a", "script", "img", "br"), hostileText)
          .map(([n, s]) => `<${n}>${xmlText(s)}</${n}>`),
        htmlSource.map(xmlText),
        deepNest,
      ),
      { maxLength: 4 },
    ),
  })
  .map(({ ns, kids }) => `<div xmlns='${ns}'>${kids.join("")}</div>`);

/** An Atom text construct (title, summary, content) of any type, often hostile. */
function textConstruct(name: string): fc.Arbitrary<string> {
  const wrap = (type: string | undefined, inner: string) => el(name, { type }, inner);
  return fc.oneof(
    { weight: 5, arbitrary: htmlSource.map((h) => wrap("html", xmlText(h))) },
    { weight: 2, arbitrary: hostileText.map((s) => wrap("text", xmlText(s))) },
    { weight: 1, arbitrary: hostileText.map((s) => wrap(undefined, xmlText(s))) },
    { weight: 2, arbitrary: xhtmlDiv.map((x) => wrap("xhtml", x)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom("HTML", "xhtml", "html", "text", "text/plain", "", "junk"),
          fc.oneof(htmlSource.map(xmlText), xhtmlDiv, bulkText, fc.constant("")),
        )
        .map(([type, inner]) => wrap(type, inner)),
    },
    { weight: 1, arbitrary: bulkText.map((b) => wrap("html", b)) },
  );
}

const dateText = fc.oneof(
  fc.constantFrom(
    "2024-01-01T00:00:00Z",
    "not a date",
    "9999-99-99T99:99:99Z",
    "",
    "-1",
    "2024-02-30T25:61:00+99:00",
  ),
  hostileText,
);

const entryChild: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: textConstruct("title") },
  { weight: 3, arbitrary: textConstruct("content") },
  { weight: 1, arbitrary: textConstruct("summary") },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileText, hostileText)
      .map(([n, u]) => `<author><name>${xmlText(n)}</name><uri>${xmlText(u)}</uri></author>`),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        rel: fc.constantFrom(undefined, "alternate", "via", "replies", "related", "junk"),
        href: fc.oneof(
          fc.constantFrom(
            `xmpp:alice@${C}?;node=urn%3Axmpp%3Amicroblog%3A0;item=x`,
            "javascript:alert(1)",
            "",
            "http://example.org/ a b",
          ),
          hostileText,
        ),
        ref: maybe(hostileText),
        type: maybe(hostileText),
      })
      .map((a) => el("link", a)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("id", "published", "updated"), dateText)
      .map(([n, v]) => `<${n}>${xmlText(v)}</${n}>`),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ ref: hostileText, href: maybe(hostileText), type: maybe(hostileText) })
      .map((a) => el("thr:in-reply-to", { "xmlns:thr": NS_THREADING, ...a })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ term: hostileText, label: maybe(hostileText) })
      .map((a) => el("category", a)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "<geoloc xmlns='http://jabber.org/protocol/geoloc'><lat>x</lat></geoloc>",
      "<title xmlns='urn:example:wrong'>wrong namespace</title>",
      "<content src='http://example.org/x.png' type='image/png'/>",
      "<source><title>t</title></source>",
      "<title type='html'/>",
      "<content/>",
    ),
  },
  { weight: 1, arbitrary: deepNest },
  { weight: 1, arbitrary: manyChildren },
);

/** An Atom entry, mostly in the right namespace, with hostile children. */
export const entryArb: fc.Arbitrary<string> = fc
  .record({
    ns: mostly(
      NS_ATOM,
      fc.constantFrom("http://www.w3.org/2005/atom", "", "urn:example:books", NS_PUBSUB),
      10,
    ),
    name: mostly("entry", fc.constantFrom("Entry", "feed", "item")),
    kids: fc.array(entryChild, { maxLength: 6 }),
  })
  .map(({ ns, name, kids }) => `<${name} xmlns='${ns}'>${kids.join("")}</${name}>`);

/** A short xhtml div: markup and hostile text, nothing deep. */
const shortXhtml: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      hostileText.map(xmlText),
      htmlSource.map(xmlText),
      fc
        .tuple(fc.constantFrom("p", "b", "span", "a", "br"), hostileText)
        .map(([n, t]) => `<${n}>${xmlText(t)}</${n}>`),
    ),
    { maxLength: 3 },
  )
  .map((kids) => `<div xmlns='${NS_XHTML}'>${kids.join("")}</div>`);

/** A short text construct: the entry passes the size limits, so its text is what is tested. */
function shortText(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: htmlSource.map((h) => el(name, { type: "html" }, xmlText(h))) },
    { weight: 2, arbitrary: hostileText.map((t) => el(name, { type: "text" }, xmlText(t))) },
    { weight: 1, arbitrary: hostileText.map((t) => el(name, {}, xmlText(t))) },
    { weight: 2, arbitrary: shortXhtml.map((x) => el(name, { type: "xhtml" }, x)) },
  );
}

/**
 * A plausible post: a title (and sometimes a content) of any type whose short text carries the
 * hostile characters and references, and a few ordinary children. Such entries pass the size
 * and shape checks, so their text reaches storage, notifications and presence.
 */
export const plausibleEntryArb: fc.Arbitrary<string> = fc
  .record({
    title: shortText("title"),
    content: maybe(shortText("content")),
    extra: fc.array(
      fc.oneof(
        fc.record({ term: hostileText }).map((a) => el("category", a)),
        fc
          .record({ ref: hostileText, href: maybe(hostileText) })
          .map((a) => el("thr:in-reply-to", { "xmlns:thr": NS_THREADING, ...a })),
        fc
          .record({ rel: fc.constantFrom("alternate", "via", "related"), href: hostileText })
          .map((a) => el("link", a)),
        hostileText.map((t) => `<author><name>${xmlText(t)}</name></author>`),
      ),
      { maxLength: 2 },
    ),
  })
  .map(
    ({ title, content, extra }) =>
      `<entry xmlns='${NS_ATOM}'>${title}${content ?? ""}${extra.join("")}</entry>`,
  );

const payloadArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: plausibleEntryArb },
  { weight: 5, arbitrary: entryArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "<book xmlns='urn:example:books'><title>Hamlet</title></book>",
      "<entry/>",
      `<entry xmlns='${NS_ATOM}'/>`,
      `<x xmlns='${NS_DATA_FORMS}' type='submit'/>`,
      "just text",
    ),
  },
);

/** JIDs: the sender's own, the users', and the malformed and odd ones. */
export const jidArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "%%SELF%%",
      "%%SELF_FULL%%",
      `alice@${D}`,
      `bob@${D}`,
      `mallory@${D}`,
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "a@@b",
      "@",
      `@${D}`,
      D,
      "mallory@",
      "/r",
      `mallory@${D}/`,
      "MALLORY@LOCALHOST",
      "Alice@LocalHost/Res",
      `mallory@${D}/r`,
      ` mallory@${D}`,
      `mallory@${D} `,
      `mallory@${D}.`,
      `alice\\40${D}@${C}`,
      C,
      `alice@${C}`,
      "rogue.example",
      "[::1]",
      "[nope]",
      `a b@${D}`,
      `"q"@${D}`,
      `ålice@${D}`,
      `İ@${D}`,
      `😀@${D}`,
      `mallory@${D}/😀`,
      "x@xn--bcher-kva.example",
      "x@-bad-.example",
      "x@a..b",
      "",
      "%%SELF%%/other",
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        part: fc.constantFrom("local", "domain", "resource"),
        n: fc.integer({ min: 1, max: 3100 }),
      })
      .map(({ part, n }) =>
        part === "local"
          ? `${"l".repeat(n)}@${D}`
          : part === "domain"
            ? `m@${"d".repeat(n)}.example`
            : `mallory@${D}/${"r".repeat(n)}`,
      ),
  },
  { weight: 1, arbitrary: hostileText },
);

/** The subscriber JID of a subscribe: mostly the sender's own. */
const subscriberJid = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("%%SELF%%", "%%SELF_FULL%%") },
  { weight: 2, arbitrary: jidArb },
);

const nodeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(NODE) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      "",
      "princely_musings",
      "URN:XMPP:MICROBLOG:0",
      `${NODE} `,
      NODE_GET_PENDING,
      NS_COMMANDS,
      "ü",
      "n".repeat(3000),
      `${NODE}/x`,
      "%%SELF%%",
    ),
  },
  { weight: 1, arbitrary: hostileText },
);

const itemIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("%%ITEM%%", "%%ITEM2%%") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "a'b\"c",
      "../../etc/passwd",
      "x".repeat(3000),
      "current",
      "😀",
      "id with spaces",
      "%",
    ),
  },
  { weight: 1, arbitrary: hostileText },
);

const subidArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant("%%SUBID%%") },
  { weight: 1, arbitrary: fc.constantFrom("", "junk", "x".repeat(3000), "0") },
  { weight: 1, arbitrary: hostileText },
);

const CONFIG_VARS = [
  "pubsub#title",
  "pubsub#access_model",
  "pubsub#max_items",
  "pubsub#deliver_payloads",
  "pubsub#include_body",
  "pubsub#notify_config",
  "pubsub#notify_delete",
  "pubsub#notify_retract",
  "pubsub#notify_sub",
  "pubsub#send_last_published_item",
  "pubsub#publish_model",
  "pubsub#persist_items",
  "pubsub#type",
  "pubsub#notification_type",
  "pubsub#max_payload_size",
];
const SUBOPT_VARS = [
  "pubsub#deliver",
  "pubsub#include_body",
  "pubsub#digest",
  "pubsub#expire",
  "pubsub#subscription_type",
  "pubsub#show-values",
];
const AUTH_VARS = ["pubsub#node", "pubsub#subscriber_jid", "pubsub#allow", "pubsub#subid"];
const COMMAND_VARS = ["jid", "pubsub#node", "jids", "count"];

/** Field values a form may carry: the meaningful ones, junk, JIDs, hostile and huge text. */
const valueArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "1",
      "0",
      "true",
      "false",
      "yes",
      "",
      "max",
      "-1",
      "3",
      "10000",
      "10001",
      "99999999999999999999",
      "9007199254740993",
      "1e3",
      " 5 ",
      "0x10",
      "open",
      "authorize",
      "whitelist",
      "roster",
      "presence",
      "never",
      "on_sub",
      "on_sub_and_presence",
      "publishers",
      "subscribers",
      "open ",
      NODE,
    ),
  },
  { weight: 2, arbitrary: jidArb },
  { weight: 2, arbitrary: hostileText },
  { weight: 1, arbitrary: htmlSource },
);

interface FormSpec {
  formTypes: string[];
  vars: string[];
}

const FORM_TYPES_ALL = [
  NS_PUBSUB_NODE_CONFIG,
  NS_PUBSUB_PUBLISH_OPTIONS,
  NS_PUBSUB_SUBSCRIBE_OPTIONS,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
];

const fieldArb = (spec: FormSpec): fc.Arbitrary<string> =>
  fc
    .record({
      var: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...spec.vars) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(undefined, "", "FORM_TYPE", "pubsub#junk", "x".repeat(2000)),
        },
        { weight: 1, arbitrary: hostileText },
      ),
      type: rarely(
        fc.constantFrom(
          "text-single",
          "boolean",
          "list-single",
          "list-multi",
          "jid-single",
          "jid-multi",
          "hidden",
          "fixed",
          "text-multi",
          "junk",
          "",
        ),
        3,
      ),
      // As XML text: bulkText is XML already.
      values: fc.oneof(
        { weight: 6, arbitrary: valueArb.map((v) => [xmlText(v)]) },
        { weight: 1, arbitrary: fc.array(valueArb.map(xmlText), { maxLength: 4 }) },
        { weight: 1, arbitrary: bulkText.map((b) => [b]) },
      ),
      extra: rarely(
        fc.constantFrom(
          "<required/>",
          "<option><value>x</value></option>",
          "<desc>d</desc>",
          "<value><b>nested</b></value>",
        ),
      ),
    })
    .map(({ var: name, type, values, extra }) => {
      const vs = values.map((v) => `<value>${v}</value>`).join("");
      return `<field${attrs({ var: name, type })}>${vs}${extra ?? ""}</field>`;
    });

/** A XEP-0004 form of any type, mostly with the FORM_TYPE and fields of `spec`. */
function formArb(spec: FormSpec): fc.Arbitrary<string> {
  return fc
    .record({
      type: mostly<string | undefined>(
        "submit",
        fc.constantFrom("form", "result", "cancel", "", "SUBMIT", "junk", undefined),
        4,
      ),
      formType: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...spec.formTypes) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(undefined, "", "urn:example:junk", ...FORM_TYPES_ALL),
        },
      ),
      formTypeValues: fc.constantFrom(1, 1, 1, 1, 0, 2),
      fields: fc.array(fieldArb(spec), { maxLength: 6 }),
      extra: rarely(
        fc.constantFrom(
          "<title>t</title>",
          "<instructions>i</instructions>",
          "<reported><field var='x'/></reported>",
          "<item><field var='x'><value>v</value></field></item>",
          `<x xmlns='${NS_DATA_FORMS}' type='submit'/>`,
        ),
      ),
    })
    .map(({ type, formType, formTypeValues, fields, extra }) => {
      const ft =
        formType === undefined
          ? ""
          : `<field var='FORM_TYPE' type='hidden'>${`<value>${xmlText(formType)}</value>`.repeat(formTypeValues)}</field>`;
      return `<x${attrs({ xmlns: NS_DATA_FORMS, type })}>${extra ?? ""}${ft}${fields.join("")}</x>`;
    });
}

const configForm = formArb({ formTypes: [NS_PUBSUB_NODE_CONFIG], vars: CONFIG_VARS });
const publishOptionsForm = formArb({ formTypes: [NS_PUBSUB_PUBLISH_OPTIONS], vars: CONFIG_VARS });
const subscribeOptionsForm = formArb({
  formTypes: [NS_PUBSUB_SUBSCRIBE_OPTIONS],
  vars: SUBOPT_VARS,
});
const anyForm = formArb({
  formTypes: FORM_TYPES_ALL,
  vars: [...CONFIG_VARS, ...SUBOPT_VARS, ...AUTH_VARS, ...COMMAND_VARS],
});

/** Targets, weighted towards alice's address and the sender's own. */
export const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Target>("alice") },
  { weight: 4, arbitrary: fc.constant<Target>("self") },
  { weight: 2, arbitrary: fc.constant<Target>("bob") },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Target>(
      "mallory",
      "nobody",
      "escaped",
      "upper",
      "full",
      "unicode",
      "long",
      "weird",
      "service",
    ),
  },
);

const otherType = (type: "get" | "set") => (type === "get" ? "set" : "get");

/** An IQ of `type` (sometimes the other one) to a generated target. */
function iqArb(
  label: string,
  type: "get" | "set",
  body: fc.Arbitrary<string>,
  targets: fc.Arbitrary<Target> = targetArb,
): fc.Arbitrary<FuzzStanza> {
  return fc
    .record({ to: targets, flip: fc.integer({ min: 0, max: 11 }), body })
    .map(({ to, flip, body }) =>
      mk({ kind: "iq", label, type: flip === 0 ? otherType(type) : type, to, body }),
    );
}

const pubsub = (ns: string, inner: string) => `<pubsub xmlns='${ns}'>${inner}</pubsub>`;

const publishArb = iqArb(
  "pubsub:publish",
  "set",
  fc
    .record({
      node: nodeArb,
      id: maybe(itemIdArb),
      items: mostly(1, fc.constantFrom(0, 2)),
      payloads: fc.oneof(
        { weight: 10, arbitrary: payloadArb.map((p) => [p]) },
        { weight: 1, arbitrary: fc.array(payloadArb, { maxLength: 3 }) },
      ),
      options: rarely(publishOptionsForm, 5),
    })
    .map(({ node, id, items, payloads, options }) => {
      const item = el("item", { id }, payloads.join(""));
      const publish = el("publish", { node }, item.repeat(items));
      const opts = options === undefined ? "" : `<publish-options>${options}</publish-options>`;
      return pubsub(NS_PUBSUB, publish + opts);
    }),
);

const rsmValue = fc.constantFrom(
  "0",
  "1",
  "2",
  "10",
  "-1",
  "abc",
  "",
  " 1 ",
  "99999999999999999999",
  "1e2",
  "%%ITEM%%",
  "100",
  "101",
  "1000000",
);

const rsmArb: fc.Arbitrary<string> = fc
  .record({
    ns: mostly(NS_RSM, fc.constant("urn:example:junk")),
    parts: fc.array(
      fc.oneof(
        rsmValue.map((v) => `<max>${xmlText(v)}</max>`),
        fc.oneof(fc.constant(""), itemIdArb, rsmValue).map((v) => el("after", {}, xmlText(v))),
        fc.oneof(fc.constant(""), itemIdArb, rsmValue).map((v) => el("before", {}, xmlText(v))),
        rsmValue.map((v) => `<index>${xmlText(v)}</index>`),
        fc.constantFrom("<count/>", "<first>x</first>", "<max><b>1</b></max>", "<after/>"),
      ),
      { maxLength: 4 },
    ),
  })
  .map(({ ns, parts }) => `<set xmlns='${ns}'>${parts.join("")}</set>`);

const itemsArb = iqArb(
  "pubsub:items",
  "get",
  fc
    .record({
      node: nodeArb,
      max: maybe(
        fc.constantFrom(
          "0",
          "1",
          "2",
          "3",
          "-1",
          "abc",
          "",
          "99999999999999999999",
          "9007199254740993",
          " 2",
          "1.5",
          "100000",
          "0x10",
        ),
      ),
      ids: fc.oneof(
        { weight: 3, arbitrary: fc.constant<string[]>([]) },
        { weight: 1, arbitrary: fc.array(itemIdArb, { maxLength: 3 }) },
      ),
      subid: rarely(subidArb),
      rsm: maybe(rsmArb),
      rsmInside: fc.boolean(),
    })
    .map(({ node, max, ids, subid, rsm, rsmInside }) => {
      const inner = ids.map((id) => el("item", { id })).join("") + (rsmInside ? (rsm ?? "") : "");
      const items = el("items", { node, max_items: max, subid }, inner);
      return pubsub(NS_PUBSUB, items + (rsmInside ? "" : (rsm ?? "")));
    }),
);

const subscribeArb = iqArb(
  "pubsub:subscribe",
  "set",
  fc
    .record({
      node: nodeArb,
      jid: mostly<string | undefined>("%%SELF%%", maybe(subscriberJid), 1),
      options: rarely(
        fc.record({
          attrs: fc.constantFrom("", " node='x'", " jid='y'"),
          form: maybe(subscribeOptionsForm),
          first: fc.integer({ min: 0, max: 5 }),
        }),
        2,
      ),
    })
    .map(({ node, jid, options }) => {
      const sub = el("subscribe", { node, jid });
      if (!options) return pubsub(NS_PUBSUB, sub);
      const opts = `<options${options.attrs}>${options.form ?? ""}</options>`.replace(
        /<options([^>]*)><\/options>/,
        "<options$1/>",
      );
      return pubsub(NS_PUBSUB, options.first === 0 ? opts + sub : sub + opts);
    }),
);

const unsubscribeArb = iqArb(
  "pubsub:unsubscribe",
  "set",
  fc
    .record({ node: nodeArb, jid: maybe(subscriberJid), subid: maybe(subidArb) })
    .map((a) => pubsub(NS_PUBSUB, el("unsubscribe", a))),
);

const optionsArb = fc.oneof(
  iqArb(
    "pubsub:options",
    "get",
    fc
      .record({ node: nodeArb, jid: maybe(subscriberJid), subid: rarely(subidArb) })
      .map((a) => pubsub(NS_PUBSUB, el("options", a))),
  ),
  iqArb(
    "pubsub:options",
    "set",
    fc
      .record({
        node: nodeArb,
        jid: maybe(subscriberJid),
        subid: rarely(subidArb),
        form: rarely(subscribeOptionsForm, 1),
      })
      .map(({ form, ...a }) => pubsub(NS_PUBSUB, el("options", a, form ?? ""))),
  ),
);

const ownListsArb = iqArb(
  "pubsub:own-lists",
  "get",
  fc
    .record({ what: fc.constantFrom("subscriptions", "affiliations"), node: rarely(nodeArb, 2) })
    .map(({ what, node }) => pubsub(NS_PUBSUB, el(what, { node }))),
);

const createArb = iqArb(
  "pubsub:create",
  "set",
  fc
    .record({ node: nodeArb, configure: maybe(fc.oneof(configForm, fc.constant(""))) })
    .map(({ node, configure }) =>
      pubsub(
        NS_PUBSUB,
        el("create", { node }) + (configure === undefined ? "" : el("configure", {}, configure)),
      ),
    ),
);

const defaultArb = iqArb(
  "pubsub:default",
  "get",
  fc
    .record({ owner: fc.boolean(), node: maybe(nodeArb) })
    .map(({ owner, node }) =>
      owner
        ? pubsub(NS_PUBSUB_OWNER, el("default", { node }))
        : pubsub(NS_PUBSUB, el("default", { node })),
    ),
);

const configureArb = fc.oneof(
  iqArb(
    "owner:configure",
    "get",
    nodeArb.map((node) => pubsub(NS_PUBSUB_OWNER, el("configure", { node }))),
  ),
  {
    weight: 3,
    arbitrary: iqArb(
      "owner:configure",
      "set",
      fc
        .record({ node: nodeArb, form: configForm, withForm: often })
        .map(({ node, form, withForm }) =>
          pubsub(NS_PUBSUB_OWNER, el("configure", { node }, withForm ? form : "")),
        ),
    ),
  },
);

const SUB_STATES = ["none", "pending", "unconfigured", "subscribed", "junk", "", "SUBSCRIBED"];
const AFFILIATIONS = [
  "owner",
  "publisher",
  "publish-only",
  "member",
  "none",
  "outcast",
  "junk",
  "",
  "OUTCAST",
];

const ownerSubscriptionsArb = fc.oneof(
  iqArb(
    "owner:subscriptions",
    "get",
    nodeArb.map((node) => pubsub(NS_PUBSUB_OWNER, el("subscriptions", { node }))),
  ),
  {
    weight: 2,
    arbitrary: iqArb(
      "owner:subscriptions",
      "set",
      fc
        .record({
          node: nodeArb,
          entries: fc.array(
            fc.record({
              withJid: often,
              jid: jidArb,
              subscription: maybe(fc.constantFrom(...SUB_STATES)),
              subid: rarely(subidArb),
            }),
            { maxLength: 4 },
          ),
        })
        .map(({ node, entries }) =>
          pubsub(
            NS_PUBSUB_OWNER,
            el(
              "subscriptions",
              { node },
              entries
                .map((e) =>
                  el("subscription", {
                    jid: e.withJid ? e.jid : undefined,
                    subscription: e.subscription,
                    subid: e.subid,
                  }),
                )
                .join(""),
            ),
          ),
        ),
    ),
  },
);

const ownerAffiliationsArb = fc.oneof(
  iqArb(
    "owner:affiliations",
    "get",
    nodeArb.map((node) => pubsub(NS_PUBSUB_OWNER, el("affiliations", { node }))),
  ),
  {
    weight: 2,
    arbitrary: iqArb(
      "owner:affiliations",
      "set",
      fc
        .record({
          node: nodeArb,
          entries: fc.array(
            fc.record({
              withJid: often,
              jid: jidArb,
              affiliation: mostly<string | undefined>(
                "outcast",
                maybe(fc.constantFrom(...AFFILIATIONS)),
                1,
              ),
            }),
            { maxLength: 4 },
          ),
        })
        .map(({ node, entries }) =>
          pubsub(
            NS_PUBSUB_OWNER,
            el(
              "affiliations",
              { node },
              entries
                .map((e) =>
                  el("affiliation", {
                    jid: e.withJid ? e.jid : undefined,
                    affiliation: e.affiliation,
                  }),
                )
                .join(""),
            ),
          ),
        ),
    ),
  },
);

const retractArb = iqArb(
  "pubsub:retract",
  "set",
  fc
    .record({
      node: nodeArb,
      ids: fc.oneof(
        { weight: 6, arbitrary: itemIdArb.map((id): (string | undefined)[] => [id]) },
        { weight: 1, arbitrary: fc.array(maybe(itemIdArb), { maxLength: 3 }) },
      ),
      notify: maybe(fc.constantFrom("1", "true", "0", "false", "yes", "")),
    })
    .map(({ node, ids, notify }) =>
      pubsub(
        NS_PUBSUB,
        el("retract", { node, notify }, ids.map((id) => el("item", { id })).join("")),
      ),
    ),
);

const purgeDeleteArb = iqArb(
  "owner:purge-delete",
  "set",
  fc
    .record({
      what: fc.constantFrom("purge", "delete"),
      node: nodeArb,
      redirect: rarely(
        fc.oneof(
          fc.constantFrom(`xmpp:alice@${C}?;node=x`, "", "javascript:alert(1)"),
          hostileText,
        ),
        2,
      ),
    })
    .map(({ what, node, redirect }) =>
      pubsub(
        NS_PUBSUB_OWNER,
        el(
          what,
          { node },
          what === "delete" && redirect !== undefined ? el("redirect", { uri: redirect }) : "",
        ),
      ),
    ),
);

const oddPubsubArb = iqArb(
  "pubsub:odd",
  "set",
  fc.constantFrom(
    pubsub(NS_PUBSUB, ""),
    pubsub(NS_PUBSUB, `<frobnicate node='${NODE}'/>`),
    pubsub(NS_PUBSUB, `<subscribe node='${NODE}' jid='%%SELF%%'/><publish node='${NODE}'/>`),
    pubsub(NS_PUBSUB, "<configure/>"),
    pubsub(NS_PUBSUB, "<options/>"),
    pubsub(NS_PUBSUB, "<publish-options/>"),
    pubsub(NS_PUBSUB, "text only"),
    pubsub(NS_PUBSUB_OWNER, `<publish node='${NODE}'><item/></publish>`),
    pubsub(NS_PUBSUB_OWNER, ""),
    pubsub(NS_PUBSUB_EVENT, `<items node='${NODE}'/>`),
    pubsub("urn:example:wrong", `<items node='${NODE}'/>`),
    `<pubsub><items node='${NODE}'/></pubsub>`,
    pubsub(NS_PUBSUB, `<items node='${NODE}'/><items node='${NODE}'/>`),
    pubsub(NS_PUBSUB, "<constructor/>"),
    pubsub(NS_PUBSUB, "<__proto__/>"),
    pubsub(NS_PUBSUB_OWNER, "<hasOwnProperty/>"),
  ),
);

const discoArb = iqArb(
  "disco",
  "get",
  fc
    .record({
      ns: fc.constantFrom(NS_DISCO_INFO, NS_DISCO_ITEMS),
      node: maybe(
        fc.oneof(
          fc.constantFrom(
            NODE,
            NS_COMMANDS,
            "followers",
            "approve",
            "stats",
            NODE_GET_PENDING,
            "",
            "junk",
            "__proto__",
            "toString",
          ),
          hostileText,
        ),
      ),
      kids: rarely(
        fc.constantFrom(
          "<item/>",
          "<x/>",
          `<set xmlns='${NS_RSM}'><max>-1</max></set>`,
          "<identity category='x'/>",
        ),
      ),
    })
    .map(({ ns, node, kids }) => el("query", { xmlns: ns, node }, kids ?? "")),
  fc.oneof(
    { weight: 1, arbitrary: fc.constant<Target>("service") },
    { weight: 2, arbitrary: targetArb },
  ),
);

const pingVersionArb = iqArb(
  "ping-version",
  "get",
  fc.constantFrom(
    `<ping xmlns='${NS_PING}'/>`,
    `<ping xmlns='${NS_PING}'><junk/></ping>`,
    `<query xmlns='${NS_VERSION}'/>`,
    `<query xmlns='${NS_VERSION}'><name>x</name></query>`,
  ),
  fc.oneof(
    { weight: 1, arbitrary: fc.constant<Target>("service") },
    { weight: 1, arbitrary: targetArb },
  ),
);

const unknownIqArb = iqArb(
  "iq:unknown",
  "get",
  fc.oneof(
    fc.constantFrom(
      "<foo xmlns='urn:example:junk'/>",
      "<query xmlns='jabber:iq:roster'/>",
      "<vCard xmlns='vcard-temp'/>",
      "<query xmlns='jabber:iq:last'/>",
      "",
      `<ping xmlns='${NS_PING}'/><ping xmlns='${NS_PING}'/>`,
      "text only",
      "<query/>",
      "<time xmlns='urn:xmpp:time'/>",
      `<command xmlns='${NS_COMMANDS}' node='followers'/>`,
    ),
    deepNest,
    manyChildren.map((m) => `<junk xmlns='urn:example:junk'>${m}</junk>`),
    deepNest.map((d) => `<query xmlns='${NS_DISCO_INFO}'>${d}</query>`),
    deepNest.map((d) => pubsub(NS_PUBSUB, d)),
  ),
);

const COMMAND_NODES = ["followers", "pending", "approve", "deny", "block", "unblock", "stats"];

/** The answer a command's form stage expects: a submit form with a jid, sometimes more. */
const commandForm: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        jid: jidArb,
        type: mostly<string | undefined>(
          "submit",
          fc.constantFrom("cancel", "form", "result", undefined),
        ),
        node: rarely(nodeArb, 3),
      })
      .map(
        ({ jid, type, node }) =>
          `<x${attrs({ xmlns: NS_DATA_FORMS, type })}><field var='jid'><value>${xmlText(jid)}</value></field>` +
          (node === undefined
            ? ""
            : `<field var='pubsub#node'><value>${xmlText(node)}</value></field>`) +
          "</x>",
      ),
  },
  {
    weight: 1,
    arbitrary: formArb({ formTypes: [NS_PUBSUB_SUBSCRIBE_AUTHORIZATION], vars: COMMAND_VARS }),
  },
);

const commandArb: fc.Arbitrary<FuzzStanza> = fc
  .record({
    node: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...COMMAND_NODES) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          NODE_GET_PENDING,
          "",
          "junk",
          NS_COMMANDS,
          "APPROVE",
          "approve ",
          "__proto__",
          undefined,
        ),
      },
    ),
    action: fc.constantFrom(
      undefined,
      "execute",
      "execute",
      "complete",
      "complete",
      "next",
      "prev",
      "cancel",
      "junk",
      "",
    ),
    sessionid: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constant("%%SESSION%%") },
      { weight: 1, arbitrary: fc.constantFrom("", "junk", "0".repeat(16), "x".repeat(3000)) },
    ),
    form: maybe(commandForm),
    extra: rarely(
      fc.constantFrom(
        "<actions execute='complete'><complete/></actions>",
        "<note type='junk'>n</note>",
        `<command xmlns='${NS_COMMANDS}'/>`,
      ),
    ),
    to: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Target>("service") },
      { weight: 1, arbitrary: targetArb },
    ),
    flip: fc.integer({ min: 0, max: 11 }),
  })
  .map(({ node, action, sessionid, form, extra, to, flip }) =>
    mk({
      kind: "iq",
      label: `command:${COMMAND_NODES.includes(node ?? "") ? node : node === NODE_GET_PENDING ? "get-pending" : "other"}`,
      type: flip === 0 ? "get" : "set",
      to,
      body: el(
        "command",
        { xmlns: NS_COMMANDS, node, action, sessionid },
        (form ?? "") + (extra ?? ""),
      ),
    }),
  );

const getPendingArb = iqArb(
  "command:get-pending",
  "set",
  fc
    .record({
      action: fc.constantFrom(undefined, "execute", "complete", "cancel"),
      sessionid: maybe(fc.constantFrom("%%SESSION%%", "junk")),
      node: maybe(nodeArb),
      type: mostly<string | undefined>("submit", fc.constantFrom("cancel", "form", undefined)),
    })
    .map(({ action, sessionid, node, type }) =>
      el(
        "command",
        { xmlns: NS_COMMANDS, node: NODE_GET_PENDING, action, sessionid },
        node === undefined && action === "execute"
          ? ""
          : `<x${attrs({ xmlns: NS_DATA_FORMS, type })}><field var='FORM_TYPE' type='hidden'><value>${NS_PUBSUB_SUBSCRIBE_AUTHORIZATION}</value></field>` +
              (node === undefined
                ? ""
                : `<field var='pubsub#node'><value>${xmlText(node)}</value></field>`) +
              "</x>",
      ),
    ),
);

/** A §8.6 answer: a mostly well-formed authorization form with some field gone wrong. */
const authorizationAnswer: fc.Arbitrary<string> = fc
  .record({
    type: mostly<string | undefined>(
      "submit",
      fc.constantFrom("cancel", "form", "result", "", "junk", undefined),
      4,
    ),
    formType: mostly<string | undefined>(
      NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
      fc.constantFrom(undefined, "", NS_PUBSUB_NODE_CONFIG, "urn:example:junk"),
    ),
    node: maybe(nodeArb),
    subscriber: maybe(jidArb),
    allow: fc.constantFrom("true", "false", "1", "0", "yes", "", undefined),
    subid: rarely(subidArb, 3),
  })
  .map(({ type, formType, node, subscriber, allow, subid }) => {
    const f = (v: string, value: string | undefined) =>
      value === undefined ? "" : `<field var='${v}'><value>${xmlText(value)}</value></field>`;
    return (
      `<x${attrs({ xmlns: NS_DATA_FORMS, type })}>` +
      f("FORM_TYPE", formType) +
      f("pubsub#subid", subid) +
      f("pubsub#node", node ?? NODE) +
      f("pubsub#subscriber_jid", subscriber) +
      f("pubsub#allow", allow) +
      "</x>"
    );
  });

const messageArb: fc.Arbitrary<FuzzStanza> = fc
  .record({
    to: targetArb,
    type: fc.constantFrom(undefined, undefined, "normal", "chat", "headline", "groupchat"),
    parts: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: authorizationAnswer },
        { weight: 1, arbitrary: anyForm },
        { weight: 1, arbitrary: hostileText.map((s) => `<body>${xmlText(s)}</body>`) },
        { weight: 1, arbitrary: deepNest },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            `<x xmlns='${NS_DATA_FORMS}'/>`,
            `<x xmlns='${NS_DATA_FORMS}' type='submit'><field var='FORM_TYPE'/></x>`,
            `<event xmlns='${NS_PUBSUB_EVENT}'><items node='${NODE}'/></event>`,
          ),
        },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ to, type, parts }) =>
    mk({
      kind: "message",
      label: parts.some((p) => p.includes(NS_PUBSUB_SUBSCRIBE_AUTHORIZATION))
        ? "message:authorization"
        : "message:other",
      ...(type ? { type } : {}),
      to,
      body: parts.join(""),
    }),
  );

const presenceArb: fc.Arbitrary<FuzzStanza> = fc
  .record({
    to: targetArb,
    type: fc.constantFrom(
      "subscribe",
      "subscribe",
      "subscribe",
      "unsubscribe",
      "unsubscribe",
      "probe",
      "subscribed",
      "unsubscribed",
      undefined,
      "unavailable",
    ),
    kids: rarely(
      fc.oneof(
        hostileText.map((s) => `<status>${xmlText(s)}</status>`),
        fc.constantFrom("<priority>x</priority>", "<x xmlns='vcard-temp:x:update'/>"),
        deepNest,
      ),
      3,
    ),
  })
  .map(({ to, type, kids }) =>
    mk({
      kind: "presence",
      label: `presence:${type ?? "available"}`,
      ...(type ? { type } : {}),
      to,
      body: kids ?? "",
    }),
  );

/** One hostile stanza for any of the component's handlers. */
export const stanzaArb: fc.Arbitrary<FuzzStanza> = fc
  .oneof(
    { weight: 8, arbitrary: publishArb },
    { weight: 3, arbitrary: itemsArb },
    { weight: 3, arbitrary: subscribeArb },
    { weight: 2, arbitrary: unsubscribeArb },
    { weight: 2, arbitrary: optionsArb },
    { weight: 1, arbitrary: ownListsArb },
    { weight: 1, arbitrary: createArb },
    { weight: 1, arbitrary: defaultArb },
    { weight: 3, arbitrary: configureArb },
    { weight: 2, arbitrary: ownerSubscriptionsArb },
    { weight: 2, arbitrary: ownerAffiliationsArb },
    { weight: 2, arbitrary: retractArb },
    { weight: 1, arbitrary: purgeDeleteArb },
    { weight: 1, arbitrary: oddPubsubArb },
    { weight: 2, arbitrary: discoArb },
    { weight: 1, arbitrary: pingVersionArb },
    { weight: 1, arbitrary: unknownIqArb },
    { weight: 4, arbitrary: commandArb },
    { weight: 1, arbitrary: getPendingArb },
    { weight: 3, arbitrary: messageArb },
    { weight: 2, arbitrary: presenceArb },
  )
  .filter((st) => Buffer.byteLength(st.body) <= MAX_BODY_BYTES);

/**
 * A batch of up to `size` steps, each from mallory or alice: mallory attacks, alice (the owner,
 * who may write) stores hostile posts and settings that later stanzas of either meet.
 */
export function batchArb(size: number): fc.Arbitrary<FuzzBatch> {
  const step = fc.record({
    sender: fc.constantFrom<Sender>("mallory", "alice"),
    stanza: stanzaArb,
  });
  return fc.array(step, { minLength: 1, maxLength: size, size: "max" }).map(batchOf);
}

/**
 * The generators' own check (no server): every stanza is well-formed XML with only characters
 * XML 1.0 allows, whatever the tokens become. Returns the problems found.
 */
export function checkGenerators(seed: number, count: number): string[] {
  const problems: string[] = [];
  for (const st of fc.sample(stanzaArb, { seed, numRuns: count })) {
    const text = stanzaXml(st, "fz1", "mallory", resolveTokensForCheck(st.body));
    NOT_XML_CHARS.lastIndex = 0;
    if (NOT_XML_CHARS.test(text)) problems.push(`a raw forbidden character in ${compact(text)}`);
    try {
      const parsed = parseXml(text);
      if (parsed.name !== st.kind) problems.push(`parsed as <${parsed.name}/>: ${compact(text)}`);
    } catch (err) {
      problems.push(`not well-formed (${(err as Error).message}): ${compact(text)}`);
    }
  }
  return problems;
}

function resolveTokensForCheck(body: string): string {
  return body.replace(/%%[A-Z_0-9]+%%/g, xmlText("it'<s>&\"x"));
}

// ───────────────────────────── the world ─────────────────────────────

export interface FuzzWorld {
  kind: ServerKind;
  server: TestServer;
  db: string;
  component: ComponentProcess;
  clients: Record<User, TestClient>;
  /** Start a component on the same database (after it exited). */
  respawn(): Promise<void>;
  /** Stop the component, remove its database, start it on a new one. */
  freshStore(): Promise<void>;
  /** Log a user in again (after its stream was lost). */
  reconnect(user: User): Promise<TestClient>;
  dispose(): Promise<void>;
}

/** A server, a component on a fresh database, and alice, bob and mallory logged in. */
export async function startFuzzWorld(kind: ServerKind): Promise<FuzzWorld> {
  const server = await startTestServer(kind, D, C);
  const db = `${tempDir("fuzz-db")}/warble.db`;
  const spawnOne = async () => {
    const proc = spawnComponent(server.componentArgs(db), { WARBLE_SECRET: server.secret });
    await proc.waitForLine(/"msg":"ready"/);
    return proc;
  };
  const login = (user: User) => connectClient(server.ports.c2s, D, user, `${user}-pw`);
  const world: FuzzWorld = {
    kind,
    server,
    db,
    component: undefined as unknown as ComponentProcess,
    clients: {} as Record<User, TestClient>,
    respawn: async () => {
      world.component = await spawnOne();
    },
    freshStore: async () => {
      await world.component.stop().catch(() => world.component.kill());
      for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
      world.component = await spawnOne();
    },
    reconnect: async (user) => {
      await world.clients[user]?.stop();
      world.clients[user] = await login(user);
      return world.clients[user];
    },
    dispose: async () => {
      await Promise.all(Object.values(world.clients).map((c) => c.stop()));
      await world.component?.stop();
      await server.dispose();
    },
  };
  try {
    for (const user of USERS) await server.register(user, `${user}-pw`);
    world.component = await spawnOne();
    for (const user of USERS) world.clients[user] = await login(user);
  } catch (err) {
    await world.dispose().catch(() => {});
    throw err;
  }
  return world;
}

// ───────────────────────────── checking ─────────────────────────────

/** RFC 6120 §8.3.3 (and payment-required, which XEP-0060 still uses from RFC 3920). */
const DEFINED_CONDITIONS = new Set<string>(Object.keys(ERROR_TYPE_BY_CONDITION));
const ERROR_TYPES = new Set(["auth", "cancel", "continue", "modify", "wait"]);

/** Component log lines that mean its stream was cut or reset. */
const STREAM_TROUBLE =
  /retrying|"msg":"disconnected"|not-well-formed|bad XML from the server|stream error/;

export type FailureKind =
  | "stream-reset"
  | "process-exit"
  | "no-reply"
  | "internal-server-error"
  | "bad-error"
  | "bad-reply"
  | "error-log"
  | "owner-query"
  | "state"
  | "client-lost"
  | "harness";

export interface Failure {
  /** What kind of defect, for grouping: label + kind (+ the part of the store). */
  signature: string;
  kind: FailureKind;
  label: string;
  sender: User;
  /** The stanza as sent (tokens filled in), shortened for reading. */
  stanza: string;
  detail: string;
  /** Where in its batch the stanza was. */
  index?: number;
}

interface OwnerView {
  exists: boolean;
  items: string[];
  subs: string[];
  affs: string[];
  config: string[];
  pending: string[];
}
type Snapshot = Record<Owner, OwnerView> & {
  /** "address node" for every node disco#items shows at a GHOSTS address. */
  ghosts: string[];
};
const VIEW_PARTS = ["exists", "items", "subs", "affs", "config", "pending"] as const;

class QueryFailed extends Error {}

type Answer =
  | { kind: "reply"; el: Element }
  | { kind: "timeout" }
  | { kind: "broken"; why: string }
  | { kind: "write-failed"; why: string };

/** A condition of an error stanza, or what is wrong with it. */
function errorCondition(stanza: Element): { condition?: string; problem?: string } {
  const error = stanza.getChild("error");
  if (!error) return { problem: "an error reply without <error/>" };
  const defined = error
    .getChildElements()
    .filter((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text");
  const condition = defined[0]?.name;
  if (defined.length !== 1 || condition === undefined || !DEFINED_CONDITIONS.has(condition)) {
    return {
      problem: `the error has no single defined condition: ${compact(error.toString(), 300)}`,
    };
  }
  if (!ERROR_TYPES.has(error.attrs.type ?? ""))
    return { condition, problem: `error type '${error.attrs.type ?? ""}'` };
  return { condition };
}

/**
 * What makes `jid` no JID (RFC 7622 in outline: local@domain/resource, each part non-empty and
 * at most 1,023 bytes, no space and none of "&'/:<>@ in the local part), or undefined. A bare
 * domain is a JID (affiliations may name a whole domain).
 */
export function jidProblem(jid: string): string | undefined {
  const slash = jid.indexOf("/");
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  const at = bare.indexOf("@");
  const local = at === -1 ? undefined : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  const bytes = (x: string) => Buffer.byteLength(x, "utf8");
  if (slash !== -1 && slash === jid.length - 1) return "an empty resource";
  if (slash !== -1 && bytes(jid.slice(slash + 1)) > 1023) return "a resource over 1,023 bytes";
  if (local !== undefined) {
    if (local === "") return "an empty local part";
    if (bytes(local) > 1023) return "a local part over 1,023 bytes";
    if (/[\s"&'/:<>@]/u.test(local)) return "a character no local part may have";
  }
  if (domain === "") return "an empty domain";
  if (bytes(domain) > 1023) return "a domain over 1,023 bytes";
  if (/[\s@/"&'<>\\]/u.test(domain) || /^\.|\.\.|^-|-\.|\.-|-$/.test(domain))
    return "a character or label no domain may have";
  return undefined;
}

/** The JID of a view entry: "jid state" (subscriptions, affiliations) or "jid" (pending). */
const entryJid = (entry: string, part: string) =>
  part === "pending" ? entry : entry.slice(0, entry.lastIndexOf(" "));
const bareOf = (jid: string) => (jid.split("/")[0] ?? "").toLowerCase();
const hash = (s: string) => createHash("sha1").update(s).digest("hex").slice(0, 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunnerOptions {
  /** How long an IQ may wait for its answer. */
  timeoutMs: number;
}

/** Counters for the summary. */
export interface FuzzStats {
  stanzas: number;
  batches: number;
  bySender: Record<string, number>;
  /** "result", "error <condition>", "no reply", … over all IQs (and message errors). */
  outcomes: Record<string, number>;
  byLabel: Record<string, number>;
}

/** One thing wrong after a stanza, before they are merged into that stanza's Failure. */
interface Finding {
  kind: FailureKind;
  detail: string;
  part?: string;
}

/** Which finding names a stanza's failure when it has several (the others follow from it). */
const PRIORITY: FailureKind[] = [
  "process-exit",
  "stream-reset",
  "no-reply",
  "internal-server-error",
  "bad-error",
  "bad-reply",
  "state",
  "owner-query",
  "error-log",
  "client-lost",
  "harness",
];

/**
 * A stanza's findings as one Failure: named by the gravest, with the component's first error
 * log line (digits blurred) as its cause, so that one defect seen twice groups as one signature.
 */
function merge(
  findings: Finding[],
  about: { label: string; sender: User; stanza: string; cause: string | undefined },
): Failure[] {
  if (findings.length === 0) return [];
  const sorted = [...findings].sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind));
  const main = sorted[0] as Finding;
  const cause = main.kind === "state" ? undefined : about.cause;
  return [
    {
      signature: `${about.label} ${main.kind}${main.part ? ` ${main.part}` : ""}${cause ? ` [${cause}]` : ""}`,
      kind: main.kind,
      label: about.label,
      sender: about.sender,
      stanza: about.stanza,
      detail: sorted.map((f) => f.detail).join("; and "),
    },
  ];
}

/** Sends batches from the world's clients and checks each stanza's effects. */
export class Fuzzer {
  readonly stats: FuzzStats = { stanzas: 0, batches: 0, bySender: {}, outcomes: {}, byLabel: {} };
  private seq = 0;
  private readonly waiting = new Map<string, (el: Element) => void>();
  private readonly messageErrors = new Map<string, Element>();
  private tokens: Record<User, { session?: string; subid?: string }> = {
    alice: {},
    bob: {},
    mallory: {},
  };
  private readonly attached = new WeakSet<TestClient>();
  private resetTrouble: Finding[] = [];
  /** The store right after the last reset: what every batch starts from. */
  private baseline: Snapshot | undefined;
  private last: Snapshot | undefined;

  constructor(
    readonly world: FuzzWorld,
    readonly opts: RunnerOptions = { timeoutMs: 5000 },
  ) {
    for (const u of USERS) this.attach(world.clients[u]);
  }

  private attach(client: TestClient): void {
    if (this.attached.has(client)) return;
    this.attached.add(client);
    const user = client.jid.split("@")[0] as User;
    client.xmpp.on("stanza", (stanza: Element) => {
      // The TestClient keeps every stanza it did not await; the fuzz does its own bookkeeping.
      client.received.length = 0;
      const id = stanza.attrs.id as string | undefined;
      if (stanza.name === "iq" && id !== undefined) {
        const done = this.waiting.get(id);
        if (done) {
          this.waiting.delete(id);
          this.learnTokens(user, stanza);
          done(stanza);
        }
      } else if (
        stanza.name === "message" &&
        stanza.attrs.type === "error" &&
        id?.startsWith("fz")
      ) {
        this.messageErrors.set(id, stanza);
      }
    });
  }

  private learnTokens(user: User, reply: Element): void {
    const session = reply.getChild("command", NS_COMMANDS)?.attrs.sessionid as string | undefined;
    if (session) this.tokens[user].session = session;
    const sub =
      reply.getChild("pubsub", NS_PUBSUB)?.getChild("subscription") ??
      reply.getChild("pubsub", NS_PUBSUB)?.getChild("options");
    const subid = sub?.attrs.subid as string | undefined;
    if (subid) this.tokens[user].subid = subid;
  }

  private client(user: User): TestClient {
    return this.world.clients[user];
  }

  private output(): string {
    return this.world.component.output();
  }

  /** Why the component is broken since output offset `from`, if it is. */
  private breakage(from: number): string | undefined {
    const proc = this.world.component.proc;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      return `the component exited (${proc.exitCode ?? proc.signalCode}): ${compact(this.output().slice(from), 1500)}`;
    }
    return this.output()
      .slice(from)
      .split("\n")
      .find((l) => STREAM_TROUBLE.test(l));
  }

  /** Send `text` (an IQ with this id) from `user` and wait for its answer. */
  private async request(user: User, id: string, text: string, from: number): Promise<Answer> {
    let settled = false;
    const replied = new Promise<Answer>((resolve) => {
      this.waiting.set(id, (el) => resolve({ kind: "reply", el }));
    });
    try {
      await this.client(user).xmpp.write(text);
    } catch (err) {
      this.waiting.delete(id);
      return { kind: "write-failed", why: (err as Error).message };
    }
    const timeout = new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: "timeout" }), this.opts.timeoutMs);
      void replied.then(() => clearTimeout(timer));
    });
    const broken = new Promise<Answer>((resolve) => {
      const tick = () => {
        if (settled) return;
        const why = this.breakage(from);
        if (why) resolve({ kind: "broken", why });
        else setTimeout(tick, 25);
      };
      tick();
    });
    const answer = await Promise.race([replied, timeout, broken]);
    settled = true;
    this.waiting.delete(id);
    return answer;
  }

  private nextId(prefix = "fz"): string {
    return `${prefix}${++this.seq}`;
  }

  /** One IQ of the harness's own (snapshots, reset); throws QueryFailed unless answered. */
  private async query(user: User, to: string, type: "get" | "set", body: string): Promise<Element> {
    const id = this.nextId("q");
    const answer = await this.request(
      user,
      id,
      `<iq type='${type}' id='${id}' to='${xmlText(to)}'>${body}</iq>`,
      this.output().length,
    );
    if (answer.kind === "reply") return answer.el;
    throw new QueryFailed(
      `${user}'s ${compact(body, 160)} to ${to}: ${answer.kind === "timeout" ? `no answer within ${this.opts.timeoutMs} ms` : answer.why}`,
    );
  }

  /** The owner's view of their own node, through their own queries. */
  private async view(owner: Owner): Promise<OwnerView> {
    const svc = `${owner}@${C}`;
    const ok = (what: string, el: Element): "result" | "absent" => {
      if (el.attrs.type === "result") return "result";
      const { condition } = errorCondition(el);
      if (condition === "item-not-found") return "absent";
      throw new QueryFailed(`${owner}'s ${what} query answered ${compact(el.toString(), 400)}`);
    };
    const [items, subs, affs, config, pending] = await Promise.all([
      this.query(owner, svc, "get", pubsub(NS_PUBSUB, `<items node='${NODE}'/>`)),
      this.query(owner, svc, "get", pubsub(NS_PUBSUB_OWNER, `<subscriptions node='${NODE}'/>`)),
      this.query(owner, svc, "get", pubsub(NS_PUBSUB_OWNER, `<affiliations node='${NODE}'/>`)),
      this.query(owner, svc, "get", pubsub(NS_PUBSUB_OWNER, `<configure node='${NODE}'/>`)),
      this.query(
        owner,
        C,
        "set",
        `<command xmlns='${NS_COMMANDS}' node='pending' action='execute'/>`,
      ),
    ]);
    const view: OwnerView = {
      exists: true,
      items: [],
      subs: [],
      affs: [],
      config: [],
      pending: [],
    };
    if (ok("items", items) === "absent") view.exists = false;
    else {
      view.items = (
        items.getChild("pubsub", NS_PUBSUB)?.getChild("items")?.getChildren("item") ?? []
      )
        .map((i) => `${i.attrs.id} ${hash(i.getChildElements()[0]?.toString() ?? "")}`)
        .sort();
    }
    if (ok("subscriptions", subs) === "result") {
      view.subs = (
        subs
          .getChild("pubsub", NS_PUBSUB_OWNER)
          ?.getChild("subscriptions")
          ?.getChildren("subscription") ?? []
      )
        .map((s) => `${s.attrs.jid} ${s.attrs.subscription}`)
        .sort();
    }
    if (ok("affiliations", affs) === "result") {
      view.affs = (
        affs
          .getChild("pubsub", NS_PUBSUB_OWNER)
          ?.getChild("affiliations")
          ?.getChildren("affiliation") ?? []
      )
        .map((a) => `${a.attrs.jid} ${a.attrs.affiliation}`)
        .sort();
    }
    if (ok("configure", config) === "result") {
      const x = config
        .getChild("pubsub", NS_PUBSUB_OWNER)
        ?.getChild("configure")
        ?.getChild("x", NS_DATA_FORMS);
      view.config = (x?.getChildren("field") ?? [])
        .filter((f) => f.attrs.var && f.attrs.var !== "FORM_TYPE")
        .map(
          (f) => `${f.attrs.var}=${JSON.stringify(f.getChildren("value").map((v) => v.getText()))}`,
        )
        .sort();
    }
    if (ok("pending", pending) === "result") {
      const x = pending.getChild("command", NS_COMMANDS)?.getChild("x", NS_DATA_FORMS);
      view.pending = (
        x
          ?.getChildren("field")
          .find((f) => f.attrs.var === "jids")
          ?.getChildren("value") ?? []
      )
        .map((v) => v.getText())
        .sort();
    }
    return view;
  }

  private async snapshot(): Promise<Snapshot> {
    const [alice, bob, mallory, ghosts] = await Promise.all([
      this.view("alice"),
      this.view("bob"),
      this.view("mallory"),
      this.ghosts(),
    ]);
    return { alice, bob, mallory, ghosts };
  }

  /** The nodes disco#items shows (to alice) at addresses that are no user's microblog. */
  private async ghosts(): Promise<string[]> {
    const lists = await Promise.all(
      GHOSTS.map(async (g) => {
        const to = targetJid(g, "alice");
        const reply = await this.query("alice", to, "get", `<query xmlns='${NS_DISCO_ITEMS}'/>`);
        if (reply.attrs.type !== "result") return [];
        return (reply.getChild("query", NS_DISCO_ITEMS)?.getChildren("item") ?? []).map(
          (i) => `${to} ${i.attrs.node ?? "(no node)"}`,
        );
      }),
    );
    return lists.flat();
  }

  /** Wait until the component answers a ping again (respawning it if it exited). */
  async recover(): Promise<void> {
    const deadline = Date.now() + 30_000;
    const proc = this.world.component.proc;
    if (proc.exitCode !== null || proc.signalCode !== null) await this.world.respawn();
    for (const u of USERS) {
      if (this.client(u).xmpp.status !== "online") this.attach(await this.world.reconnect(u));
    }
    for (;;) {
      try {
        const pong = await this.query("mallory", C, "get", `<ping xmlns='${NS_PING}'/>`);
        if (pong.attrs.type === "result") return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline)
        throw new Error(
          `the component did not come back within 30 s:\n${this.output().slice(-3000)}`,
        );
      await sleep(200);
    }
  }

  /**
   * Bring the store back to the baseline every batch starts from, so that a replayed batch
   * meets the same state: alice's node with three plain posts and its first configuration,
   * bob's with one, each following the other, and no node of mallory's; nothing else.
   * Returns the snapshot after it.
   */
  async reset(): Promise<Snapshot> {
    for (const u of USERS) this.tokens[u] = {};
    for (let attempt = 0; attempt < 3; attempt++) {
      const from = this.output().length;
      try {
        await this.recover();
        return await this.resetOnce();
      } catch (err) {
        const broken = this.breakage(from);
        this.resetTrouble.push({
          kind: broken ? "stream-reset" : "harness",
          detail: `restoring the baseline failed: ${(err as Error).message}${broken ? `; the component lost its stream: ${broken}` : ""}`,
        });
      }
    }
    // A stored state that breaks even its owner's delete: only a new database gets past it.
    this.resetTrouble.push({
      kind: "harness",
      detail: "the baseline could not be restored: the component was restarted on a new database",
    });
    await this.world.freshStore();
    this.baseline = undefined;
    await this.recover();
    return await this.resetOnce();
  }

  /** What went wrong in resets since the last call. */
  takeResetTrouble(): Finding[] {
    const out = this.resetTrouble;
    this.resetTrouble = [];
    return out;
  }

  /**
   * Whether a snapshot is the baseline's: exactly the last one a reset made (same items), or,
   * with `shapeOnly`, the same but for the items' ids and contents (their number counts).
   */
  private isBaseline(snap: Snapshot, shapeOnly = false): boolean {
    const want = this.baseline;
    if (!want) return false;
    // A possible user's microblog, created by a subscription, is nobody's to delete: not compared.
    const kept = (x: Snapshot) => ({ ...x, ghosts: x.ghosts.filter((g) => !possibleUserNode(g)) });
    const shape = (x: Snapshot) =>
      JSON.stringify(
        shapeOnly
          ? {
              ...kept(x),
              ...Object.fromEntries(OWNERS.map((o) => [o, { ...x[o], items: x[o].items.length }])),
            }
          : kept(x),
      );
    return shape(snap) === shape(want);
  }

  private async resetOnce(): Promise<Snapshot> {
    let snap: Snapshot | undefined;
    try {
      snap = await this.snapshot();
      if (this.isBaseline(snap)) {
        this.last = snap;
        return snap;
      }
    } catch (err) {
      // A stored state its owner cannot read back: the deletes below start afresh anyway.
      if (!(err instanceof QueryFailed)) throw err;
    }
    const must = async (user: User, to: string, type: "get" | "set", body: string, ok = "") => {
      const reply = await this.query(user, to, type, body);
      if (reply.attrs.type === "result") return;
      if (ok && errorCondition(reply).condition === ok) return;
      throw new Error(
        `reset: ${user}'s ${compact(body, 200)} answered ${compact(reply.toString(), 400)}`,
      );
    };
    for (const o of OWNERS) {
      if (snap && !snap[o].exists) continue;
      await must(
        o,
        `${o}@${C}`,
        "set",
        pubsub(NS_PUBSUB_OWNER, `<delete node='${NODE}'/>`),
        "item-not-found",
      );
    }
    for (const [o, n] of [
      ["alice", 3],
      ["bob", 1],
    ] as const) {
      for (let i = 0; i < n; i++) {
        await must(
          o,
          `${o}@${C}`,
          "set",
          pubsub(
            NS_PUBSUB,
            `<publish node='${NODE}'><item><entry xmlns='${NS_ATOM}'><title type='text'>${o}'s post ${i}</title></entry></item></publish>`,
          ),
        );
      }
    }
    for (const [follower, owner] of [
      ["bob", "alice"],
      ["alice", "bob"],
    ] as const) {
      await must(
        follower,
        `${owner}@${C}`,
        "set",
        pubsub(NS_PUBSUB, `<subscribe node='${NODE}' jid='${follower}@${D}'/>`),
      );
    }
    snap = await this.snapshot();
    if (this.baseline && !this.isBaseline(snap, true)) {
      throw new Error(
        `reset: the store did not come back to the baseline: ${compact(JSON.stringify(snap), 1500)}`,
      );
    }
    this.baseline = snap;
    this.last = snap;
    return snap;
  }

  private fill(body: string, sender: User): string {
    const items = this.last?.alice.items.map((i) => i.split(" ")[0] ?? "") ?? [];
    const values: Record<string, string> = {
      SELF: `${sender}@${D}`,
      SELF_FULL: `${sender}@${D}/${this.client(sender).xmpp.jid?.resource ?? ""}`,
      ITEM: items[0] ?? "no-item",
      ITEM2: items[items.length - 1] ?? "no-item",
      SESSION: this.tokens[sender].session ?? "no-session",
      SUBID: this.tokens[sender].subid ?? "no-subid",
    };
    return body.replace(/%%([A-Z_0-9]+)%%/g, (whole, name: string) =>
      values[name] === undefined ? whole : xmlText(values[name]),
    );
  }

  private count(key: string): void {
    this.stats.outcomes[key] = (this.stats.outcomes[key] ?? 0) + 1;
  }

  /** Send one stanza and check everything after it. */
  private async runStanza(
    sender: User,
    st: FuzzStanza,
    before: Snapshot,
  ): Promise<{ failures: Failure[]; after: Snapshot }> {
    const id = this.nextId();
    const text = stanzaXml(st, id, sender, this.fill(st.body, sender));
    const shown = compact(text);
    const failures: Finding[] = [];
    const fail = (kind: FailureKind, detail: string, part?: string) =>
      failures.push(part === undefined ? { kind, detail } : { kind, detail, part });
    this.stats.stanzas++;
    this.stats.bySender[sender] = (this.stats.bySender[sender] ?? 0) + 1;
    this.stats.byLabel[st.label] = (this.stats.byLabel[st.label] ?? 0) + 1;
    const from = this.output().length;
    let refused = false;
    let answer: Answer;
    if (st.kind === "iq") {
      answer = await this.request(sender, id, text, from);
    } else {
      // No answer is due: a ping from the same stream after it is answered once it was handled.
      try {
        await this.client(sender).xmpp.write(text);
      } catch (err) {
        fail("client-lost", `could not send: ${(err as Error).message}`);
      }
      const ping = this.nextId("p");
      answer = await this.request(
        sender,
        ping,
        `<iq type='get' id='${ping}' to='${C}'><ping xmlns='${NS_PING}'/></iq>`,
        from,
      );
      const error = this.messageErrors.get(id);
      this.messageErrors.delete(id);
      if (error) {
        refused = true;
        const { condition, problem } = errorCondition(error);
        this.count(`message error ${condition ?? "?"}`);
        if (problem) fail("bad-error", `the error message: ${problem}`);
        else if (condition === "internal-server-error")
          fail("internal-server-error", `answered ${compact(error.toString(), 500)}`);
      }
    }
    if (answer.kind === "reply") {
      const reply = answer.el;
      if (st.kind === "iq") {
        if (reply.attrs.type === "result") this.count("result");
        else if (reply.attrs.type === "error") {
          refused = true;
          const { condition, problem } = errorCondition(reply);
          this.count(`error ${condition ?? "?"}`);
          if (problem) fail("bad-error", problem);
          else if (condition === "internal-server-error")
            fail("internal-server-error", `answered ${compact(reply.toString(), 500)}`);
        } else fail("bad-reply", `reply of type '${reply.attrs.type}'`);
      } else if (reply.attrs.type !== "result") {
        fail("no-reply", `the ping after it answered ${compact(reply.toString(), 300)}`);
      }
    } else if (answer.kind === "timeout") {
      this.count("no reply");
      fail(
        "no-reply",
        st.kind === "iq"
          ? `no answer within ${this.opts.timeoutMs} ms`
          : `the ping after it got no answer within ${this.opts.timeoutMs} ms`,
      );
    } else if (answer.kind === "write-failed") {
      fail("client-lost", `could not send: ${answer.why}`);
    }
    // What the owners see now; a failing query is this stanza's doing too.
    let after: Snapshot | undefined;
    if (answer.kind !== "broken") {
      try {
        after = await this.snapshot();
      } catch (err) {
        if (!(err instanceof QueryFailed)) throw err;
        fail("owner-query", `after it, ${err.message}`);
      }
    }
    // A server answers for a component whose stream just closed before the component logs it.
    let broken = this.breakage(from);
    for (let waited = 0; !broken && failures.length > 0 && waited < 600; waited += 50) {
      await sleep(50);
      broken = this.breakage(from);
    }
    if (broken) {
      const exited = broken.startsWith("the component exited");
      // The stream reset explains a missing answer and failing queries: report the reset alone.
      for (let i = failures.length - 1; i >= 0; i--) {
        const kind = failures[i]?.kind;
        if (kind === "no-reply" || kind === "owner-query") failures.splice(i, 1);
      }
      fail(
        exited ? "process-exit" : "stream-reset",
        exited ? broken : `the component lost its stream: ${broken}`,
      );
      this.count(exited ? "process exit" : "stream reset");
    }
    let cause: string | undefined;
    for (const line of this.output().slice(from).split("\n")) {
      if (!/"level":(5|6)0/.test(line)) continue;
      let msg = line;
      try {
        const parsed = JSON.parse(line) as {
          msg?: string;
          err?: { message?: string; type?: string };
        };
        msg = `${parsed.msg ?? ""}${parsed.err ? `: ${parsed.err.type ?? ""} ${parsed.err.message ?? ""}` : ""}`;
      } catch {
        // not JSON: keep the line
      }
      cause ??= msg.replace(/\d+/g, "#").slice(0, 120);
      fail("error-log", `the component logged an error: ${compact(msg, 400)}`);
    }
    for (const u of USERS) {
      if (this.client(u).xmpp.status !== "online")
        fail("client-lost", `${u}'s stream is ${this.client(u).xmpp.status} after it`);
    }
    if (broken || failures.some((f) => f.kind === "client-lost")) {
      // Back online, what the owners see now still tells whether the stanza changed anything.
      await this.recover();
      try {
        after = await this.snapshot();
      } catch (err) {
        if (!(err instanceof QueryFailed)) throw err;
        fail("owner-query", `after it and a recovery, ${err.message}`);
      }
    }
    if (after) {
      for (const v of this.compare(before, after, sender, refused, st.inert, st))
        fail("state", v.detail, v.part);
      this.last = after;
    } else {
      after = await this.reset();
    }
    return { failures: merge(failures, { label: st.label, sender, stanza: shown, cause }), after };
  }

  /** What changed between two snapshots that `sender` may not change. */
  private compare(
    before: Snapshot,
    after: Snapshot,
    sender: User,
    refused: boolean,
    inert: string | undefined,
    st?: FuzzStanza,
  ): { part: string; detail: string }[] {
    const out: { part: string; detail: string }[] = [];
    const me = `${sender}@${D}`;
    const newGhosts = after.ghosts.filter(
      (g) => !before.ghosts.includes(g) && !(st && createdBySubscription(st, g)),
    );
    if (newGhosts.length > 0)
      out.push({
        part: "ghost-node",
        detail: `a node appeared at an address that is no user's microblog: ${newGhosts.join(", ")}`,
      });
    for (const owner of OWNERS) {
      for (const part of VIEW_PARTS) {
        const was = before[owner][part];
        const now = after[owner][part];
        if (JSON.stringify(was) === JSON.stringify(now)) continue;
        const gone = Array.isArray(was)
          ? was.filter((x) => !(now as string[]).includes(x))
          : [String(was)];
        const added = Array.isArray(now)
          ? now.filter((x) => !(was as string[]).includes(x))
          : [String(now)];
        const change = `−[${gone.join(", ")}] +[${added.join(", ")}]`;
        const where = `${owner}.${part}`;
        if (part === "subs" || part === "affs" || part === "pending") {
          const bad = added.filter((e) => jidProblem(entryJid(e, part)) !== undefined);
          if (bad.length > 0)
            out.push({
              part: `${where} bad-jid`,
              detail: `${owner}'s ${part} now hold what is no JID: ${bad.map((e) => `${compact(e, 80)} (${jidProblem(entryJid(e, part))})`).join(", ")}`,
            });
        }
        if (refused) {
          out.push({
            part: where,
            detail: `refused with an error, yet ${owner}'s ${part} changed: ${change}`,
          });
        } else if (inert !== undefined) {
          out.push({
            part: where,
            detail: `it must change nothing (${inert}), yet ${owner}'s ${part} changed: ${change}`,
          });
        } else if (sender !== owner) {
          if (part === "subs" || part === "pending") {
            const foreign = [...gone, ...added].filter((e) => bareOf(entryJid(e, part)) !== me);
            if (foreign.length > 0)
              out.push({
                part: where,
                detail: `${sender} changed others' entries in ${owner}'s ${part}: ${change}`,
              });
            const access = after[owner].config.find((c) => c.startsWith("pubsub#access_model="));
            if (
              part === "subs" &&
              access !== 'pubsub#access_model=["open"]' &&
              added.some((e) => e.endsWith(" subscribed") && bareOf(entryJid(e, part)) === me)
            )
              out.push({
                part: where,
                detail: `${sender} became subscribed to ${owner}'s node with ${access} without approval: ${change}`,
              });
          } else {
            out.push({ part: where, detail: `${sender} changed ${owner}'s ${part}: ${change}` });
          }
        }
      }
    }
    return out;
  }

  /**
   * Run one batch from the baseline; every failure is returned, none is thrown. With `stopOn`
   * (shrinking), the batch ends at the first failure of that signature.
   */
  async runBatch(batch: FuzzBatch, stopOn?: string): Promise<Failure[]> {
    this.stats.batches++;
    const failures: Failure[] = [];
    let previous = "(the batch before)";
    const troubles = () => {
      for (const t of this.takeResetTrouble()) {
        failures.push({
          signature: `reset ${t.kind}`,
          kind: t.kind,
          label: "reset",
          sender: "alice",
          stanza: `after ${previous}`,
          detail: t.detail,
        });
      }
      return stopOn !== undefined && failures.some((f) => f.signature === stopOn);
    };
    const reset = async (): Promise<Snapshot | undefined> => {
      try {
        return await this.reset();
      } catch (err) {
        this.resetTrouble.push({ kind: "harness", detail: (err as Error).message });
        return undefined;
      }
    };
    let before = await reset();
    if (troubles() || !before) return failures;
    for (const [index, { sender, stanza: st }] of batch.steps.entries()) {
      previous = `${sender}'s ${compact(stanzaXml(st, "…", sender), 400)}`;
      try {
        const out = await this.runStanza(sender, st, before);
        failures.push(...out.failures.map((f) => ({ ...f, index })));
        before = out.after;
        // Shrinking looks for one failure: the rest of the batch cannot matter to it.
        if (stopOn !== undefined && out.failures.some((f) => f.signature === stopOn))
          return failures;
      } catch (err) {
        failures.push({
          signature: `${st.label} harness`,
          kind: "harness",
          label: st.label,
          sender,
          stanza: compact(stanzaXml(st, "…", sender)),
          detail: (err as Error).stack ?? String(err),
          index,
        });
        before = await reset();
      }
      if (troubles() || !before) return failures;
    }
    // The batch's end: the component answers a ping, and the store goes back to the baseline
    // (whatever the batch stored must not break that either).
    try {
      const pong = await this.query("mallory", C, "get", `<ping xmlns='${NS_PING}'/>`);
      if (pong.attrs.type !== "result")
        throw new QueryFailed(`ping answered ${compact(pong.toString(), 300)}`);
    } catch (err) {
      failures.push({
        signature: "batch ping",
        kind: "no-reply",
        label: "ping",
        sender: "mallory",
        stanza: `after ${previous}`,
        detail: (err as Error).message,
      });
    }
    await reset();
    troubles();
    return failures;
  }
}

// ───────────────────────────── the run ─────────────────────────────

export interface FuzzOptions {
  seed: number;
  /** Property runs (batches) to explore. */
  runs: number;
  /** At most this many stanzas per batch. */
  batchSize: number;
  /** Stop exploring after this many stanzas (when reached before `runs`). */
  maxStanzas?: number;
  /** Stop exploring after this long. */
  timeLimitMs?: number;
  timeoutMs?: number;
  /** Time for shrinking, all defects together. */
  shrinkBudgetMs: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface Defect {
  signature: string;
  kind: FailureKind;
  /** The first failure of this kind, as it happened in the exploration. */
  first: Failure;
  /** The exploration run (fast-check path) it happened in. */
  run: number;
  /** How often it happened during the exploration. */
  count: number;
  /** The shrunk counterexample, when the replay reproduced it. */
  shrunk?: { counterexample: string; failure: string; shrinks: number; path: string };
  note?: string;
}

export interface FuzzReport {
  kind: ServerKind;
  seed: number;
  /** What the exploration sent (shrinking not counted). */
  stats: FuzzStats;
  /** Stanzas sent while shrinking. */
  shrinkStanzas: number;
  defects: Defect[];
  durationMs: number;
}

/**
 * Explore `runs` batches with the seed, then shrink one batch per distinct failure signature
 * (replaying it with fast-check's path), within the shrink budget.
 */
export async function runFuzz(world: FuzzWorld, opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  generatorLimits.maxDepth = world.kind === "ejabberd" ? 3000 : 16_000;
  const fuzzer = new Fuzzer(world, { timeoutMs: opts.timeoutMs ?? 5000 });
  const arb = batchArb(opts.batchSize);
  const defects = new Map<string, Defect>();
  let run = -1;
  let stopped = false;
  const explore = fc.asyncProperty(arb, async (batch) => {
    run++;
    if (stopped) return;
    const failures = await fuzzer.runBatch(batch);
    for (const f of failures) {
      const known = defects.get(f.signature);
      if (known) known.count++;
      else {
        defects.set(f.signature, { signature: f.signature, kind: f.kind, first: f, run, count: 1 });
        log(
          `[${world.kind}] run ${run}: ${f.signature}: ${f.detail.slice(0, 300)}\n    ${f.stanza.slice(0, 600)}`,
        );
      }
    }
    if (
      (opts.maxStanzas !== undefined && fuzzer.stats.stanzas >= opts.maxStanzas) ||
      (opts.timeLimitMs !== undefined && Date.now() - started > opts.timeLimitMs)
    )
      stopped = true;
  });
  const explored = await fc.check(explore, { seed: opts.seed, numRuns: opts.runs });
  if (explored.failed)
    log(`[${world.kind}] exploration stopped: ${fc.defaultReportMessage(explored)}`);
  const explorationStats = structuredClone(fuzzer.stats);
  log(
    `[${world.kind}] explored ${fuzzer.stats.batches} batches, ${fuzzer.stats.stanzas} stanzas; ${defects.size} distinct failures`,
  );

  const shrinkEnd = Date.now() + opts.shrinkBudgetMs;
  for (const defect of defects.values()) {
    if (defect.kind === "harness") continue;
    if (Date.now() > shrinkEnd) {
      defect.note = "not shrunk: out of shrink time";
      continue;
    }
    const left = [...defects.values()].filter((d) => d.kind !== "harness" && !d.shrunk && !d.note);
    const perDefect = Math.max(15_000, (shrinkEnd - Date.now()) / Math.max(1, left.length));
    const deadline = Math.min(shrinkEnd, Date.now() + perDefect);
    let lastFailure = "";
    let lastHit: { batch: FuzzBatch; index: number } | undefined;
    const target = fc.asyncProperty(arb, async (batch) => {
      fc.pre(Date.now() < deadline);
      const failures = await fuzzer.runBatch(batch, defect.signature);
      const hit = failures.find((f) => f.signature === defect.signature);
      if (hit) {
        lastFailure = `${hit.detail}\n  stanza: ${hit.stanza}`;
        lastHit = { batch, index: hit.index ?? batch.steps.length - 1 };
        throw new Error(lastFailure);
      }
    });
    const details = await fc.check(target, {
      seed: opts.seed,
      path: String(defect.run),
      numRuns: 1,
      endOnFailure: false,
    });
    if (details.failed && details.counterexample && lastHit) {
      // The stanzas after the failing one were not sent; and perhaps it fails on its own.
      const { batch, index } = lastHit;
      const alone = batch.steps.slice(index, index + 1);
      const isolated =
        index > 0 &&
        (await fuzzer.runBatch(batchOf(alone), defect.signature)).some(
          (f) => f.signature === defect.signature,
        );
      const shown = isolated ? alone : batch.steps.slice(0, index + 1);
      defect.shrunk = {
        counterexample: `${showSteps(shown)}${isolated ? "  (the last stanza alone reproduces it)" : ""}`,
        failure: lastFailure,
        shrinks: details.numShrinks,
        path: details.counterexamplePath ?? String(defect.run),
      };
      log(`[${world.kind}] shrunk ${defect.signature} (${details.numShrinks} shrinks)`);
    } else {
      defect.note = "the replay of its batch did not reproduce it";
    }
  }
  return {
    kind: world.kind,
    seed: opts.seed,
    stats: explorationStats,
    shrinkStanzas: fuzzer.stats.stanzas - explorationStats.stanzas,
    defects: [...defects.values()],
    durationMs: Date.now() - started,
  };
}

/** A readable report: the summary, then each defect with its stanza and what happened. */
export function formatReport(report: FuzzReport): string {
  const s = report.stats;
  const lines = [
    `fuzz on ${report.kind}, seed ${report.seed}: ${s.stanzas} stanzas in ${s.batches} batches (+${report.shrinkStanzas} while shrinking) (${Object.entries(
      s.bySender,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}), ${(report.durationMs / 1000).toFixed(1)} s`,
    `  outcomes: ${Object.entries(s.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `  stanzas by handler: ${Object.entries(s.byLabel)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `  distinct failures: ${report.defects.length}`,
  ];
  report.defects.forEach((d, i) => {
    lines.push(
      "",
      `${i + 1}. ${d.signature} (${d.count}× in the exploration; first in run ${d.run}, sent by ${d.first.sender})`,
      `   what happened: ${d.first.detail}`,
      `   stanza: ${d.first.stanza}`,
    );
    if (d.shrunk) {
      lines.push(
        `   shrunk (${d.shrunk.shrinks} shrinks; replay: seed ${report.seed}, path "${d.shrunk.path}"):`,
        `   ${d.shrunk.counterexample.replace(/\n/g, "\n   ")}`,
        `   failure: ${d.shrunk.failure.replace(/\n/g, "\n   ")}`,
      );
    } else if (d.note) lines.push(`   (${d.note})`);
  });
  lines.push("", `replay: WARBLE_FUZZ_SEED=${report.seed}`);
  return lines.join("\n");
}
