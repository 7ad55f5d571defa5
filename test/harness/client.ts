import { type Client, client } from "@xmpp/client";
import type { Element } from "../../schemas/src/xml.js";

/** A real XMPP client (xmpp.js) logged in to a test server, with helpers to await stanzas. */
export interface TestClient {
  jid: string;
  xmpp: Client;
  /** Send an IQ and resolve with the whole reply stanza (result or error; never rejects on error). */
  iq(el: Element, timeoutMs?: number): Promise<Element>;
  send(el: Element): Promise<void>;
  /** Resolve with the first incoming stanza (received so far or later) matching `match`. */
  waitFor(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Incoming stanzas so far (not IQ results). */
  received: Element[];
  stop(): Promise<void>;
}

let counter = 0;

export async function connectClient(
  port: number,
  domain: string,
  username: string,
  password: string,
): Promise<TestClient> {
  const xmpp = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain,
    username,
    password,
    resource: `test${++counter}`,
    // PLAIN on loopback: SCRAM in JavaScript costs ~0.7 s per login (SERVERS.md).
    credentials: async (authenticate: (c: object, m: string) => Promise<void>) =>
      authenticate({ username, password }, "PLAIN"),
  } as Parameters<typeof client>[0]);
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  const received: Element[] = [];
  const waiters = new Set<{ match: (el: Element) => boolean; resolve: (el: Element) => void }>();
  const pendingIq = new Map<string, (el: Element) => void>();
  xmpp.on("stanza", (el: Element) => {
    if (el.name === "iq" && (el.attrs.type === "result" || el.attrs.type === "error")) {
      const done = pendingIq.get(el.attrs.id);
      if (done) {
        pendingIq.delete(el.attrs.id);
        done(el);
        return;
      }
    }
    received.push(el);
    for (const w of waiters) {
      if (w.match(el)) {
        waiters.delete(w);
        w.resolve(el);
      }
    }
  });
  await xmpp.start();
  await xmpp.send(xmppXml("presence", {}));
  const jid = `${username}@${domain}`;
  let ids = 0;
  return {
    jid,
    xmpp,
    received,
    send: (el) => xmpp.send(el),
    iq: (el, timeoutMs = 10_000) => {
      const id = `q${++ids}`;
      el.attrs.id = id;
      return new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingIq.delete(id);
          reject(new Error(`no reply to IQ ${el.toString().slice(0, 200)} within ${timeoutMs} ms`));
        }, timeoutMs);
        pendingIq.set(id, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        xmpp.send(el).catch(reject);
      });
    },
    waitFor: (match, timeoutMs = 10_000) => {
      const seen = received.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<Element>((resolve, reject) => {
        const w = {
          match,
          resolve: (el: Element) => {
            clearTimeout(timer);
            resolve(el);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching stanza within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    stop: async () => {
      await xmpp.stop().catch(() => {});
    },
  };
}

import { xml as xmppXml } from "@xmpp/client";
