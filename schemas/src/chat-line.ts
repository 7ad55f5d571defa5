/**
 * A post as a chat line (INTERFACE "IM clients"): how an IM follower's notification, the relay
 * of the home timeline and the chat answers `timeline` and `last` show a post, written to read
 * well on a phone:
 *   alice@example.org: text [abc234]
 *   alice@example.org, replying to bob@example.net ("the first words of that post…"): text [abc234]
 *   alice@example.org reposted bob@example.net: text [abc234]
 * The short id in brackets is what the chat commands `reply` and `repost` take.
 */
import type { MicroblogEntry } from "./atom.js";
import { type ItemAddress, parseItemUri } from "./xmpp-uri.js";

export interface ChatLine {
  author: string;
  text: string;
  shortId: string;
  /** A reply: whom it answers, and a short quote of the answered post when the reader may see it. */
  reply?: { to: string; quote?: string };
  /** A repost: whose post it repeats. */
  repostOf?: string;
}

/** The longest quote of a replied-to post, in code points. */
export const QUOTE_LENGTH = 40;

export function chatLine(line: ChatLine): string {
  const tail = `${line.text} [${line.shortId}]`;
  if (line.repostOf !== undefined) return `${line.author} reposted ${line.repostOf}: ${tail}`;
  if (line.reply) {
    const quote = line.reply.quote ? ` ("${shortQuote(line.reply.quote)}")` : "";
    return `${line.author}, replying to ${line.reply.to}${quote}: ${tail}`;
  }
  return `${line.author}: ${tail}`;
}

/** The text on one line, cut at `max` code points with an ellipsis. */
export function shortQuote(text: string, max = QUOTE_LENGTH): string {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  return chars.length <= max
    ? chars.join("")
    : `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`;
}

/** The posts an entry points at: the one it answers and the one it repeats (xmpp: item URIs). */
export function postLinks(entry: MicroblogEntry): {
  replyTo?: ItemAddress;
  repostOf?: ItemAddress;
} {
  const links: { replyTo?: ItemAddress; repostOf?: ItemAddress } = {};
  for (const r of entry.inReplyTo) {
    const at = parseItemUri(r.href ?? "") ?? parseItemUri(r.ref);
    if (at?.item) {
      links.replyTo = at;
      break;
    }
  }
  const via = entry.via && parseItemUri(entry.via.href);
  if (via?.item) links.repostOf = via;
  return links;
}
