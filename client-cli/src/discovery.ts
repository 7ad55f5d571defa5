/**
 * Finding things by XEP-0030: the user's Warble (disco#items of the user's domain, then the
 * disco#info of each item: feature urn:xmpp:microblog:0 and the urn:xmpp:warble:0 form listing
 * the domain), and the microblog node of anyone (`show JID`), resolved like `follow`.
 */
import {
  buildDiscoInfoQuery,
  buildDiscoItemsQuery,
  type DiscoInfo,
  parseDiscoInfo,
  parseDiscoItems,
  warbleUsersDomains,
} from "../../schemas/src/microblog-disco.js";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MICROBLOG } from "../../schemas/src/ns.js";
import { parseItemUri } from "../../schemas/src/xmpp-uri.js";
import { CliError, refusedError, usageError } from "./errors.js";
import type { Session } from "./session.js";

const MAX_ITEMS = 50;

async function discoInfo(session: Session, jid: string): Promise<DiscoInfo | undefined> {
  try {
    const reply = await session.request("get", jid, buildDiscoInfoQuery());
    return parseDiscoInfo(reply.getChild("query", NS_DISCO_INFO));
  } catch (err) {
    if (err instanceof CliError && err.exitCode === 5) return undefined;
    throw err;
  }
}

/** The Warble serving `domain`, with its users domains; undefined when there is none. */
export async function findWarble(
  session: Session,
  domain: string,
): Promise<{ jid: string; usersDomains: string[] } | undefined> {
  const reply = await session.request("get", domain, buildDiscoItemsQuery());
  const items = parseDiscoItems(reply.getChild("query", NS_DISCO_ITEMS), MAX_ITEMS).filter(
    (i) => !i.node && !i.jid.includes("@") && !i.jid.includes("/"),
  );
  const infos = await Promise.allSettled(items.map((i) => discoInfo(session, i.jid)));
  for (const [i, item] of items.entries()) {
    const settled = infos[i];
    const info = settled?.status === "fulfilled" ? settled.value : undefined;
    const usersDomains = info && warbleUsersDomains(info);
    if (usersDomains?.includes(domain)) return { jid: item.jid.toLowerCase(), usersDomains };
  }
  return undefined;
}

export interface Warble {
  jid: string;
  usersDomains?: string[];
}

/** The user's component C; exit 5 when the domain has none. */
export async function findComponent(session: Session, domain: string): Promise<Warble> {
  const found = await findWarble(session, domain);
  if (!found) {
    throw refusedError(
      `${domain} has no Warble microblog service (give it with --component or WARBLE_COMPONENT)`,
    );
  }
  return found;
}

export interface Microblog {
  service: string;
  node: string;
  /** The account whose posts these are (a@E), when known. */
  owner?: string;
}

/** The address of `local@domain` at a Warble: its own local part for the first users domain. */
function addressAt(warble: { jid: string; usersDomains: string[] }, local: string, domain: string) {
  const escaped = warble.usersDomains[0] === domain ? local : `${local}\\40${domain}`;
  return `${escaped}@${warble.jid}`;
}

/**
 * Where `input` posts: an xmpp: URI names its node; a JID at a Warble is a microblog address;
 * a user's JID is served by the Warble its domain lists, else by its own PEP node.
 */
export async function locateMicroblog(
  session: Session,
  input: string,
  own: { domain: string; component?: string },
): Promise<Microblog> {
  const text = input.trim();
  if (text.startsWith("xmpp:")) {
    const uri = parseItemUri(text, true);
    if (!uri) throw usageError(`"${input}" is not an xmpp: URI of a microblog`);
    return { service: uri.service, node: uri.node };
  }
  const m = /^([^@/\s]+)@([^@/\s]+)$/.exec(text);
  if (!m) throw usageError(`"${input}" is not a JID such as alice@example.org`);
  const local = m[1] as string;
  const domain = (m[2] as string).toLowerCase();
  const jid = `${local}@${domain}`;
  if (domain === own.component) return { service: jid, node: NS_MICROBLOG };
  const info = await discoInfo(session, domain);
  if (info && warbleUsersDomains(info)) return { service: jid, node: NS_MICROBLOG };
  const warble = await findWarble(session, domain).catch((err) => {
    if (err instanceof CliError && err.exitCode === 5) return undefined;
    throw err;
  });
  if (warble) return { service: addressAt(warble, local, domain), node: NS_MICROBLOG, owner: jid };
  return { service: jid, node: NS_MICROBLOG, owner: jid };
}
