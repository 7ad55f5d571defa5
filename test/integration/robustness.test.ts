/** Bad input from anyone gets an error and never stops the component or stores anything. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DATA_FORMS, NS_DISCO_ITEMS, NS_PING } from "../../schemas/src/ns.js";
import { xml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "../harness/client.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { SERVER_KINDS, startTestServer, type TestServer, tempDir } from "../harness/servers.js";

describe.each(SERVER_KINDS)("robustness on %s", (kind) => {
  let server: TestServer;
  let component: ComponentProcess;
  let mallory: TestClient;
  const C = "microblog.localhost";

  beforeAll(async () => {
    server = await startTestServer(kind);
    await server.register("mallory", "pw");
    component = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    await component.waitForLine(/"msg":"ready"/);
    mallory = await connectClient(server.ports.c2s, server.usersDomain, "mallory", "pw");
  });

  afterAll(async () => {
    await mallory?.stop();
    await component?.stop();
    await server?.dispose();
  });

  const alive = async () => {
    const reply = await mallory.iq(
      xml("iq", { type: "get", to: C }, xml("ping", { xmlns: NS_PING })),
    );
    expect(reply.attrs.type).toBe("result");
  };

  it("answers a malformed data form in a message with an error and stays up", async () => {
    await mallory.send(
      xml(
        "message",
        { to: `alice@${C}`, id: "bad1" },
        xml("x", { xmlns: NS_DATA_FORMS, type: "bogus" }),
      ),
    );
    const err = await mallory.waitFor(
      (el) => el.name === "message" && el.attrs.id === "bad1" && el.attrs.type === "error",
    );
    expect(err.getChild("error")?.getChild("bad-request")).toBeDefined();
    await alive();
    expect(component.proc.exitCode).toBeNull();
  });

  it("a user who never posted has a microblog: adding them follows it (created empty)", async () => {
    const before = await mallory.iq(
      xml("iq", { type: "get", to: `nobody@${C}` }, xml("query", { xmlns: NS_DISCO_ITEMS })),
    );
    expect(before.getChild("query", NS_DISCO_ITEMS)?.getChildren("item")).toEqual([]);
    // Fetching the roster makes this resource "interested" (RFC 6121 §2.1.6): it gets subscribed.
    await mallory.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await mallory.send(xml("presence", { to: `nobody@${C}`, type: "subscribe" }));
    await mallory.waitFor(
      (el) =>
        el.name === "presence" &&
        el.attrs.type === "subscribed" &&
        el.attrs.from?.startsWith(`nobody@${C}`) === true,
    );
    const items = await mallory.iq(
      xml("iq", { type: "get", to: `nobody@${C}` }, xml("query", { xmlns: NS_DISCO_ITEMS })),
    );
    const nodes = items.getChild("query", NS_DISCO_ITEMS)?.getChildren("item") ?? [];
    expect(nodes.map((n) => n.attrs.node)).toEqual(["urn:xmpp:microblog:0"]);
    await alive();
  });

  it("ignores stanzas of unknown kinds and IQ results addressed to it", async () => {
    await mallory.send(xml("iq", { type: "result", to: C, id: "stray" }));
    await mallory.send(xml("message", { to: C, type: "chat" }, xml("body", {}, "hello?")));
    await alive();
  });
});
