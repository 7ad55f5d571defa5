/**
 * The vocabulary of following and the home timeline: who a user follows, what entered their
 * timeline, their settings, and the notifications waiting to be delivered again (the outbox).
 * No XMPP types: JIDs are strings, payloads opaque XML strings.
 */
import type { NodeRef } from "./types.js";

/**
 * "requested": the subscribe request is on its way (or was, before a restart);
 * "pending": the remote owner has not answered yet; "subscribed": events are accepted.
 */
export type FollowState = "requested" | "pending" | "subscribed";
export const FOLLOW_STATES: readonly FollowState[] = ["requested", "pending", "subscribed"];

/** `user` (bare JID u@D, lower case) follows the node `service`/`node` as its address u@C. */
export interface Follow extends NodeRef {
  user: string;
  /** The domain part of `service` (lower case): catch-up and retries go by domain. */
  domain: string;
  /** What the user asked to follow ("a@E", a URI, "a@C2"), shown back in `following`. */
  target: string;
  state: FollowState;
  /** The remote service's subscription id, when it gave one. */
  subid?: string;
  createdAt: number;
  updatedAt: number;
}

/** Where a page of follows ends (see FollowStore.pageFollowsAt): the key of its last follow. */
export type FollowCursor = Pick<Follow, "user" | "service" | "node">;

/** One post in a user's home timeline; one per (user, service, node, itemId). */
export interface TimelineEntry extends NodeRef {
  user: string;
  itemId: string;
  /** Who wrote it, as shown: the Atom author's xmpp: URI when given, else the service's owner. */
  author: string;
  /** The Atom entry as an XML string (already checked by the protocol layer). */
  payload: string;
  /** The entry's <published> (else arrival), ms since epoch. */
  publishedAt: number;
  /** Arrival in this timeline, ms since epoch (MAM start/end filter on it). */
  receivedAt: number;
  /** Store-wide monotonic number assigned at first insert: timeline order and MAM id. */
  seq: number;
}

export type NewTimelineEntry = Omit<TimelineEntry, "seq">;

/** What upsertTimelineEntry did: a new entry, a changed payload (same seq), or nothing. */
export type TimelineWrite = "inserted" | "replaced" | "unchanged";

/** A slice of a user's timeline; every bound optional, all of them at once. */
export interface TimelineRange {
  /** receivedAt >= start (ms). */
  start?: number;
  /** receivedAt <= end (ms). */
  end?: number;
  /** Only entries whose `service` or `author` is this bare JID (lower case). */
  with?: string;
  /** seq > afterSeq. */
  afterSeq?: number;
  /** seq < beforeSeq. */
  beforeSeq?: number;
}

/** Per-user settings kept by Warble (the access model lives in the node's configuration). */
export interface UserSettings {
  /** Relay new timeline posts to u@D as chat messages. */
  relay: boolean;
}

export const DEFAULT_USER_SETTINGS: UserSettings = { relay: true };

/**
 * A notification that could not be delivered (an s2s-class bounce), kept to be sent again.
 * `stanza` is the serialised message; `messageId` its id attribute (a bounce names it).
 * While `sentAt` is set the entry was sent again and waits to see whether it bounces once more.
 */
export interface OutboxEntry {
  id: number;
  recipient: string;
  /** The recipient's domain (lower case): entries of one domain share one schedule. */
  domain: string;
  messageId: string;
  stanza: string;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  /** Give up after this (ms since epoch). */
  deadline: number;
  sentAt?: number;
  /** The last error condition that brought it back. */
  lastError: string;
}

export type NewOutboxEntry = Omit<OutboxEntry, "id">;
