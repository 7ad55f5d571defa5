/** A PubsubService on the in-memory store with a settable clock, for the use-case tests. */
import { expect } from "vitest";
import { PubsubError } from "../../../component/src/domain/errors.js";
import type { PubsubEvent } from "../../../component/src/domain/events.js";
import type { PubsubStore, PubsubTx } from "../../../component/src/domain/ports.js";
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
  /** The service's store (a new MemoryStore unless `options.store` is given). */
  store: PubsubStore;
  clock: { now: number };
}

/** "u@mb.example.org" → "u@example.org"; other services have no owner. */
export function ownerOf(service: string): string | undefined {
  const [local, domain] = service.split("@");
  return domain === COMPONENT && local ? `${local}@${USERS}` : undefined;
}

export function makeHarness(options: Partial<PubsubServiceOptions> = {}): Harness {
  const store = options.store ?? new MemoryStore();
  const clock = { now: 1_700_000_000_000 };
  let subids = 0;
  const service = new PubsubService({
    ownerOf,
    policy: { usersDomains: [USERS] },
    now: () => clock.now,
    newSubId: () => `sub-${++subids}`,
    ...options,
    store,
  });
  return { service, store, clock };
}

/** A harness where Alice has published `ids` (oldest first) to her node. */
export async function withPosts(
  ids: readonly string[],
  options: Partial<PubsubServiceOptions> = {},
): Promise<Harness> {
  const h = makeHarness(options);
  for (const id of ids) {
    await h.service.publishItem(`${ALICE}/phone`, NODE, { id, payload: `<entry>${id}</entry>` });
    h.clock.now += 1000;
  }
  return h;
}

/** Read the store directly, through its port, in a transaction of its own. */
export function read<T>(
  h: { store: PubsubStore } | PubsubStore,
  fn: (tx: PubsubTx) => Promise<T>,
): Promise<T> {
  const store = "transaction" in h ? h : h.store;
  return store.transaction(fn);
}

/** Write to the store directly (behind the service's back), in a transaction of its own. */
export const write = read;

/**
 * A store that passes every transaction on to `inner`, counting them and recording the names of
 * the transaction's methods called; `override` replaces some of them (to make one fail).
 */
export class CountingStore implements PubsubStore {
  transactions = 0;
  readonly calls: string[] = [];

  constructor(
    readonly inner: PubsubStore = new MemoryStore(),
    private readonly override: Partial<PubsubTx> = {},
  ) {}

  transaction<T>(fn: (tx: PubsubTx) => Promise<T>): Promise<T> {
    this.transactions++;
    return this.inner.transaction((tx) => fn(this.wrap(tx)));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Forget the transactions and calls so far. */
  reset(): void {
    this.transactions = 0;
    this.calls.length = 0;
  }

  private wrap(tx: PubsubTx): PubsubTx {
    const overrides = this.override as Record<PropertyKey, unknown>;
    return new Proxy(tx, {
      get: (target, prop) => {
        const value = prop in overrides ? overrides[prop] : Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          this.calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}

/** Expect `fn` to throw (or reject with) a PubsubError with these fields. */
export async function expectError(
  fn: () => unknown,
  expected: {
    condition: PubsubError["condition"];
    pubsubCondition?: PubsubError["pubsubCondition"];
    reason?: PubsubError["reason"];
  },
): Promise<PubsubError> {
  let caught: unknown;
  try {
    await fn();
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
