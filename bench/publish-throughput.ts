/**
 * Publish throughput and notification latency through a real Prosody (or ejabberd):
 * one publisher, S subscribers, N publishes awaited one by one, then N pipelined.
 * Usage: node dist/bench/publish-throughput.js [--server prosody|ejabberd] [--store sqlite|postgres]
 *   [--subscribers 10] [--publishes 500]
 * Loopback only; bounded by the counts given.
 */
import { parseArgs } from "node:util";
import { NS_ATOM, NS_PUBSUB } from "../schemas/src/ns.js";
import { type Element, xml } from "../schemas/src/xml.js";
import { connectClient, type TestClient } from "../test/harness/client.js";
import { spawnComponent } from "../test/harness/component.js";
import { type ServerKind, startTestServer } from "../test/harness/servers.js";
import { type StoreKind, startTestStore } from "../test/harness/stores.js";

const NODE = "urn:xmpp:microblog:0";
const { values } = parseArgs({
  options: {
    server: { type: "string", default: "prosody" },
    subscribers: { type: "string", default: "10" },
    publishes: { type: "string", default: "500" },
    store: { type: "string", default: "sqlite" },
  },
});
const S = Number(values.subscribers);
const N = Number(values.publishes);

const publishIq = (to: string, text: string): Element =>
  xml(
    "iq",
    { type: "set", to },
    xml(
      "pubsub",
      { xmlns: NS_PUBSUB },
      xml(
        "publish",
        { node: NODE },
        xml("item", {}, xml("entry", { xmlns: NS_ATOM }, xml("title", {}, text))),
      ),
    ),
  );

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function main(): Promise<void> {
  const server = await startTestServer(values.server as ServerKind);
  const store = await startTestStore(values.store as StoreKind, "bench");
  const component = spawnComponent(server.componentArgs(store.db), {
    WARBLE_SECRET: server.secret,
    WARBLE_LOG_LEVEL: "warn",
  });
  try {
    await server.register("pub", "pw");
    for (let i = 0; i < S; i++) await server.register(`sub${i}`, "pw");
    await new Promise((r) => setTimeout(r, 1500));
    const pub = await connectClient(server.ports.c2s, server.usersDomain, "pub", "pw");
    const service = `pub@${server.componentDomain}`;
    // First publish creates the node.
    await pub.iq(publishIq(service, "hello"));
    const subs: TestClient[] = [];
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let received = 0;
    for (let i = 0; i < S; i++) {
      const c = await connectClient(server.ports.c2s, server.usersDomain, `sub${i}`, "pw");
      const reply = await c.iq(
        xml(
          "iq",
          { type: "set", to: service },
          xml(
            "pubsub",
            { xmlns: NS_PUBSUB },
            xml("subscribe", { node: NODE, jid: `sub${i}@${server.usersDomain}` }),
          ),
        ),
      );
      if (reply.attrs.type !== "result") throw new Error(`subscribe failed: ${reply.toString()}`);
      c.xmpp.on("stanza", (el: Element) => {
        if (el.name !== "message") return;
        const title = el
          .getChild("event")
          ?.getChild("items")
          ?.getChild("item")
          ?.getChild("entry")
          ?.getChildText("title");
        const t0 = title ? sentAt.get(title) : undefined;
        if (t0 !== undefined) {
          latencies.push(performance.now() - t0);
          received++;
        }
      });
      subs.push(c);
    }

    const runPhase = async (label: string, pipelined: boolean) => {
      latencies.length = 0;
      received = 0;
      const start = performance.now();
      if (pipelined) {
        await Promise.all(
          Array.from({ length: N }, (_, n) => {
            const t = `${label} ${n}`;
            sentAt.set(t, performance.now());
            return pub.iq(publishIq(service, t), 60_000);
          }),
        );
      } else {
        for (let n = 0; n < N; n++) {
          const t = `${label} ${n}`;
          sentAt.set(t, performance.now());
          const r = await pub.iq(publishIq(service, t));
          if (r.attrs.type !== "result") throw new Error(r.toString());
        }
      }
      const acked = performance.now() - start;
      const deadline = Date.now() + 30_000;
      while (received < N * S && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const total = performance.now() - start;
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        JSON.stringify({
          server: values.server,
          store: values.store,
          phase: label,
          subscribers: S,
          publishes: N,
          publishesPerSecond: Math.round((N / acked) * 1000),
          notificationsPerSecond: Math.round((received / total) * 1000),
          notificationsReceived: received,
          expected: N * S,
          latencyMs: {
            p50: +pct(sorted, 50).toFixed(2),
            p95: +pct(sorted, 95).toFixed(2),
            p99: +pct(sorted, 99).toFixed(2),
          },
        }),
      );
    };
    await runPhase("sequential", false);
    await runPhase("pipelined", true);
    await Promise.all([pub, ...subs].map((c) => c.stop()));
  } finally {
    await component.stop();
    await server.dispose();
    await store.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});
