import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION } from "../../schemas/src/ns.js";
import { xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { SERVER_KINDS, startTestServer, type TestServer, tempDir } from "../harness/servers.js";

describe.each(SERVER_KINDS)("the component process on %s", (kind) => {
  let server: TestServer;
  let component: ComponentProcess;
  let alice: TestClient;
  const C = "microblog.localhost";

  beforeAll(async () => {
    server = await startTestServer(kind);
    await server.register("alice", "alice-pw");
    component = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    await component.waitForLine(/"msg":"ready"/);
    alice = await connectClient(server.ports.c2s, server.usersDomain, "alice", "alice-pw");
  });

  afterAll(async () => {
    await alice?.stop();
    await component?.stop();
    await server?.dispose();
  });

  it("logs exactly one ready line naming its domain", () => {
    const ready = component
      .output()
      .split("\n")
      .filter((l) => l.includes('"msg":"ready"'));
    expect(ready).toHaveLength(1);
    expect(ready[0]).toContain(`"domain":"${C}"`);
  });

  it("answers disco#info at C with pubsub/service and component/generic", async () => {
    const reply = await alice.iq(
      xml("iq", { type: "get", to: C }, xml("query", { xmlns: NS_DISCO_INFO })),
    );
    expect(reply.attrs.type).toBe("result");
    const q = reply.getChild("query", NS_DISCO_INFO)!;
    const ids = q.getChildren("identity").map((i) => `${i.attrs.category}/${i.attrs.type}`);
    expect(ids).toEqual(expect.arrayContaining(["pubsub/service", "component/generic"]));
    const features = q.getChildren("feature").map((f) => f.attrs.var);
    expect(features).toEqual(
      expect.arrayContaining([NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION]),
    );
  });

  it("answers disco#info at u@C for a user of the users domain", async () => {
    const reply = await alice.iq(
      xml("iq", { type: "get", to: `alice@${C}` }, xml("query", { xmlns: NS_DISCO_INFO })),
    );
    expect(reply.attrs.type).toBe("result");
    const identity = reply.getChild("query", NS_DISCO_INFO)!.getChild("identity")!;
    expect(identity.attrs).toMatchObject({ category: "pubsub", type: "service" });
  });

  it("answers disco#items at C and u@C", async () => {
    for (const to of [C, `alice@${C}`]) {
      const reply = await alice.iq(
        xml("iq", { type: "get", to }, xml("query", { xmlns: NS_DISCO_ITEMS })),
      );
      expect(reply.attrs.type, to).toBe("result");
      expect(reply.getChild("query", NS_DISCO_ITEMS)).toBeDefined();
    }
  });

  it("refuses disco#info for an unknown node with item-not-found", async () => {
    const reply = await alice.iq(
      xml("iq", { type: "get", to: C }, xml("query", { xmlns: NS_DISCO_INFO, node: "nope" })),
    );
    expect(reply.attrs.type).toBe("error");
    expect(reply.getChild("error")!.getChild("item-not-found")).toBeDefined();
  });

  it("answers XEP-0199 ping at C and u@C", async () => {
    for (const to of [C, `alice@${C}`]) {
      const reply = await alice.iq(xml("iq", { type: "get", to }, xml("ping", { xmlns: NS_PING })));
      expect(reply.attrs.type, to).toBe("result");
      expect(reply.attrs.from).toBe(to);
    }
  });

  it("answers XEP-0092 version", async () => {
    const reply = await alice.iq(
      xml("iq", { type: "get", to: C }, xml("query", { xmlns: NS_VERSION })),
    );
    const q = reply.getChild("query", NS_VERSION)!;
    expect(q.getChildText("name")).toBe("Warble");
    expect(q.getChildText("version")).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("answers an unknown IQ with service-unavailable", async () => {
    const reply = await alice.iq(
      xml("iq", { type: "get", to: C }, xml("query", { xmlns: "urn:example:nothing" })),
    );
    expect(reply.attrs.type).toBe("error");
    expect(reply.getChild("error")!.getChild("service-unavailable")).toBeDefined();
  });

  it("reconnects after the server restarts and serves again", async () => {
    await alice.stop();
    await server.restart();
    await component.waitForLine(/disconnected/, 10_000);
    const readyCount = () =>
      component
        .output()
        .split("\n")
        .filter((l) => l.includes('"msg":"ready"')).length;
    const deadline = Date.now() + 20_000;
    while (readyCount() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readyCount()).toBe(2);
    alice = await connectClient(server.ports.c2s, server.usersDomain, "alice", "alice-pw");
    const reply = await alice.iq(
      xml("iq", { type: "get", to: C }, xml("ping", { xmlns: NS_PING })),
    );
    expect(reply.attrs.type).toBe("result");
  });

  it("exits non-zero with one clear line when the secret is wrong", async () => {
    const wrong = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: "not-the-secret",
    });
    const code = await wrong.exited(20_000);
    expect(code).not.toBe(0);
    expect(wrong.output().trim()).toBe(
      `warble-component: the server refused the component secret for ${C}`,
    );
  });

  it("stops cleanly with exit 0 on SIGTERM, after logging that it stopped", async () => {
    expect(await component.stop()).toBe(0);
    expect(component.output()).toContain('"msg":"stopped"');
  });
});

describe("settings", () => {
  it("a missing setting is one line on stderr and exit 2", async () => {
    const p = spawnComponent(
      ["--service", "xmpp://127.0.0.1:1", "--domain", "microblog.localhost"],
      { WARBLE_SECRET: "x" },
    );
    expect(await p.exited()).toBe(2);
    expect(p.output().trim()).toBe(
      "warble-component: missing setting: users-domain (flag --users-domain D, env WARBLE_USERS_DOMAIN)",
    );
  });

  it("a bad setting is one line on stderr and exit 2", async () => {
    const p = spawnComponent(
      ["--service", "http:/nope", "--domain", "microblog.localhost", "--users-domain", "localhost"],
      { WARBLE_SECRET: "x" },
    );
    expect(await p.exited()).toBe(2);
    expect(p.output().trim().split("\n")).toHaveLength(1);
    expect(p.output()).toMatch(/^warble-component: invalid service/);
  });

  it("refuses a database written by a newer version, untouched, in one line", async () => {
    const path = `${tempDir("db")}/warble.db`;
    const raw = new Database(path);
    raw.pragma("user_version = 999");
    raw.close();
    const before = readFileSync(path);
    const p = spawnComponent(
      [
        "--service",
        "xmpp://127.0.0.1:1",
        "--domain",
        "microblog.localhost",
        "--users-domain",
        "localhost",
        "--db",
        path,
      ],
      { WARBLE_SECRET: "x" },
    );
    expect(await p.exited()).toBe(1);
    expect(p.output().trim()).toMatch(
      /^warble-component: the database is at schema version 999, written by a newer Warble; .*$/,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("an unusable --db path is one line on stderr and exit 2", async () => {
    const p = spawnComponent(
      [
        "--service",
        "xmpp://127.0.0.1:1",
        "--domain",
        "microblog.localhost",
        "--users-domain",
        "localhost",
        "--db",
        "/dev/null/warble.db",
      ],
      { WARBLE_SECRET: "x" },
    );
    expect(await p.exited()).toBe(2);
    expect(p.output().trim()).toMatch(
      /^warble-component: cannot open the database \/dev\/null\/warble.db: [^\n]+$/,
    );
  });

  it("an unknown flag is one line on stderr and exit 2", async () => {
    const p = spawnComponent(["--frobnicate"]);
    expect(await p.exited()).toBe(2);
    expect(p.output().trim().split("\n")).toHaveLength(1);
  });
});
