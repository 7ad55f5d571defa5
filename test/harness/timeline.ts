/**
 * Test helpers for following and the home timeline: the `follow` command, XEP-0313 pages of a
 * home timeline, and the relayed chat messages a user receives.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { NS_MAM } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import { type CommandOutcome, runCommand } from "./authorization.js";
import type { TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { stanza } from "./pubsub.js";
import { type TestServer, tempDir } from "./servers.js";

/** The field of the `follow` and `unfollow` commands that names the microblog. */
export const FOLLOW_FIELD = "jid";

export function followVia(
  client: TestClient,
  component: string,
  target: string,
): Promise<CommandOutcome> {
  return runCommand(client, "follow", { [FOLLOW_FIELD]: target }, component);
}

export function unfollowVia(
  client: TestClient,
  component: string,
  target: string,
): Promise<CommandOutcome> {
  return runCommand(client, "unfollow", { [FOLLOW_FIELD]: target }, component);
}

export interface ArchivedPost {
  /** The MAM id. */
  id: string;
  service: string;
  itemId: string;
  body: string;
  stamp: string;
}

export interface MamPage {
  posts: ArchivedPost[];
  complete: boolean;
  first?: string;
  last?: string;
  count?: number;
  reply: Element;
}

export interface MamFilter {
  max?: number;
  after?: string;
  before?: string;
  start?: string;
  end?: string;
  with?: string;
}

let queries = 0;

function queryXml(queryid: string, f: MamFilter): string {
  const fields = (["start", "end", "with"] as const)
    .filter((k) => f[k] !== undefined)
    .map((k) => `<field var='${k}'><value>${f[k]}</value></field>`)
    .join("");
  const form = fields
    ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_MAM}</value></field>${fields}</x>`
    : "";
  const rsmParts = [
    f.max !== undefined ? `<max>${f.max}</max>` : "",
    f.after !== undefined ? `<after>${f.after}</after>` : "",
    f.before !== undefined ? (f.before === "" ? "<before/>" : `<before>${f.before}</before>`) : "",
  ].join("");
  const rsm = rsmParts ? `<set xmlns='http://jabber.org/protocol/rsm'>${rsmParts}</set>` : "";
  return `<query xmlns='${NS_MAM}' queryid='${queryid}'>${form}${rsm}</query>`;
}

function postOf(msg: Element): ArchivedPost | undefined {
  const result = msg.getChild("result", NS_MAM);
  const fwd = result?.getChild("forwarded", "urn:xmpp:forward:0");
  const inner = fwd?.getChild("message");
  if (!result || !fwd || !inner) return undefined;
  const item = inner.getChild("event")?.getChild("items")?.getChild("item");
  return {
    id: result.attrs.id as string,
    service: inner.attrs.from as string,
    itemId: (item?.attrs.id as string) ?? "",
    body: inner.getChildText("body") ?? "",
    stamp: (fwd.getChild("delay")?.attrs.stamp as string) ?? "",
  };
}

/** One page of `service`'s home timeline (the IQ reply is returned as is when it is an error). */
export async function mamPage(
  client: TestClient,
  service: string,
  filter: MamFilter = {},
): Promise<MamPage> {
  const queryid = `q${++queries}`;
  const reply = await client.iq(
    stanza(`<iq type='set' to='${service}'>${queryXml(queryid, filter)}</iq>`),
  );
  const posts = client.received
    .filter((m) => m.name === "message" && m.getChild("result", NS_MAM)?.attrs.queryid === queryid)
    .map(postOf)
    .filter((p): p is ArchivedPost => p !== undefined);
  const fin = reply.getChild("fin", NS_MAM);
  const set = fin?.getChild("set");
  const page: MamPage = { posts, complete: fin?.attrs.complete === "true", reply };
  const first = set?.getChildText("first");
  const last = set?.getChildText("last");
  const count = set?.getChildText("count");
  if (first) page.first = first;
  if (last) page.last = last;
  if (count) page.count = Number(count);
  return page;
}

/** Every post of the timeline, oldest first, paging forward with `max`. */
export async function mamAll(
  client: TestClient,
  service: string,
  max = 10,
): Promise<ArchivedPost[]> {
  const all: ArchivedPost[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await mamPage(client, service, after ? { max, after } : { max });
    if (page.reply.attrs.type !== "result")
      throw new Error(`MAM refused: ${page.reply.toString()}`);
    all.push(...page.posts);
    if (page.complete || !page.last) return all;
    after = page.last;
  }
  throw new Error("MAM paging did not end");
}

/** A relayed post: a chat message from `service` carrying <relayed/>. */
export const isRelayFrom = (service: string) => (el: Element) =>
  el.name === "message" &&
  el.attrs.type === "chat" &&
  (el.attrs.from as string | undefined)?.split("/")[0] === service &&
  el.getChild("relayed", NS_WARBLE) !== undefined;

export function relaysTo(client: TestClient, service: string): Element[] {
  return client.received.filter(isRelayFrom(service));
}

export const relayedItem = (el: Element) =>
  el.getChild("relayed", NS_WARBLE)?.attrs.item as string | undefined;

/** Start a Warble on `server` with extra JSON settings (short retries for tests). */
export function spawnWarble(
  server: TestServer,
  db: string,
  settings: object = {},
): ComponentProcess {
  const dir = tempDir("cfg");
  const file = join(dir, "warble.json");
  writeFileSync(file, JSON.stringify(settings));
  return spawnComponent([...server.componentArgs(db), "--config", file], {
    WARBLE_SECRET: server.secret,
  });
}

/** Settings that make store-and-forward quick enough for a test. */
export const QUICK_RETRIES = {
  limits: { retryFirstSeconds: 1, retryMaxSeconds: 4, deliveryQuietSeconds: 8 },
};
