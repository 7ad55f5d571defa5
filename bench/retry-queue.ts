/**
 * The retry queue with many entries waiting: 10,000 bounced notifications (about 1 KB each, to
 * 100 remote domains) put in the outbox of an SQLite store, then one retry pass over them.
 * Reports the time to queue them, the resident memory and heap before and after, the database
 * size, and the time of a pass that takes 200 due entries and of one that settles them.
 * Usage: node dist/bench/retry-queue.js [--entries 10000]. No network.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PubsubService } from "../component/src/domain/pubsub-service.js";
import { TimelineService } from "../component/src/domain/timeline-service.js";
import { SqliteStore } from "../component/src/storage/sqlite/sqlite-store.js";

const { values } = parseArgs({ options: { entries: { type: "string", default: "10000" } } });
const N = Number(values.entries);
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "warble-bench-retry-"));
  const db = join(dir, "warble.db");
  const store = SqliteStore.open(db);
  let clock = 1_700_000_000_000;
  const pubsub = new PubsubService({ store, ownerOf: () => undefined, now: () => clock });
  const timeline = new TimelineService(pubsub);
  const stanza = `<message type="headline" from="alice@microblog.example.org" to="x"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:microblog:0"><item id="ID">${"<entry xmlns='http://www.w3.org/2005/Atom'><title>".concat("x".repeat(700), "</title></entry>")}</item></items></event></message>`;
  global.gc?.();
  const before = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const domain = `remote${i % 100}.example`;
    await timeline.deferDelivery({
      recipient: `user${i}@${domain}`,
      domain,
      messageId: `m-${i}`,
      stanza: stanza.replace("ID", String(i)),
      condition: "remote-server-not-found",
    });
  }
  const queueMs = performance.now() - t0;
  global.gc?.();
  const after = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
  clock += 3600_000;
  const t1 = performance.now();
  const { result: due } = await timeline.takeDueDeliveries(200);
  const takeMs = performance.now() - t1;
  const t2 = performance.now();
  const domains = (await timeline.outboxDomains()).result.length;
  const domainsMs = performance.now() - t2;
  clock += 600_000;
  const t3 = performance.now();
  await timeline.settleOutbox(120_000, 1000);
  const settleMs = performance.now() - t3;
  await store.close();
  const size = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  console.log(
    JSON.stringify({
      entries: N,
      queuePerSecond: Math.round(N / (queueMs / 1000)),
      rssBefore: mb(before.rss),
      rssAfter: mb(after.rss),
      heapDelta: mb(after.heap - before.heap),
      database: mb(size),
      takeDue200Ms: Number(takeMs.toFixed(1)),
      taken: due.length,
      listDomainsMs: Number(domainsMs.toFixed(1)),
      domains,
      settleMs: Number(settleMs.toFixed(1)),
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
