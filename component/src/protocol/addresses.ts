import { bareJid } from "../domain/jid.js";

export { bareJid };

/**
 * Who owns which microblog address. The user u@D owns u@C. With several users domains, u@C
 * belongs to the first one, and a user of another domain D2 has the XEP-0106 escaped address
 * u\40D2@C (so "bob@other.example" owns "bob\40other.example@C").
 */
export class Addresses {
  constructor(
    readonly componentDomain: string,
    readonly usersDomains: readonly string[],
  ) {}

  /**
   * The owner u@D of the service u@C, or null when the local part names no possible user. Only
   * the canonical address of a user owns a node: "alice\40D@C" for the first users domain D is
   * nobody's (alice@C is hers), and a user part cannot itself hold an escaped "@".
   */
  ownerOf(local: string): string | null {
    if (!local) return null;
    const at = local.lastIndexOf("\\40");
    const user = at < 0 ? local : local.slice(0, at);
    const domain = at < 0 ? this.usersDomains[0] : local.slice(at + 3);
    if (!user || !domain || !this.usersDomains.includes(domain)) return null;
    const owner = `${user}@${domain}`;
    return this.serviceOf(owner) === `${local.toLowerCase()}@${this.componentDomain}`
      ? owner
      : null;
  }

  /** The owner u@D of a service JID u@C (bare or full), or undefined for any other address. */
  ownerOfService(serviceJid: string): string | undefined {
    const bare = bareJid(serviceJid);
    const at = bare.lastIndexOf("@");
    if (at <= 0 || bare.slice(at + 1) !== this.componentDomain) return undefined;
    return this.ownerOf(bare.slice(0, at)) ?? undefined;
  }

  /** The microblog service JID u@C of the local user u@D, or null for a JID of another domain. */
  serviceOf(owner: string): string | null {
    const bare = bareJid(owner);
    const at = bare.lastIndexOf("@");
    if (at <= 0) return null;
    const user = bare.slice(0, at);
    const domain = bare.slice(at + 1);
    if (!this.usersDomains.includes(domain) || user.includes("\\40")) return null;
    const local = domain === this.usersDomains[0] ? user : `${user}\\40${domain}`;
    return `${local}@${this.componentDomain}`;
  }

  isLocalUser(jid: string): boolean {
    return this.serviceOf(jid) !== null;
  }
}
