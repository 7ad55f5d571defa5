import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DISCO_INFO, NS_PING } from "../../schemas/src/ns.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { type FederatedPair, startFederatedProsodyPair } from "../harness/federation.js";
import { type TestServer, tempDir } from "../harness/servers.js";

/** Two Prosody instances on loopback federate over s2s (dialback, no TLS), both ways. */
describe("s2s between two Prosody instances on loopback", () => {
  let pair: FederatedPair;
  let alice: TestClient; // alice@localhost, on home
  let mallory: TestClient; // mallory@rogue.localhost, on rogue
  const components: ComponentProcess[] = [];

  const startComponent = async (server: TestServer) => {
    const c = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    components.push(c);
    await c.waitForLine(/"msg":"ready"/);
  };

  beforeAll(async () => {
    pair = await startFederatedProsodyPair();
    await Promise.all([
      pair.home.register("alice", "alice-pw"),
      pair.rogue.register("mallory", "mallory-pw"),
    ]);
    await Promise.all([startComponent(pair.home), startComponent(pair.rogue)]);
    [alice, mallory] = await Promise.all([
      connectClient(pair.home.ports.c2s, "localhost", "alice", "alice-pw"),
      connectClient(pair.rogue.ports.c2s, "rogue.localhost", "mallory", "mallory-pw"),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([alice?.stop(), mallory?.stop()]);
    await Promise.allSettled(components.map((c) => c.stop()));
    await pair?.dispose();
  });

  const logs = () => `--- home ---\n${pair.home.log()}\n--- rogue ---\n${pair.rogue.log()}`;

  const chatArrives = async (from: TestClient, to: TestClient, body: string) => {
    await from.send(xml("message", { type: "chat", to: to.jid }, xml("body", {}, body)));
    const got = await to
      .waitFor((el) => el.name === "message" && el.getChildText("body") === body, 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
    return got;
  };

  const iqFrom = async (client: TestClient, to: string, payload: Element) => {
    const reply = await client
      .iq(xml("iq", { type: "get", to }, payload), 15_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
    return reply;
  };

  it("gives each server routes to both of the other's domains", () => {
    expect(pair.home.s2sRoutes).toEqual({
      "rogue.localhost": pair.rogue.ports.s2s,
      "microblog.rogue.localhost": pair.rogue.ports.s2s,
    });
    expect(pair.rogue.s2sRoutes).toEqual({
      localhost: pair.home.ports.s2s,
      "microblog.localhost": pair.home.ports.s2s,
    });
    expect(pair.home.log()).toMatch(/mod_warble_s2s_routes\s+info\s+s2s routes: /);
    expect(pair.rogue.log()).toMatch(/mod_warble_s2s_routes\s+info\s+s2s routes: /);
  });

  it("delivers a chat message from rogue.localhost to a user on localhost", async () => {
    const got = await chatArrives(mallory, alice, "hello from rogue");
    expect(got.attrs.from).toMatch(/^mallory@rogue\.localhost\//);
    expect(got.attrs.to).toMatch(/^alice@localhost/);
  });

  it("delivers a chat message from localhost to a user on rogue.localhost", async () => {
    const got = await chatArrives(alice, mallory, "hello from home");
    expect(got.attrs.from).toMatch(/^alice@localhost\//);
    expect(got.attrs.to).toMatch(/^mallory@rogue\.localhost/);
  });

  for (const [who, target] of [
    ["mallory@rogue.localhost", "localhost"],
    ["alice@localhost", "rogue.localhost"],
  ] as const) {
    it(`answers ${who}'s ping and disco#info at the other server, ${target}`, async () => {
      const client = who.startsWith("mallory") ? mallory : alice;
      const ping = await iqFrom(client, target, xml("ping", { xmlns: NS_PING }));
      expect(ping.attrs).toMatchObject({ type: "result", from: target });

      const info = await iqFrom(client, target, xml("query", { xmlns: NS_DISCO_INFO }));
      expect(info.attrs).toMatchObject({ type: "result", from: target });
      const ids = info
        .getChild("query", NS_DISCO_INFO)!
        .getChildren("identity")
        .map((i) => `${i.attrs.category}/${i.attrs.type}`);
      expect(ids).toContain("server/im");
    });
  }

  for (const [who, target] of [
    ["mallory@rogue.localhost", "microblog.localhost"],
    ["alice@localhost", "microblog.rogue.localhost"],
  ] as const) {
    it(`routes ${who}'s IQs to the component on the other server, ${target}`, async () => {
      const client = who.startsWith("mallory") ? mallory : alice;
      const ping = await iqFrom(client, target, xml("ping", { xmlns: NS_PING }));
      expect(ping.attrs).toMatchObject({ type: "result", from: target });

      const info = await iqFrom(client, target, xml("query", { xmlns: NS_DISCO_INFO }));
      expect(info.attrs).toMatchObject({ type: "result", from: target });
      const ids = info
        .getChild("query", NS_DISCO_INFO)!
        .getChildren("identity")
        .map((i) => `${i.attrs.category}/${i.attrs.type}`);
      expect(ids).toContain("pubsub/service");
    });
  }

  it("authenticated the s2s streams with dialback, without TLS", () => {
    // Prosody logs each completed s2s stream at info level; no TLS module is loaded.
    for (const server of [pair.home, pair.rogue]) {
      expect(server.log()).toMatch(/s2s connection .* complete/);
      expect(server.log()).not.toMatch(/mod_tls/);
    }
  });
});
