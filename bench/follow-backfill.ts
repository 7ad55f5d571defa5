/**
 * How long a follow of many nodes with backfill takes: N users on Prosody (or ejabberd) with P
 * posts each (written into the store before the component starts), one reader who runs the
 * `follow` ad-hoc command for each of them, C at a time. Each follow is the command, the
 * subscribe from reader@C to uN@C through the server, and the items fetch of the backfill.
 * Reports the total, follows per second, p50/p99 of one follow, and the timeline's size (MAM).
 * Usage: node dist/bench/follow-backfill.js [--server prosody] [--nodes 1000] [--posts 5]
 *   [--concurrency 1]. Loopback only; bounded by the counts given.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PubsubService } from "../component/src/domain/pubsub-service.js";
import { Addresses } from "../component/src/protocol/addresses.js";
import { SqliteStore } from "../component/src/storage/sqlite/sqlite-store.js";
import { NS_COMMANDS, NS_DATA_FORMS, NS_MAM } from "../schemas/src/ns.js";
import { parseXml } from "../schemas/src/xml.js";
import { connectClient, type TestClient } from "../test/harness/client.js";
import { spawnComponent } from "../test/harness/component.js";
import { type ServerKind, startTestServer, tempDir } from "../test/harness/servers.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "prosody" },
    nodes: { type: "string", default: "1000" },
    posts: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1" },
  },
});
const N = Number(values.nodes);
const P = Number(values.posts);
const CONC = Number(values.concurrency);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function populate(db: string, component: string, users: string): Promise<void> {
  const store = SqliteStore.open(db);
  const addresses = new Addresses(component, [users]);
  const pubsub = new PubsubService({ store, ownerOf: (s) => addresses.ownerOfService(s) });
  for (let i = 0; i < N; i++) {
    const owner = `u${i}@${users}`;
    const service = addresses.serviceOf(owner) as string;
    for (let j = 0; j < P; j++) {
      const payload = `<entry xmlns="http://www.w3.org/2005/Atom"><title>post ${j} of u${i}</title><author><uri>xmpp:${owner}</uri></author></entry>`;
      await pubsub.publishItem(owner, { service, node: "urn:xmpp:microblog:0" }, { payload });
    }
  }
  await store.close();
}

async function follow(client: TestClient, component: string, target: string): Promise<void> {
  const cmd = (attrs: string, inner = "") =>
    parseXml(
      `<iq type='set' to='${component}'><command xmlns='${NS_COMMANDS}' node='follow' ${attrs}>${inner}</command></iq>`,
    );
  const first = await client.iq(cmd("action='execute'"), 30_000);
  const session = first.getChild("command", NS_COMMANDS)?.attrs.sessionid;
  const form = `<x xmlns='${NS_DATA_FORMS}' type='submit'><field var='jid'><value>${target}</value></field></x>`;
  const done = await client.iq(cmd(`sessionid='${session}' action='complete'`, form), 30_000);
  const note = done.getChild("command", NS_COMMANDS)?.getChildText("note") ?? "";
  if (done.attrs.type !== "result" || !/follow/.test(note)) {
    throw new Error(`follow ${target} failed: ${done.toString()}`);
  }
}

async function timelineCount(client: TestClient, service: string): Promise<number> {
  const reply = await client.iq(
    parseXml(
      `<iq type='set' to='${service}'><query xmlns='${NS_MAM}'><set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set></query></iq>`,
    ),
  );
  return Number(reply.getChild("fin", NS_MAM)?.getChild("set")?.getChildText("count") ?? "-1");
}

async function main(): Promise<void> {
  const server = await startTestServer(values.server as ServerKind);
  const db = join(tempDir("bench-follow"), "warble.db");
  try {
    const t0 = performance.now();
    await populate(db, server.componentDomain, server.usersDomain);
    const populateS = (performance.now() - t0) / 1000;
    const component = spawnComponent(server.componentArgs(db), {
      WARBLE_SECRET: server.secret,
      WARBLE_LOG_LEVEL: "warn",
    });
    try {
      await server.register("reader", "pw");
      await new Promise((r) => setTimeout(r, 1500));
      const reader = await connectClient(server.ports.c2s, server.usersDomain, "reader", "pw");
      const each: number[] = [];
      let next = 0;
      const start = performance.now();
      const worker = async () => {
        for (let i = next++; i < N; i = next++) {
          const t = performance.now();
          await follow(reader, server.componentDomain, `u${i}@${server.usersDomain}`);
          each.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: CONC }, worker));
      const totalS = (performance.now() - start) / 1000;
      const sorted = each.sort((a, b) => a - b);
      const count = await timelineCount(reader, `reader@${server.componentDomain}`);
      console.log(
        JSON.stringify({
          server: values.server,
          nodes: N,
          postsPerNode: P,
          concurrency: CONC,
          populateSeconds: +populateS.toFixed(1),
          totalSeconds: +totalS.toFixed(2),
          followsPerSecond: Math.round(N / totalS),
          followMs: { p50: +pct(sorted, 50).toFixed(1), p99: +pct(sorted, 99).toFixed(1) },
          timelineEntries: count,
          expectedEntries: N * Math.min(P, 20),
        }),
      );
      await reader.stop();
    } finally {
      await component.stop();
    }
  } finally {
    await server.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});
