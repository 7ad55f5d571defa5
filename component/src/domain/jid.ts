/**
 * Tiny pure JID helpers. JIDs are plain strings in the domain: bare "user@domain", full
 * "user@domain/resource", or a bare domain "domain". Every JID that comes in with a request
 * (an attribute, a form field, a command) is checked once with acceptJid where it enters the
 * domain: RFC 7622 structure and the 1,023-byte limit of each part; otherwise jid-malformed.
 */
import { PubsubError } from "./errors.js";

const MAX_PART_BYTES = 1023;
/** RFC 7622 §3.3.1 (UsernameCaseMapped): no " & ' / : < > @, no space or control characters. */
const BAD_LOCAL = /[\s"&'/:<>@\p{Cc}\p{Cs}]/u;
/** A domain name or an IP literal: no space, control, @, /, \ or the characters XML must escape. */
const BAD_DOMAIN = /[\s@/\\"&'<>\p{Cc}\p{Cs}]/u;
/** RFC 7622 §3.4 (OpaqueString): any character but controls (and surrogate halves). */
const BAD_RESOURCE = /[\p{Cc}\p{Cs}]/u;

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

function domainProblem(domain: string): string | undefined {
  if (domain === "") return "the domain part is empty";
  if (bytes(domain) > MAX_PART_BYTES)
    return `the domain part is longer than ${MAX_PART_BYTES} bytes`;
  if (domain.startsWith("[") && domain.endsWith("]")) {
    return /^\[[0-9a-f:.]+\]$/i.test(domain) ? undefined : "the IP literal is not an IPv6 address";
  }
  if (BAD_DOMAIN.test(domain) || domain.includes("[") || domain.includes("]"))
    return "the domain part has a character a domain name cannot have";
  const labels = domain.replace(/\.$/, "").split(".");
  if (labels.some((l) => l === "" || bytes(l) > 63))
    return "the domain part has an empty or over-long label";
  return undefined;
}

/** Why `jid` is not an RFC 7622 JID, or undefined when it is one. */
export function jidProblem(jid: string): string | undefined {
  const slash = jid.indexOf("/");
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  const at = bare.indexOf("@");
  if (slash !== -1) {
    const resource = jid.slice(slash + 1);
    if (resource === "") return "the resource part is empty";
    if (bytes(resource) > MAX_PART_BYTES)
      return `the resource part is longer than ${MAX_PART_BYTES} bytes`;
    if (BAD_RESOURCE.test(resource)) return "the resource part has a control character";
  }
  if (at !== -1) {
    const local = bare.slice(0, at);
    if (local === "") return "the local part is empty";
    if (bytes(local) > MAX_PART_BYTES)
      return `the local part is longer than ${MAX_PART_BYTES} bytes`;
    if (BAD_LOCAL.test(local)) return "the local part has a character a JID cannot have";
  }
  return domainProblem(at === -1 ? bare : bare.slice(at + 1));
}

/**
 * A JID from a request, checked and in its one domain form (normalizeJid); a malformed one is
 * refused with jid-malformed and a text that says what is wrong (shortened: it may be 3 KB).
 */
export function acceptJid(jid: string): string {
  const problem = jidProblem(jid);
  if (problem) {
    const shown = jid.length > 64 ? `${jid.slice(0, 64)}…` : jid;
    throw new PubsubError("jid-malformed", { text: `"${shown}" is not a JID: ${problem}` });
  }
  // RFC 7622 §3.2: a trailing dot of the domain part is not part of the JID.
  const slash = jid.indexOf("/");
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  const rest = slash === -1 ? "" : jid.slice(slash);
  return normalizeJid(`${bare.endsWith(".") ? bare.slice(0, -1) : bare}${rest}`);
}

/**
 * The one form of a JID inside the domain: local part and domain in lower case (the part of
 * nodeprep / nameprep that matters here), the resource as sent ("Bob@X/Phone" → "bob@x/Phone").
 * The use cases normalise every JID they are given with this before comparing or storing it.
 */
export function normalizeJid(jid: string): string {
  const slash = jid.indexOf("/");
  return slash === -1
    ? jid.toLowerCase()
    : `${jid.slice(0, slash).toLowerCase()}${jid.slice(slash)}`;
}

/** "a@b/r" → "a@b"; "b/r" → "b"; lower-cases the local part and domain (the resource is dropped). */
export function bareJid(jid: string): string {
  const slash = jid.indexOf("/");
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  return bare.toLowerCase();
}

/** "a@b/r" → "b"; "b" → "b". */
export function domainOf(jid: string): string {
  const bare = bareJid(jid);
  const at = bare.indexOf("@");
  return at === -1 ? bare : bare.slice(at + 1);
}

/** "a@b/r" → "a"; "b" → undefined. */
export function localOf(jid: string): string | undefined {
  const bare = bareJid(jid);
  const at = bare.indexOf("@");
  return at === -1 ? undefined : bare.slice(0, at);
}

/**
 * A JID without "@" and without "/" names a whole domain. In affiliation lists such an entry
 * applies to every JID of that domain (e.g. an outcast "rogue.example" bans all of it).
 */
export function isDomainJid(jid: string): boolean {
  return !jid.includes("@") && !jid.includes("/");
}
