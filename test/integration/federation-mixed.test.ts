import { Resolver } from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DISCO_INFO } from "../../schemas/src/ns.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { type FederatedMixedPair, startFederatedMixedPair } from "../harness/federation-mixed.js";
import { type TestServer, tempDir } from "../harness/servers.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** Prosody (localhost) and ejabberd (ej.localhost) federate over s2s on loopback, both ways. */
describe("s2s between Prosody and ejabberd on loopback", () => {
  let pair: FederatedMixedPair;
  let alice: TestClient; // alice@localhost, on Prosody
  let bob: TestClient; // bob@ej.localhost, on ejabberd
  const components: ComponentProcess[] = [];
  let startMs = 0;
  let ownQueries = 0;

  const startComponent = async (server: TestServer) => {
    const c = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    components.push(c);
    await c.waitForLine(/"msg":"ready"/);
  };

  const connectBob = () => connectClient(pair.ejabberd.ports.c2s, "ej.localhost", "bob", "bob-pw");

  beforeAll(async () => {
    const t0 = Date.now();
    pair = await startFederatedMixedPair();
    startMs = Date.now() - t0;
    await Promise.all([
      pair.prosody.register("alice", "alice-pw"),
      pair.ejabberd.register("bob", "bob-pw"),
    ]);
    await Promise.all([startComponent(pair.prosody), startComponent(pair.ejabberd)]);
    [alice, bob] = await Promise.all([
      connectClient(pair.prosody.ports.c2s, "localhost", "alice", "alice-pw"),
      connectBob(),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([alice?.stop(), bob?.stop()]);
    await Promise.allSettled(components.map((c) => c.stop()));
    await pair?.dispose();
  });

  const logs = () =>
    `--- prosody ---\n${pair.prosody.log()}\n--- ejabberd ---\n${pair.ejabberd.log()}\n--- dns ---\n${JSON.stringify(pair.dns.queries())}`;

  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n${logs()}`);
  };

  const isChat = (body: string) => (el: Element) =>
    el.name === "message" && el.getChildText("body") === body;

  const chatArrives = async (
    from: TestClient,
    to: TestClient,
    body: string,
    timeoutMs = 15_000,
  ) => {
    await from.send(xml("message", { type: "chat", to: to.jid }, xml("body", {}, body)));
    return to.waitFor(isChat(body), timeoutMs).catch(withLogs);
  };

  it("starts both servers and the DNS responder in a few seconds", () => {
    console.info(`harness: the mixed pair started in ${startMs} ms`);
    expect(startMs).toBeLessThan(20_000);
    expect(pair.prosody.kind).toBe("prosody");
    expect(pair.ejabberd.kind).toBe("ejabberd");
    expect(pair.prosody.s2sRoutes).toEqual({
      "ej.localhost": pair.ejabberd.ports.s2s,
      "microblog.ej.localhost": pair.ejabberd.ports.s2s,
    });
    expect(pair.ejabberd.s2sRoutes).toEqual({
      localhost: pair.prosody.ports.s2s,
      "microblog.localhost": pair.prosody.ports.s2s,
    });
  });

  it("answers SRV and A for Prosody's domains on loopback, NXDOMAIN otherwise", async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${pair.dns.port}`]);
    for (const domain of ["localhost", "microblog.localhost", "MicroBlog.LocalHost"]) {
      expect(await resolver.resolveSrv(`_xmpp-server._tcp.${domain}`)).toEqual([
        { name: "localhost", port: pair.prosody.ports.s2s, priority: 0, weight: 0 },
      ]);
      expect(await resolver.resolve4(domain)).toEqual(["127.0.0.1"]);
    }
    await expect(resolver.resolve6("microblog.localhost")).rejects.toMatchObject({
      code: "ENODATA",
    });
    for (const name of [
      "_xmpp-server._tcp.ej.localhost",
      "example.com",
      "_xmpp-client._tcp.localhost",
    ]) {
      await expect(resolver.resolveSrv(name)).rejects.toMatchObject({ code: "ENOTFOUND" });
    }
    // This test's own queries are no evidence of what ejabberd asks.
    ownQueries = pair.dns.queries().at(-1)?.seq ?? 0;
  });

  it("delivers a chat message from localhost (Prosody) to ej.localhost (ejabberd)", async () => {
    const got = await chatArrives(alice, bob, "hello from prosody");
    expect(got.attrs.from).toMatch(/^alice@localhost\//);
    expect(got.attrs.to).toMatch(/^bob@ej\.localhost/);
  });

  it("delivers a chat message from ej.localhost (ejabberd) to localhost (Prosody)", async () => {
    const got = await chatArrives(bob, alice, "hello from ejabberd");
    expect(got.attrs.from).toMatch(/^bob@ej\.localhost\//);
    expect(got.attrs.to).toMatch(/^alice@localhost/);
  });

  for (const [who, target] of [
    ["alice@localhost", "microblog.ej.localhost"],
    ["bob@ej.localhost", "microblog.localhost"],
  ] as const) {
    it(`routes ${who}'s disco#info to the Warble component on the other server, ${target}`, async () => {
      const client = who.startsWith("alice") ? alice : bob;
      const info = await client
        .iq(xml("iq", { type: "get", to: target }, xml("query", { xmlns: NS_DISCO_INFO })), 15_000)
        .catch(withLogs);
      if (info.attrs.type !== "result") withLogs(new Error(`disco#info: ${info.toString()}`));
      expect(info.attrs).toMatchObject({ type: "result", from: target });
      const ids = info
        .getChild("query", NS_DISCO_INFO)!
        .getChildren("identity")
        .map((i) => `${i.attrs.category}/${i.attrs.type}`);
      expect(ids).toContain("pubsub/service");
    });
  }

  it("made ejabberd ask the responder for microblog.localhost's SRV, never for localhost's", () => {
    // `localhost` has no dot: ejabberd asks no SRV and connects to outgoing_s2s_port.
    const names = pair.dns
      .queries()
      .filter((q) => q.seq > ownQueries)
      .map((q) => q.name);
    expect(names).toContain("_xmpp-server._tcp.microblog.localhost");
    expect(names).not.toContain("_xmpp-server._tcp.localhost");
  });

  /** Send a chat message that cannot be delivered; resolve with its bounce's "type/condition". */
  const bounceOf = async (from: TestClient, to: string, id: string) => {
    await from.send(xml("message", { type: "chat", to, id }, xml("body", {}, `bounce ${id}`)));
    const bounce = await from
      .waitFor((el) => el.name === "message" && el.attrs.id === id, 20_000)
      .catch(withLogs);
    expect(bounce.attrs.type).toBe("error");
    const error = bounce.getChild("error");
    const condition = error?.children.find(
      (c): c is Element => typeof c !== "string" && c.attrs.xmlns === NS_STANZAS,
    )?.name;
    return `${error?.attrs.type}/${condition}`;
  };

  /**
   * Send chat messages from `from` to `to` every second until one arrives (a server may bounce
   * for a while after a failed connection); resolve with the number of messages sent.
   */
  const deliverWithin = async (from: TestClient, to: TestClient, label: string, ms: number) => {
    const deadline = Date.now() + ms;
    for (let n = 1; ; n++) {
      const body = `${label} #${n}`;
      await from.send(xml("message", { type: "chat", to: to.jid }, xml("body", {}, body)));
      const wait = Math.min(1000, deadline - Date.now());
      const got = await to.waitFor(isChat(body), Math.max(wait, 1)).catch(() => null);
      if (got) return n;
      if (Date.now() >= deadline) withLogs(new Error(`${label}: nothing arrived within ${ms} ms`));
    }
  };

  it("bounces a message while ejabberd is down, and delivers again once it is back", async () => {
    await bob.stop();
    await pair.ejabberd.stop();
    // Prosody cannot connect: it bounces the message to the sender at once.
    const bounce = await bounceOf(alice, "bob@ej.localhost", "down1");
    console.info(`harness: ejabberd down: Prosody bounced with ${bounce}`);
    expect(bounce).toBe("cancel/remote-server-not-found");

    const t0 = Date.now();
    await pair.ejabberd.restart();
    const restartMs = Date.now() - t0;
    bob = await connectBob();
    // Prosody keeps no memory of the failure: the first message after the restart goes through.
    const got = await chatArrives(alice, bob, "after restart, from prosody", 30_000);
    expect(got.attrs.from).toMatch(/^alice@localhost\//);
    const back = await chatArrives(bob, alice, "after restart, from ejabberd", 30_000);
    expect(back.attrs.from).toMatch(/^bob@ej\.localhost\//);
    // The restarted ejabberd still finds Prosody's component through the same DNS responder.
    const info = await bob
      .iq(
        xml(
          "iq",
          { type: "get", to: "microblog.localhost" },
          xml("query", { xmlns: NS_DISCO_INFO }),
        ),
        15_000,
      )
      .catch(withLogs);
    expect(info.attrs).toMatchObject({ type: "result", from: "microblog.localhost" });
    const totalMs = Date.now() - t0;
    console.info(
      `harness: ejabberd restarted in ${restartMs} ms; messages both ways ${totalMs} ms after the restart began`,
    );
    expect(totalMs).toBeLessThan(60_000);
  }, 90_000);

  it("bounces a message while Prosody is down, and delivers again once it is back", async () => {
    await alice.stop();
    await pair.prosody.stop();
    // ejabberd's connection attempt is refused: it bounces, then bounces everything for
    // `localhost` for a random delay up to s2s_max_retry_delay (5 s here).
    const bounce = await bounceOf(bob, "alice@localhost", "down2");
    console.info(`harness: Prosody down: ejabberd bounced with ${bounce}`);
    expect(bounce).toBe("wait/remote-server-timeout");

    const t0 = Date.now();
    await pair.prosody.restart();
    alice = await connectClient(pair.prosody.ports.c2s, "localhost", "alice", "alice-pw");
    const sent = await deliverWithin(bob, alice, "after prosody restart", 30_000);
    const deliveredMs = Date.now() - t0;
    await chatArrives(alice, bob, "after prosody restart, from prosody");
    console.info(
      `harness: Prosody restarted; ejabberd delivered again ${deliveredMs} ms later (message ${sent})`,
    );
    expect(deliveredMs).toBeLessThan(60_000);
  }, 90_000);
});
