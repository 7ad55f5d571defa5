import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_ATOM, NS_PUBSUB, NS_RSM } from "../../schemas/src/ns.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { startTestServer, type TestServer } from "../harness/servers.js";
import { type StoreKind, startTestStore, type TestStore } from "../harness/stores.js";

const NODE = "urn:xmpp:microblog:0";

function publishIq(to: string, n: number): Element {
  return xml(
    "iq",
    { type: "set", to },
    xml(
      "pubsub",
      { xmlns: NS_PUBSUB },
      xml(
        "publish",
        { node: NODE },
        xml("item", {}, xml("entry", { xmlns: NS_ATOM }, xml("title", {}, `burst ${n}`))),
      ),
    ),
  );
}

/** All items of the node, newest first, paging with RSM. */
async function allItems(client: TestClient, to: string): Promise<Element[]> {
  const out: Element[] = [];
  let after: string | undefined;
  for (;;) {
    const reply = await client.iq(
      xml(
        "iq",
        { type: "get", to },
        xml(
          "pubsub",
          { xmlns: NS_PUBSUB },
          xml("items", { node: NODE }),
          xml(
            "set",
            { xmlns: NS_RSM },
            xml("max", {}, "100"),
            after ? xml("after", {}, after) : undefined,
          ),
        ),
      ),
    );
    expect(reply.attrs.type).toBe("result");
    const pubsub = reply.getChild("pubsub", NS_PUBSUB)!;
    const items = pubsub.getChild("items")!.getChildren("item");
    out.push(...items);
    const last = pubsub.getChild("set", NS_RSM)?.getChildText("last");
    if (items.length < 100 || !last) return out;
    after = last;
  }
}

describe.each<StoreKind>(["sqlite", "postgres"])(
  "kill -9 during a burst of 200 publishes, %s store",
  (storeKind) => {
    let server: TestServer;
    let alice: TestClient;
    let component: ComponentProcess;
    let store: TestStore;
    const service = "alice@microblog.localhost";
    const acked = new Map<number, string>();

    beforeAll(async () => {
      server = await startTestServer("prosody");
      store = await startTestStore(storeKind, "crash");
      const db = store.db;
      await server.register("alice", "alice-pw");
      component = spawnComponent(server.componentArgs(db), { WARBLE_SECRET: server.secret });
      await component.waitForLine(/"msg":"ready"/);
      alice = await connectClient(server.ports.c2s, server.usersDomain, "alice", "alice-pw");
      let killed = false;
      let onKilled = () => {};
      const kill = new Promise<void>((resolve) => {
        onKilled = resolve;
      });
      // The burst goes out in groups of 10, 5 ms apart, so the kill lands while some are unsent,
      // some in flight and some acknowledged. The last group waits for the kill (at most 8 s):
      // a fast component could otherwise acknowledge all of the burst in one packet first.
      const sends: Promise<void>[] = [];
      for (let n = 0; n < 200; n++) {
        if (n % 10 === 0) await new Promise((r) => setTimeout(r, 5));
        if (n === 190) await Promise.race([kill, new Promise((r) => setTimeout(r, 8_000))]);
        sends.push(
          alice.iq(publishIq(service, n), 8_000).then(
            (reply) => {
              if (reply.attrs.type === "result") {
                const id = reply
                  .getChild("pubsub", NS_PUBSUB)
                  ?.getChild("publish")
                  ?.getChild("item")?.attrs.id;
                if (id) acked.set(n, id);
              }
              if (!killed && acked.size >= 60) {
                killed = true;
                component.kill("SIGKILL");
                onKilled();
              }
            },
            () => undefined,
          ),
        );
      }
      await Promise.all(sends);
      expect(killed).toBe(true);
      await component.exited();
      component = spawnComponent(server.componentArgs(db), { WARBLE_SECRET: server.secret });
      await component.waitForLine(/"msg":"ready"/);
    });

    afterAll(async () => {
      await alice?.stop();
      await component?.stop();
      await server?.dispose();
      await store?.dispose();
    });

    it("killed the component mid-burst: some publishes were acknowledged, not all", () => {
      expect(acked.size).toBeGreaterThanOrEqual(60);
      expect(acked.size).toBeLessThan(200);
    });

    it("keeps every acknowledged publish after the restart", async () => {
      const items = await allItems(alice, service);
      const stored = new Set(items.map((i) => i.attrs.id));
      const lost = [...acked.values()].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
    });

    it("has nothing half-written: every stored item is a complete entry", async () => {
      const items = await allItems(alice, service);
      for (const item of items) {
        const entry = item.getChild("entry", NS_ATOM);
        expect(entry, item.toString()).toBeDefined();
        for (const child of ["id", "title", "published", "updated", "author"]) {
          expect(entry!.getChild(child), `${child} in ${item.attrs.id}`).toBeDefined();
        }
      }
      expect(items.length).toBeLessThanOrEqual(200);
    });
  },
);
