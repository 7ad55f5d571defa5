/**
 * A post as the CLI shows it, read from a MAM result (the home timeline) or a pubsub item
 * (`show`): the fields of the JSON output, in one place.
 */
import { itemUri, type MicroblogEntry, parseEntry } from "../../schemas/src/atom.js";
import type { MamResult } from "../../schemas/src/mam.js";
import { formatDateTime } from "../../schemas/src/mam.js";
import { parseEvent } from "../../schemas/src/pubsub-event.js";
import type { PubsubItem } from "../../schemas/src/pubsub-types.js";
import { shortId } from "../../schemas/src/short-id.js";
import type { Element } from "../../schemas/src/xml.js";

export interface Post {
  /** The MAM id (timeline) or the item id (show). */
  id: string;
  short: string;
  author: string;
  service: string;
  node: string;
  item: string;
  published: string;
  text: string;
  uri: string;
}

const bare = (jid: string) => jid.split("/")[0] ?? jid;

function readEntry(payload: Element | undefined): MicroblogEntry | undefined {
  if (!payload) return undefined;
  try {
    return parseEntry(payload, { badCharRef: "replace" });
  } catch {
    return undefined;
  }
}

function textOf(entry: MicroblogEntry | undefined): string {
  const content = entry?.content?.text ?? "";
  return content !== "" ? content : (entry?.title?.text ?? "");
}

/** The author's JID from the Atom author uri (xmpp:a@E); undefined when there is none. */
function authorOf(entry: MicroblogEntry | undefined): string | undefined {
  const uri = entry?.author?.uri;
  if (!uri?.startsWith("xmpp:")) return undefined;
  const jid = uri.slice("xmpp:".length).replace(/^\/\//, "").split("?")[0];
  return jid ? bare(jid).toLowerCase() : undefined;
}

function isoOrUndefined(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(".000Z", "Z");
}

interface PostParts {
  id: string;
  service: string;
  node: string;
  item: PubsubItem & { id: string };
  fallbackAuthor: string;
  fallbackTime: number;
}

/**
 * Who a post is shown as: the entry's claimed author only when the service speaks for it (the
 * service itself, or the owner u@D of a Warble address u@C with C under D, or u\40D@C); else
 * the fallback (the service's owner as known, or the service): an entry is written by anybody.
 */
function trustedAuthor(claimed: string | undefined, service: string, fallback: string): string {
  if (!claimed) return fallback;
  const svc = bare(service).toLowerCase();
  if (claimed === svc) return claimed;
  const [local, domain = ""] = claimed.split("@");
  const [svcLocal, svcDomain = ""] = svc.split("@");
  if (local && svcLocal === `${local}\\40${domain}`) return claimed;
  if (local && svcLocal === local && svcDomain.endsWith(`.${domain}`)) return claimed;
  return fallback;
}

function makePost(p: PostParts): Post {
  const entry = readEntry(p.item.payload);
  return {
    id: p.id,
    short: shortId(p.service, p.node, p.item.id),
    author: trustedAuthor(authorOf(entry), p.service, p.fallbackAuthor),
    service: p.service,
    node: p.node,
    item: p.item.id,
    published: isoOrUndefined(entry?.published) ?? formatDateTime(p.fallbackTime),
    text: textOf(entry),
    uri: itemUri(p.service, p.node, p.item.id),
  };
}

/** The post a timeline MAM result carries; undefined when it carries none. */
export function postFromMam(result: MamResult): Post | undefined {
  const message = result.forwarded;
  const service = bare(message.attrs.from ?? "");
  let event: ReturnType<typeof parseEvent>;
  try {
    event = parseEvent(message);
  } catch {
    return undefined;
  }
  const item = event.kind === "items" ? event.items[0] : undefined;
  if (event.kind !== "items" || !item?.id || !service) return undefined;
  const body = message.getChildText("body") ?? "";
  const colon = body.indexOf(": ");
  const bodyAuthor = colon > 0 ? body.slice(0, colon) : service;
  return makePost({
    id: result.id,
    service,
    node: event.node,
    item: { ...item, id: item.id },
    fallbackAuthor: bodyAuthor,
    fallbackTime: result.stamp,
  });
}

/** A post read straight from a node; items without id are skipped. */
export function postFromItem(
  service: string,
  node: string,
  item: PubsubItem,
  owner: string,
): Post | undefined {
  if (!item.id) return undefined;
  return makePost({
    id: item.id,
    service,
    node,
    item: { ...item, id: item.id },
    fallbackAuthor: owner,
    fallbackTime: Date.now(),
  });
}

const byNumber = (a: string, b: string) =>
  /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b);

/**
 * Oldest first, by publication time (whole seconds); within a second, one service's items by
 * item id (Warble's are time-ordered ULIDs), else in the order given (archive order).
 */
export function oldestFirst(posts: Post[]): Post[] {
  return posts
    .map((post, index) => ({ post, index }))
    .sort(
      (a, b) =>
        Date.parse(a.post.published) - Date.parse(b.post.published) ||
        (a.post.service === b.post.service ? byNumber(a.post.item, b.post.item) : 0) ||
        a.index - b.index,
    )
    .map((x) => x.post);
}
