/**
 * Posts that arrive from other services (event notifications, items fetched on follow and on
 * catch-up) as the timeline stores them. Written by anybody: each payload must be an Atom
 * entry within the size limit (anything else is dropped and counted); the text shown is read
 * leniently; the author is the entry's xmpp: URI when it has one, else the service.
 */
import { parseEntry } from "../../../schemas/src/atom.js";
import type { PubsubItem } from "../../../schemas/src/pubsub-types.js";
import { standalone } from "../../../schemas/src/xml-namespaces.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";
import type { IncomingPost } from "../domain/index.js";
import { bareJid, jidProblem } from "../domain/jid.js";

/** The largest entry a timeline keeps (bytes of XML). A post is 500 characters; this is ample. */
export const MAX_INCOMING_ENTRY_BYTES = 64 * 1024;

export interface ReadPosts {
  posts: IncomingPost[];
  /** Items that were not Atom entries, too large, or without a payload. */
  rejected: number;
}

function authorOf(uri: string | undefined, service: string): string {
  if (uri?.startsWith("xmpp:")) {
    const jid = bareJid(uri.slice(5).split("?")[0] ?? "");
    if (jid && !jidProblem(jid)) return jid.toLowerCase();
  }
  return bareJid(service).toLowerCase();
}

function timeOf(value: string | undefined, fallback: number): number {
  const t = value ? Date.parse(value) : Number.NaN;
  return Number.isFinite(t) ? t : fallback;
}

export function readIncomingPost(
  item: PubsubItem,
  service: string,
  now: number,
): IncomingPost | undefined {
  const { id, payload } = item;
  if (!id || id.length > 256 || !payload) return undefined;
  let entry: ReturnType<typeof parseEntry>;
  try {
    entry = parseEntry(payload, { badCharRef: "replace" });
  } catch {
    return undefined;
  }
  let xml: string;
  try {
    xml = writeXml(standalone(payload));
  } catch {
    return undefined;
  }
  if (Buffer.byteLength(xml) > MAX_INCOMING_ENTRY_BYTES) return undefined;
  return {
    itemId: id,
    payload: xml,
    author: authorOf(entry.author?.uri, service),
    publishedAt: timeOf(entry.published ?? entry.updated, now),
  };
}

/** The posts among `items`, oldest first (events and item lists come newest first). */
export function readIncomingPosts(
  items: readonly PubsubItem[],
  service: string,
  now = Date.now(),
): ReadPosts {
  const posts: IncomingPost[] = [];
  let rejected = 0;
  for (const item of items) {
    const post = readIncomingPost(item, service, now);
    if (post) posts.push(post);
    else rejected++;
  }
  posts.reverse();
  return { posts, rejected };
}
