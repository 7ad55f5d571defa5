/**
 * Posts as chat lines (schemas/src/chat-line.ts) for the messages IM clients read: the
 * notifications to IM followers, the relay of the home timeline, the chat answers. Names the
 * replied-to and reposted authors (the owner u@D of a service here, else the address the link
 * names) and quotes the replied-to post only where its reader may see it (the domain's
 * visiblePost). Stored and remote payloads are attacker-written: anything unreadable is a
 * placeholder line, never an exception.
 */
import { entryText, type MicroblogEntry, parseEntry } from "../../../schemas/src/atom.js";
import { chatLine, postLinks } from "../../../schemas/src/chat-line.js";
import { shortId } from "../../../schemas/src/short-id.js";
import { parseXml } from "../../../schemas/src/xml.js";
import type { ItemAddress } from "../../../schemas/src/xmpp-uri.js";
import type { VisiblePost } from "../domain/post-lookup.js";
import type { NodeRef } from "../domain/types.js";
import type { Addresses } from "./addresses.js";

/** One post to show: where it is, who wrote it (already trusted), and its stored Atom entry. */
export interface ShownPost extends NodeRef {
  itemId: string;
  author: string;
  payload: string;
}

export type VisiblePostLookup = (
  ref: NodeRef,
  itemId: string,
  reader?: string,
) => Promise<VisiblePost | undefined>;

const UNREADABLE = "(a post that cannot be shown)";

/** The entry of a stored payload, or undefined when it is not a readable Atom entry. */
export function readEntry(payload: string): MicroblogEntry | undefined {
  try {
    return parseEntry(parseXml(payload), { badCharRef: "replace" });
  } catch {
    return undefined;
  }
}

/** The post's text, or a placeholder. */
export function postText(payload: string): string {
  const entry = readEntry(payload);
  return entry ? entryText(entry) : UNREADABLE;
}

export class PostLines {
  constructor(
    private readonly addresses: Addresses,
    private readonly lookup?: VisiblePostLookup,
  ) {}

  /** The chat line of a post; a reply's quote comes from what `reader` may see (none: public). */
  async line(post: ShownPost, reader?: string): Promise<string> {
    const short = shortId(post.service, post.node, post.itemId);
    const entry = readEntry(post.payload);
    if (!entry) return chatLine({ author: post.author, text: UNREADABLE, shortId: short });
    const { replyTo, repostOf } = postLinks(entry);
    const line = { author: post.author, text: entryText(entry), shortId: short };
    if (repostOf) return chatLine({ ...line, repostOf: this.nameOf(repostOf) });
    if (!replyTo) return chatLine(line);
    const quote = await this.quote(replyTo, reader);
    const to = this.nameOf(replyTo);
    return chatLine({ ...line, reply: quote ? { to, quote } : { to } });
  }

  /** The owner u@D of a service here, else the address the link names. */
  nameOf(at: ItemAddress): string {
    return this.addresses.ownerOfService(at.service) ?? at.service;
  }

  private async quote(at: ItemAddress, reader?: string): Promise<string | undefined> {
    if (!this.lookup || !at.item) return undefined;
    try {
      const found = await this.lookup({ service: at.service, node: at.node }, at.item, reader);
      const text = found && readEntry(found.payload);
      return text ? entryText(text) || undefined : undefined;
    } catch {
      return undefined;
    }
  }
}
