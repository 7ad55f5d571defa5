/**
 * What every pubsub handler shares: its dependencies, and who asks what of which microblog.
 * The service JID is the bare `to` (u@C); its owner is u@D; only the node urn:xmpp:microblog:0
 * exists at a user's address.
 */
import type { PubsubRequest, PubsubRequestKind } from "../../../../schemas/src/pubsub.js";
import type { Element } from "../../../../schemas/src/xml.js";
import type { PubsubService } from "../../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../../domain/types.js";
import { type Addresses, bareJid } from "../addresses.js";
import type { IqAnswer, IqRequest } from "../router.js";
import { StanzaError } from "../stanza-error.js";

export interface PubsubLimits {
  /** Longest post text, in characters. */
  maxPostLength: number;
  /** Largest item payload, in bytes (UTF-8 of the serialized payload element). */
  maxPayloadBytes: number;
}

export interface PubsubDeps {
  service: PubsubService;
  addresses: Addresses;
  limits: PubsubLimits;
}

/** One request to one microblog address. */
export interface PubsubCall {
  req: IqRequest;
  /** The sender as the server stamped it (full or bare JID). */
  actor: string;
  /** u@C, bare. */
  serviceJid: string;
  /** u@D, the owner of serviceJid. */
  owner: string;
}

/**
 * One handler per XEP-0060 use case, keyed by the parsed request's kind: it returns the result
 * payload and the events of the use case; the router sends the one, then the bus the others.
 */
export type PubsubHandler<K extends PubsubRequestKind> = (
  call: PubsubCall,
  request: Extract<PubsubRequest, { kind: K }>,
  deps: PubsubDeps,
) => Promise<IqAnswer | Element | undefined>;

export type PubsubHandlers = { [K in PubsubRequestKind]: PubsubHandler<K> };

/** Resolve the addressed microblog; item-not-found when u@C names no user. */
export function resolveCall(req: IqRequest, addresses: Addresses): PubsubCall {
  const serviceJid = bareJid(req.to);
  const owner = addresses.ownerOfService(serviceJid);
  if (!owner) throw new StanzaError("item-not-found", `${serviceJid} is not a microblog address`);
  return { req, actor: req.from, serviceJid, owner };
}

/** The node reference; item-not-found for any node but urn:xmpp:microblog:0. */
export function microblogRef(call: PubsubCall, node: string): NodeRef {
  if (node !== MICROBLOG_NODE) {
    throw new StanzaError(
      "item-not-found",
      `${call.serviceJid} has only the node ${MICROBLOG_NODE}, not ${node}`,
    );
  }
  return { service: call.serviceJid, node };
}
