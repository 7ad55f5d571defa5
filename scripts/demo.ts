/**
 * `npm run demo -- "text"` while `npm start` runs: alice posts, bob follows her and prints the
 * notification he gets, with the same XMPP client library the CLI uses.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { client, xml } from "@xmpp/client";
import type { Element } from "ltx";
import { NS_ATOM, NS_PUBSUB } from "../schemas/src/ns.js";

const NODE = "urn:xmpp:microblog:0";
const SERVICE = "alice@microblog.localhost";

async function login(username: string, password: string) {
  const xmpp = client({
    service: "xmpp://127.0.0.1:5222",
    domain: "localhost",
    username,
    password,
    // PLAIN on loopback without TLS (the demo Prosody has no certificates).
    credentials: async (auth: (c: object, m: string) => Promise<void>) =>
      auth({ username, password }, "PLAIN"),
  } as Parameters<typeof client>[0]);
  xmpp.reconnect.stop();
  xmpp.on("error", (err: Error) => {
    console.error(`demo: ${err.message} (is \`npm start\` running?)`);
    process.exit(1);
  });
  await xmpp.start();
  // Available presence: servers deliver messages sent to a bare JID only to available resources.
  await xmpp.send(xml("presence", {}));
  return xmpp;
}

async function main(): Promise<void> {
  const text = process.argv.slice(2).join(" ") || "Hello from Warble!";
  const secrets = JSON.parse(readFileSync(join(resolve("data"), "secrets.json"), "utf8")) as {
    users: Record<string, string>;
  };
  const alice = await login("alice", secrets.users.alice ?? "");
  const bob = await login("bob", secrets.users.bob ?? "");
  const publish = (t: string) =>
    alice.iqCaller.request(
      xml(
        "iq",
        { type: "set", to: SERVICE },
        xml(
          "pubsub",
          { xmlns: NS_PUBSUB },
          xml(
            "publish",
            { node: NODE },
            xml("item", {}, xml("entry", { xmlns: NS_ATOM }, xml("title", {}, t))),
          ),
        ),
      ),
    );
  const received = new Promise<string>((res) =>
    bob.on("stanza", (el: Element) => {
      const body = el.is("message") ? el.getChildText("body") : null;
      if (body?.endsWith(text)) res(body);
    }),
  );
  await publish("alice has joined Warble");
  await bob.iqCaller.request(
    xml(
      "iq",
      { type: "set", to: SERVICE },
      xml("pubsub", { xmlns: NS_PUBSUB }, xml("subscribe", { node: NODE, jid: "bob@localhost" })),
    ),
  );
  console.log(`bob@localhost follows ${SERVICE}`);
  await publish(text);
  console.log(`alice@localhost posted: ${text}`);
  const timeout = new Promise<string>((_, rej) =>
    setTimeout(() => rej(new Error("bob received nothing within 5 s")), 5000),
  );
  console.log(`bob@localhost received: ${await Promise.race([received, timeout])}`);
  await Promise.all([alice.stop(), bob.stop()]);
}

main().catch((err: unknown) => {
  console.error(`demo: ${(err as Error).message} (is \`npm start\` running?)`);
  process.exit(1);
});
