/**
 * Tiny pure JID helpers. JIDs are plain strings in the domain: bare "user@domain", full
 * "user@domain/resource", or a bare domain "domain". No validation beyond shape: stringprep and
 * syntax checks belong to the protocol layer, which hands the core already parsed addresses.
 */

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
