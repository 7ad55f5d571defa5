/**
 * FollowClient.catchUp over many follows (issue 12): every follow once, read a page at a time,
 * a bounded number of requests in flight; a node at this component read from the store (not
 * asked through the server), two at a time; what entered a timeline is not brought again.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { PubsubEvent } from "../../../component/src/domain/events.js";
import { TimelineService } from "../../../component/src/domain/timeline-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../../../component/src/domain/types.js";
import { FollowClient } from "../../../component/src/federation/follow-client.js";
import type { IqCaller } from "../../../component/src/federation/iq-caller.js";
import type { MicroblogLocator } from "../../../component/src/federation/microblog-locator.js";
import { Addresses } from "../../../component/src/protocol/addresses.js";
import { openDatabase } from "../../../component/src/storage/sqlite/open-database.js";
import { SqliteStore } from "../../../component/src/storage/sqlite/sqlite-store.js";
import { buildItemsResult } from "../../../schemas/src/pubsub-result.js";
import { type Element, parseXml } from "../../../schemas/src/xml.js";
import { ALICE, COMPONENT, makeHarness, NODE, read, USERS } from "../domain/fixture.js";

const CAROL: NodeRef = { service: "carol@remote.example", node: MICROBLOG_NODE };
/** More than two pages of follows (FOLLOW_PAGE is 500). */
const USERS_FOLLOWING = 600;

const atom = (id: string, published: string) =>
  `<entry xmlns="http://www.w3.org/2005/Atom"><title>${id}</title><id>${id}</id><published>${published}</published></entry>`;

/** Carol's server: answers items requests with her two posts, counting requests in flight. */
function remoteCaller() {
  const seen = { requests: 0, inFlight: 0, maxInFlight: 0, to: new Set<string>() };
  const items = [
    { id: "c2", payload: parseXml(atom("c2", "2030-01-02T00:00:00Z")) },
    { id: "c1", payload: parseXml(atom("c1", "2030-01-01T00:00:00Z")) },
  ];
  const caller = {
    async request(_type: string, _from: string, to: string): Promise<Element | undefined> {
      seen.requests++;
      seen.to.add(to);
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      await new Promise((r) => setTimeout(r, 1));
      seen.inFlight--;
      return buildItemsResult({ node: MICROBLOG_NODE, items });
    },
  };
  return { caller: caller as unknown as IqCaller, seen };
}

async function setUp() {
  const h = makeHarness({ store: new SqliteStore(openDatabase(":memory:")) });
  h.clock.now = Date.parse("2030-02-01T00:00:00Z");
  const timeline = new TimelineService(h.service);
  const users = Array.from({ length: USERS_FOLLOWING }, (_, i) => `u${i}@${USERS}`);
  await Promise.all(
    users.flatMap((u) =>
      [NODE, CAROL].map(async (ref) => {
        await timeline.beginFollow(u, ref, ref.service);
        await timeline.settleFollow(u, ref, { state: "subscribed" });
      }),
    ),
  );
  for (const [id, day] of [
    ["a1", "03"],
    ["a2", "04"],
  ] as const) {
    const payload = atom(id, `2030-01-${day}T00:00:00Z`);
    await h.service.publishItem(ALICE, NODE, { id, payload });
  }
  const { caller, seen } = remoteCaller();
  // Reads of local nodes in flight (at most LOCAL_CONCURRENCY, 2).
  const local = { inFlight: 0, maxInFlight: 0 };
  const readItems = timeline.readItems.bind(timeline);
  timeline.readItems = async (...args) => {
    local.maxInFlight = Math.max(local.maxInFlight, ++local.inFlight);
    await new Promise((r) => setTimeout(r, 1));
    try {
      return await readItems(...args);
    } finally {
      local.inFlight--;
    }
  };
  const published: PubsubEvent[] = [];
  const follows = new FollowClient({
    timeline,
    caller,
    locator: {} as MicroblogLocator,
    addresses: new Addresses(COMPONENT, [USERS]),
    log: pino({ level: process.env.DBG ? "debug" : "silent" }),
    publish: (events) => published.push(...events),
    backfill: 20,
  });
  return { h, users, follows, seen, local, published };
}

describe("catch-up of many follows", () => {
  it("takes every follow once, asks only remote nodes, a few at a time; a repeat brings nothing", async () => {
    const { h, users, follows, seen, local, published } = await setUp();
    const first = await follows.catchUp();
    expect(first).toEqual({ nodes: 2 * USERS_FOLLOWING, added: 4 * USERS_FOLLOWING, failed: 0 });
    expect(seen.requests).toBe(USERS_FOLLOWING);
    expect([...seen.to]).toEqual([CAROL.service]);
    expect(seen.maxInFlight).toBeLessThanOrEqual(8);
    expect(local.maxInFlight).toBe(2);
    expect(published.filter((e) => e.type === "timeline-posts")).toHaveLength(2 * USERS_FOLLOWING);
    for (const u of [users[0] as string, users.at(-1) as string]) {
      const entries = await read(h, (tx) => tx.listTimeline(u, {}, 99, "oldest"));
      expect(entries.map((e) => `${e.service} ${e.itemId}`).sort()).toEqual([
        `alice@${COMPONENT} a1`,
        `alice@${COMPONENT} a2`,
        `${CAROL.service} c1`,
        `${CAROL.service} c2`,
      ]);
    }
    expect(await follows.catchUp()).toEqual({ nodes: 2 * USERS_FOLLOWING, added: 0, failed: 0 });
  });

  it("catches up at one domain only", async () => {
    const { follows, seen } = await setUp();
    expect(await follows.catchUp("remote.example")).toEqual({
      nodes: USERS_FOLLOWING,
      added: 2 * USERS_FOLLOWING,
      failed: 0,
    });
    expect(seen.requests).toBe(USERS_FOLLOWING);
    expect(await follows.catchUp(COMPONENT)).toEqual({
      nodes: USERS_FOLLOWING,
      added: 2 * USERS_FOLLOWING,
      failed: 0,
    });
    expect(seen.requests).toBe(USERS_FOLLOWING);
  });
});
