/**
 * The requests the bench times, as a client sends them through the server: a page of items
 * with RSM, a XEP-0313 page of a home timeline, a publish, an XMPP ping; and timing helpers.
 * Each request checks its answer (a page must have its 20 entries) and forgets what it received.
 */
import { NS_MAM, NS_PING, NS_PUBSUB, NS_RSM } from "../../schemas/src/ns.js";
import { parseXml } from "../../schemas/src/xml.js";
import type { TestClient } from "../../test/harness/client.js";
import { publishIq } from "../lib/publisher.js";
import { NODE } from "./rows.js";

export const PAGE = 20;

/** Latency figures of one series, in ms; `samples` in the order taken. */
export interface Series {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  /** Requests whose answer was not what was asked for. */
  failures: number;
  samples: number[];
}

export function series(samples: number[], failures = 0): Series {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: samples.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    mean: round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)),
    max: round(sorted[sorted.length - 1] ?? 0),
    failures,
    samples: samples.map(round),
  };
}

/** The time of one request in ms, and whether its answer was right. */
export async function timed(run: () => Promise<boolean>): Promise<[number, boolean]> {
  const t = performance.now();
  const ok = await run();
  return [performance.now() - t, ok];
}

/** `count` requests one after the other (`pauseMs` apart, untimed); `request(i)` makes the i-th. */
export async function timeSeries(
  count: number,
  request: (i: number) => Promise<boolean>,
  pauseMs = 0,
) {
  const samples: number[] = [];
  let failures = 0;
  for (let i = 0; i < count; i++) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const [ms, ok] = await timed(() => request(i));
    samples.push(ms);
    if (!ok) failures++;
  }
  return series(samples, failures);
}

/** A page of `max` items of u@C's microblog, newest first, after the item `after` (RSM). */
export async function itemsPage(
  client: TestClient,
  service: string,
  after?: string,
  max = PAGE,
): Promise<boolean> {
  const anchor = after === undefined ? "" : `<after>${after}</after>`;
  const reply = await client.iq(
    parseXml(
      `<iq type='get' to='${service}'><pubsub xmlns='${NS_PUBSUB}'><items node='${NODE}'/>` +
        `<set xmlns='${NS_RSM}'><max>${max}</max>${anchor}</set></pubsub></iq>`,
    ),
  );
  client.received.length = 0;
  const items = reply.getChild("pubsub", NS_PUBSUB)?.getChild("items")?.getChildren("item") ?? [];
  return reply.attrs.type === "result" && items.length === max;
}

let queries = 0;

/** A MAM page of `max` entries of the home timeline at u@C, before the entry `before`. */
export async function timelinePage(
  client: TestClient,
  service: string,
  before?: number,
  max = PAGE,
): Promise<boolean> {
  const queryid = `sq${++queries}`;
  const anchor = before === undefined ? "<before/>" : `<before>${before}</before>`;
  const reply = await client.iq(
    parseXml(
      `<iq type='set' to='${service}'><query xmlns='${NS_MAM}' queryid='${queryid}'>` +
        `<set xmlns='${NS_RSM}'><max>${max}</max>${anchor}</set></query></iq>`,
    ),
  );
  const results = client.received.filter(
    (m) => m.name === "message" && m.getChild("result", NS_MAM)?.attrs.queryid === queryid,
  ).length;
  client.received.length = 0;
  return reply.attrs.type === "result" && results === max;
}

/** Publish one post (a title of `text`) to the client's own microblog at `service`. */
export async function publish(client: TestClient, service: string, text: string): Promise<boolean> {
  const iq = publishIq(service, text);
  const reply = await client.iq(iq);
  client.received.length = 0;
  return reply.attrs.type === "result";
}

/** XEP-0199 ping of `to` (the component domain: answered by the component). */
export async function ping(client: TestClient, to: string): Promise<boolean> {
  const reply = await client.iq(
    parseXml(`<iq type='get' to='${to}'><ping xmlns='${NS_PING}'/></iq>`),
  );
  client.received.length = 0;
  return reply.attrs.type === "result";
}
