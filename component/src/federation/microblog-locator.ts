/**
 * Where a microblog lives (INTERFACE "Following"): `follow X` takes a microblog address a@C2,
 * an xmpp: URI of a node, or a user's JID a@E. For a@E, the Warble serving E is found by disco
 * (disco#items of E, then disco#info of each item: the urn:xmpp:warble:0 form lists the users
 * domains it serves); where there is none, the XEP-0163 PEP node at a@E itself. What disco
 * finds about a domain is cached.
 */
import {
  buildDiscoInfoQuery,
  buildDiscoItemsQuery,
  parseDiscoInfo,
  parseDiscoItems,
  warbleUsersDomains,
} from "../../../schemas/src/microblog-disco.js";
import type { Element } from "../../../schemas/src/xml.js";
import { parseItemUri } from "../../../schemas/src/xmpp-uri.js";
import { PubsubError } from "../domain/errors.js";
import { acceptJid, bareJid, domainOf, localOf } from "../domain/jid.js";
import { SERVER_UNREACHABLE_CONDITIONS } from "../domain/retry-schedule.js";
import { MICROBLOG_NODE, type NodeRef } from "../domain/types.js";
import type { Addresses } from "../protocol/addresses.js";
import { IqError, IqTimeoutError } from "./iq-caller.js";

/** How a domain serves microblogs. */
export type DomainKind =
  | { kind: "warble"; usersDomains: string[] }
  | { kind: "users"; warble?: { domain: string; usersDomains: string[] } };

/** What the locator needs to ask: disco from C (a domain JID). */
export type DiscoAsk = (to: string, query: Element) => Promise<Element | undefined>;

export interface LocatorOptions {
  addresses: Addresses;
  ask: DiscoAsk;
  /** How long a domain's answer is kept (default 1 h). */
  ttlMs?: number;
  now?: () => number;
  /** Items of a domain asked for disco#info (default 20). */
  maxItems?: number;
}

/** The microblog a user asked for, and how they named it. */
export interface Located {
  ref: NodeRef;
  /** The user's JID or address as given, normalised (shown in `following`). */
  target: string;
  /** "pep" when the node is the user's own PEP node. */
  via: "warble" | "pep" | "uri";
}

const notAJid = (input: string) =>
  new PubsubError("jid-malformed", {
    text: `"${input}" is not a JID: give an address such as alice@example.org or an xmpp: URI`,
  });

export class MicroblogLocator {
  private readonly cache = new Map<string, { kind: DomainKind; until: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: LocatorOptions) {
    this.ttlMs = opts.ttlMs ?? 3600_000;
    this.now = opts.now ?? Date.now;
  }

  async locate(input: string): Promise<Located> {
    const text = input.trim();
    if (text.startsWith("xmpp:")) {
      const parsed = parseItemUri(text, true);
      if (!parsed) {
        if (/[?;]node=(;|$)/.test(text)) {
          throw new PubsubError("bad-request", { text: `${text} names an empty node` });
        }
        throw notAJid(text);
      }
      const service = this.acceptUserJid(parsed.service, text);
      return { ref: { service, node: parsed.node }, target: text, via: "uri" };
    }
    const jid = this.acceptUserJid(text, text);
    return this.locateJid(jid);
  }

  private acceptUserJid(jid: string, input: string): string {
    let accepted: string;
    try {
      accepted = bareJid(acceptJid(jid)).toLowerCase();
    } catch {
      throw notAJid(input);
    }
    if (localOf(accepted) === undefined) throw notAJid(input);
    return accepted;
  }

  private async locateJid(jid: string): Promise<Located> {
    const { addresses } = this.opts;
    const domain = domainOf(jid);
    const local = localOf(jid) ?? "";
    if (domain === addresses.componentDomain) {
      return { ref: { service: jid, node: MICROBLOG_NODE }, target: jid, via: "warble" };
    }
    const own = addresses.serviceOf(jid);
    if (own) return { ref: { service: own, node: MICROBLOG_NODE }, target: jid, via: "warble" };
    const kind = await this.domainKind(domain);
    if (kind.kind === "warble") {
      return { ref: { service: jid, node: MICROBLOG_NODE }, target: jid, via: "warble" };
    }
    if (kind.warble) {
      const { domain: c2, usersDomains } = kind.warble;
      const escaped = usersDomains[0] === domain ? local : `${local}\\40${domain}`;
      return {
        ref: { service: `${escaped}@${c2}`, node: MICROBLOG_NODE },
        target: jid,
        via: "warble",
      };
    }
    return { ref: { service: jid, node: MICROBLOG_NODE }, target: jid, via: "pep" };
  }

  /** Whether `domain` is a Warble, or a users domain (with the Warble that serves it, if any). */
  async domainKind(domain: string): Promise<DomainKind> {
    const cached = this.cache.get(domain);
    if (cached && cached.until > this.now()) return cached.kind;
    const kind = await this.discover(domain);
    this.cache.set(domain, { kind, until: this.now() + this.ttlMs });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return kind;
  }

  private async discover(domain: string): Promise<DomainKind> {
    const info = await this.info(domain);
    const served = info && warbleUsersDomains(info);
    if (served) return { kind: "warble", usersDomains: served };
    let items: ReturnType<typeof parseDiscoItems> = [];
    try {
      items = parseDiscoItems(
        await this.opts.ask(domain, buildDiscoItemsQuery()),
        this.opts.maxItems ?? 20,
      );
    } catch (err) {
      if (!(err instanceof IqError) || isS2sFailure(err)) throw unreachable(domain, err);
    }
    const candidates = items
      .map((i) => ({ ...i, jid: bareJid(i.jid) }))
      .filter((i) => !i.node && domainOf(i.jid) === i.jid);
    // One listed item that does not answer (a stale component) must not hide the others.
    const infos = await Promise.allSettled(candidates.map((i) => this.info(i.jid)));
    for (const [i, candidate] of candidates.entries()) {
      const settled = infos[i];
      const info = settled?.status === "fulfilled" ? settled.value : undefined;
      const usersDomains = info && warbleUsersDomains(info);
      if (usersDomains?.includes(domain)) {
        return { kind: "users", warble: { domain: candidate.jid, usersDomains } };
      }
    }
    return { kind: "users" };
  }

  private async info(jid: string) {
    try {
      return parseDiscoInfo(await this.opts.ask(jid, buildDiscoInfoQuery()));
    } catch (err) {
      if (err instanceof IqError && !isS2sFailure(err)) return undefined;
      throw unreachable(jid, err);
    }
  }
}

export function isS2sFailure(err: unknown): boolean {
  return (
    err instanceof IqTimeoutError ||
    (err instanceof IqError && SERVER_UNREACHABLE_CONDITIONS.has(err.error.condition))
  );
}

function unreachable(domain: string, err: unknown): PubsubError {
  const why = err instanceof IqTimeoutError ? "did not answer in time" : "could not be reached";
  return new PubsubError("service-unavailable", { text: `${domain} ${why}; try again later` });
}
