/**
 * A fan-out larger than one page of recipients (1,000) through a real Prosody and ejabberd:
 * 2,500 JIDs of a sink component subscribe to pub@C; three posts reach every one of them, each
 * exactly once per post, read a page at a time. While the fan-out is under way a reply is not
 * stuck behind it: the barriers keep the notifications the server has not read to a hundred, so
 * an items request asked when the first notification arrives is answered long before the last.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE, postText, publishIq } from "../../bench/lib/publisher.js";
import { type FanoutServer, startFanoutServer } from "../../bench/lib/servers.js";
import { Sink } from "../../bench/lib/sink.js";
import { NS_PUBSUB } from "../../schemas/src/ns.js";
import { xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { tempDir } from "../harness/servers.js";

const N = 2500;
const POSTS = 3;
const PUBLISHER = "pub";
const PASSWORD = "pub-secret-1";

describe.each(["prosody", "ejabberd"] as const)("large fan-out through %s", (kind) => {
  let server: FanoutServer;
  let sink: Sink;
  let pub: TestClient;
  let warble: ComponentProcess;
  let dir: string;
  const service = () => `${PUBLISHER}@${server.componentDomain}`;

  beforeAll(async () => {
    server = await startFanoutServer(kind, { publisher: PUBLISHER });
    await server.register(PUBLISHER, PASSWORD);
    dir = tempDir(`fanout-large-${kind}`);
    // Every sink JID is a request from one remote domain: the abuse limits out of the way.
    const many = 1_000_000_000;
    const config = join(dir, "config.json");
    const limits = {
      maxRequestsPerDomainPerMinute: many,
      maxRequestsPerRequesterPerMinute: many,
    };
    writeFileSync(config, JSON.stringify({ limits }));
    warble = spawnComponent([...server.componentArgs(join(dir, "warble.db")), "--config", config], {
      WARBLE_SECRET: server.secret,
    });
    await warble.waitForLine(/"msg":"ready"/, 30_000);
    sink = await Sink.connect(server.ports.component, server.sinkDomain, server.secret, N);
    pub = await connectClient(server.ports.c2s, server.usersDomain, PUBLISHER, PASSWORD);
    // The node exists before the sink subscribes to it.
    expect((await pub.iq(publishIq(service(), "hello"))).attrs.type).toBe("result");
    await sink.subscribeAll(service(), NODE);
  }, 240_000);

  afterAll(async () => {
    await pub?.stop();
    await sink?.close();
    await warble?.stop();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("every subscriber gets every post once; a reply overtakes the fan-out", async () => {
    sink.begin("t", POSTS);
    const first = sink.captureNext();
    for (let i = 0; i < POSTS; i++) {
      const reply = await pub.iq(publishIq(service(), postText("t", i)), 60_000);
      expect(reply.attrs.type).toBe("result");
    }
    await first;
    const before = sink.result().received;
    const items = xml(
      "iq",
      { type: "get", to: service() },
      xml("pubsub", { xmlns: NS_PUBSUB }, xml("items", { node: NODE, max_items: "1" })),
    );
    const answer = await pub.iq(items, 60_000);
    const during = sink.result().received - before;
    expect(answer.attrs.type).toBe("result");
    await sink.waitFor(N * POSTS, 30_000);
    const counts = sink.result();
    expect(counts.perPost).toEqual(Array(POSTS).fill(N));
    expect(counts.received).toBe(N * POSTS);
    // (counts.other: the first post, "hello", sent to each new subscriber as the last item.)
    // Measured about 140 on both servers (the window's 100 and what was on its way to the
    // sink); without the barriers the reply waits behind all that fills the sockets' buffers.
    console.info(`${kind}: ${during} notifications arrived while the items request was answered`);
    expect(during).toBeLessThan(1000);
  }, 180_000);
});
