/**
 * XEP-0277 on publish: exactly one payload, within the byte limit, an Atom entry within the text
 * limit; then the entry as the service stores it (completeEntry). Errors in the order of
 * XEP-0060 §7.1.3: invalid-payload (count), payload-too-big (bytes), invalid-payload (not Atom),
 * not-acceptable (text over the limit, naming the limit).
 */
import { clone } from "ltx";
import { completeEntry, parseEntry } from "../../../../schemas/src/atom.js";
import { NS_ATOM } from "../../../../schemas/src/ns.js";
import { type Element, parseXml, xml } from "../../../../schemas/src/xml.js";
import { standalone } from "../../../../schemas/src/xml-namespaces.js";
import type { Outcome } from "../../domain/events.js";
import type { CompletionContext, PublishResult } from "../../domain/item-use-cases.js";
import type { PubsubService } from "../../domain/pubsub-service.js";
import type { NodeConfig } from "../../domain/types.js";
import { StanzaError } from "../stanza-error.js";
import type { PubsubLimits } from "./context.js";

export interface EntryTarget {
  itemId: string;
  /** u@C */
  serviceJid: string;
  /** u@D */
  owner: string;
  node: string;
  /** The stored item's <published> when this publish replaces it (kept on edits). */
  previousPublished?: string;
  now?: Date;
}

/**
 * The single payload, checked for count and size, with the namespace declarations it takes from
 * the stanza written on it (stored on its own, it must still mean the same).
 */
export function singlePayload(payloads: readonly Element[], limits: PubsubLimits): Element {
  const first = payloads[0];
  if (!first || payloads.length > 1) {
    throw new StanzaError(
      "bad-request",
      `an item carries exactly one payload, an Atom <entry/>; this one has ${payloads.length}`,
      "invalid-payload",
    );
  }
  const payload = standalone(first);
  const bytes = Buffer.byteLength(payload.toString(), "utf8");
  if (bytes > limits.maxPayloadBytes) {
    throw new StanzaError(
      "not-acceptable",
      `the payload is ${bytes} bytes; the limit is ${limits.maxPayloadBytes} bytes`,
      "payload-too-big",
    );
  }
  return payload;
}

/** The completed entry to store. Throws AtomEntryError (invalid-payload / too-long). */
export function prepareEntry(payload: Element, target: EntryTarget, limits: PubsubLimits): Element {
  const at = target.owner.indexOf("@");
  const source =
    target.previousPublished !== undefined && payload.getChild("published", NS_ATOM) === undefined
      ? withPublished(payload, target.previousPublished)
      : payload;
  return completeEntry(source, {
    itemId: target.itemId,
    serviceJid: target.serviceJid,
    ownerJid: target.owner,
    authorName: at > 0 ? target.owner.slice(0, at) : target.owner,
    now: target.now ?? new Date(),
    node: target.node,
    maxLength: limits.maxPostLength,
  });
}

/** Where an entry goes: the microblog address u@C, its owner u@D, the node. */
export type EntryPlace = Pick<EntryTarget, "serviceJid" | "owner" | "node">;

/**
 * §7.1 publish of a checked payload (singlePayload), as every face publishes: in one
 * transaction the domain chooses the item id, reads the item it replaces and completes the
 * entry (prepareEntry, keeping the replaced item's <published>); the node is created on its
 * owner's first publish; publish-options are preconditions.
 */
export function publishEntry(
  service: PubsubService,
  actor: string,
  place: EntryPlace,
  payload: Element,
  limits: PubsubLimits,
  options: { itemId?: string; preconditions?: Partial<NodeConfig> } = {},
): Promise<Outcome<PublishResult>> {
  const complete = (c: CompletionContext) => {
    const previous = c.previous ? publishedOf(c.previous.payload) : undefined;
    const target: EntryTarget = {
      ...place,
      itemId: c.itemId,
      now: new Date(c.now),
      ...(previous !== undefined ? { previousPublished: previous } : {}),
    };
    return prepareEntry(payload, target, limits).toString();
  };
  const ref = { service: place.serviceJid, node: place.node };
  return service.publishItem(actor, ref, {
    ...(options.itemId ? { id: options.itemId } : {}),
    payload: payload.toString(),
    complete,
    ...(options.preconditions ? { preconditions: options.preconditions } : {}),
  });
}

/** A copy of the entry with a <published> child (the original is left as it is). */
function withPublished(entry: Element, published: string): Element {
  const copy = clone(entry);
  copy.append(xml("published", { xmlns: NS_ATOM }, published));
  return copy;
}

/** The <published> of a stored payload, when it has one. */
export function publishedOf(storedPayload: string): string | undefined {
  try {
    return parseEntry(parseXml(storedPayload), { badCharRef: "replace" }).published;
  } catch {
    return undefined;
  }
}
