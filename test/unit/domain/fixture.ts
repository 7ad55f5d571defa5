/** A PubsubService on the in-memory store with a settable clock, for the use-case tests. */
import { expect } from "vitest";
import { PubsubError } from "../../../component/src/domain/errors.js";
import type { PubsubEvent } from "../../../component/src/domain/events.js";
import {
  PubsubService,
  type PubsubServiceOptions,
} from "../../../component/src/domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../../../component/src/domain/types.js";
import { MemoryStore } from "../../../component/src/storage/memory/memory-store.js";

export const COMPONENT = "mb.example.org";
export const USERS = "example.org";
export const ALICE = "alice@example.org";
export const BOB = "bob@example.org";
/** Another user of the users domain (owner, publisher and publish-only are only for these). */
export const DAVE = "dave@example.org";
export const CAROL = "carol@remote.example";
export const EVE = "eve@rogue.example";
/** Alice's microblog: the node urn:xmpp:microblog:0 at alice@mb.example.org. */
export const NODE: NodeRef = { service: `alice@${COMPONENT}`, node: MICROBLOG_NODE };

export interface Harness {
  service: PubsubService;
  store: MemoryStore;
  clock: { now: number };
}

/** "u@mb.example.org" → "u@example.org"; other services have no owner. */
export function ownerOf(service: string): string | undefined {
  const [local, domain] = service.split("@");
  return domain === COMPONENT && local ? `${local}@${USERS}` : undefined;
}

export function makeHarness(options: Partial<PubsubServiceOptions> = {}): Harness {
  const store = new MemoryStore();
  const clock = { now: 1_700_000_000_000 };
  let subids = 0;
  const service = new PubsubService({
    store,
    ownerOf,
    policy: { usersDomains: [USERS] },
    now: () => clock.now,
    newSubId: () => `sub-${++subids}`,
    ...options,
  });
  return { service, store, clock };
}

/** A harness where Alice has published `ids` (oldest first) to her node. */
export function withPosts(
  ids: readonly string[],
  options: Partial<PubsubServiceOptions> = {},
): Harness {
  const h = makeHarness(options);
  for (const id of ids) {
    h.service.publishItem(`${ALICE}/phone`, NODE, { id, payload: `<entry>${id}</entry>` });
    h.clock.now += 1000;
  }
  return h;
}

/** Expect `fn` to throw a PubsubError with these fields. */
export function expectError(
  fn: () => unknown,
  expected: {
    condition: PubsubError["condition"];
    pubsubCondition?: PubsubError["pubsubCondition"];
    reason?: PubsubError["reason"];
  },
): PubsubError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PubsubError);
  const error = caught as PubsubError;
  expect({ condition: error.condition, pubsubCondition: error.pubsubCondition }).toEqual({
    condition: expected.condition,
    pubsubCondition: expected.pubsubCondition,
  });
  if (expected.reason) expect(error.reason).toBe(expected.reason);
  return error;
}

export function eventTypes(events: readonly PubsubEvent[]): string[] {
  return events.map((e) => e.type);
}

export function ofType<T extends PubsubEvent["type"]>(events: readonly PubsubEvent[], type: T) {
  return events.filter((e): e is Extract<PubsubEvent, { type: T }> => e.type === type);
}
