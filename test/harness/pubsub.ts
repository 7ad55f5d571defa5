/**
 * Shared helpers of the pubsub integration tests: a server with a component and logged-in users,
 * XEP-0060 stanzas written as in the XEP's examples, and assertions on replies and events.
 */
import { expect } from "vitest";
import {
  type ParsedStanzaError as ParsedError,
  parseStanzaError,
} from "../../schemas/src/errors.js";
import {
  NS_ATOM,
  NS_DATA_FORMS,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_OWNER,
} from "../../schemas/src/ns.js";
import { type Element, parseXml } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import { type ServerKind, startTestServer, type TestServer } from "./servers.js";
import { type StoreKind, startTestStore } from "./stores.js";

export const C = "microblog.localhost";
export const D = "localhost";
export const NODE = "urn:xmpp:microblog:0";
export { NS_ATOM, NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER };

/** The microblog address u@C of a user. */
export const svc = (user: string) => `${user}@${C}`;

/** A server, a component on a fresh database, and one logged-in client per user. */
export interface World {
  kind: ServerKind;
  server: TestServer;
  component: ComponentProcess;
  db: string;
  clients: Record<string, TestClient>;
  /** SIGTERM the component and start a new one on the same database. */
  restartComponent(): Promise<void>;
  dispose(): Promise<void>;
}

async function startComponent(server: TestServer, db: string): Promise<ComponentProcess> {
  const component = spawnComponent(server.componentArgs(db), { WARBLE_SECRET: server.secret });
  await component.waitForLine(/"msg":"ready"/);
  return component;
}

export async function startWorld(
  kind: ServerKind,
  users: readonly string[],
  storeKind: StoreKind = "sqlite",
): Promise<World> {
  const server = await startTestServer(kind);
  const store = await startTestStore(storeKind, "pubsub").catch(async (err) => {
    await server.dispose();
    throw err;
  });
  const db = store.db;
  const world: World = {
    kind,
    server,
    db,
    component: undefined as unknown as ComponentProcess,
    clients: {},
    restartComponent: async () => {
      expect(await world.component.stop()).toBe(0);
      world.component = await startComponent(server, db);
    },
    dispose: async () => {
      await Promise.all(Object.values(world.clients).map((c) => c.stop()));
      await world.component?.stop();
      await server.dispose();
      await store.dispose();
    },
  };
  try {
    for (const user of users) await server.register(user, `${user}-pw`);
    world.component = await startComponent(server, db);
    for (const user of users) {
      world.clients[user] = await connectClient(server.ports.c2s, D, user, `${user}-pw`);
    }
  } catch (err) {
    await world.dispose().catch(() => {});
    throw err;
  }
  return world;
}

/** An element from XML text (as the XEP examples are written). */
export function stanza(text: string): Element {
  return parseXml(text.trim());
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A minimal XEP-0277 post: an Atom entry with a text title, plus any extra children. */
export function entryXml(text: string, extra = ""): string {
  return `<entry xmlns='${NS_ATOM}'><title type='text'>${escapeXml(text)}</title>${extra}</entry>`;
}

/** `<iq type to><pubsub xmlns=…>inner</pubsub></iq>` */
export function pubsubIq(type: "get" | "set", to: string, inner: string, ns = NS_PUBSUB): Element {
  return stanza(`<iq type='${type}' to='${to}'><pubsub xmlns='${ns}'>${inner}</pubsub></iq>`);
}

export function ownerIq(type: "get" | "set", to: string, inner: string): Element {
  return pubsubIq(type, to, inner, NS_PUBSUB_OWNER);
}

/** §7.1 publish of one item (with an id when given). */
export function publishIq(to: string, payload: string, id?: string, after = ""): Element {
  const item = id === undefined ? "<item>" : `<item id='${id}'>`;
  return pubsubIq("set", to, `<publish node='${NODE}'>${item}${payload}</item></publish>${after}`);
}

/** A data form of type submit with a FORM_TYPE. */
export function submitForm(formType: string, fields: Record<string, string>): string {
  const rest = Object.entries(fields)
    .map(([v, value]) => `<field var='${v}'><value>${escapeXml(value)}</value></field>`)
    .join("");
  return (
    `<x xmlns='${NS_DATA_FORMS}' type='submit'>` +
    `<field var='FORM_TYPE' type='hidden'><value>${formType}</value></field>${rest}</x>`
  );
}

/** Publish a post as `client` to its own microblog; returns the item id. */
export async function publishPost(
  client: TestClient,
  text: string,
  id?: string,
  extra = "",
): Promise<string> {
  const user = client.jid.split("@")[0] ?? "";
  const reply = await client.iq(publishIq(svc(user), entryXml(text, extra), id));
  expectResult(reply);
  const itemId = reply.getChild("pubsub", NS_PUBSUB)?.getChild("publish")?.getChild("item")?.attrs
    .id as string | undefined;
  expect(itemId).toBeTruthy();
  return itemId as string;
}

/** Submit the owner's configuration form (§8.2.4). */
export async function configure(
  client: TestClient,
  user: string,
  fields: Record<string, string>,
): Promise<void> {
  const form = submitForm("http://jabber.org/protocol/pubsub#node_config", fields);
  expectResult(
    await client.iq(ownerIq("set", svc(user), `<configure node='${NODE}'>${form}</configure>`)),
  );
}

export async function subscribe(client: TestClient, owner: string): Promise<Element> {
  const bare = client.jid;
  const reply = await client.iq(
    pubsubIq("set", svc(owner), `<subscribe node='${NODE}' jid='${bare}'/>`),
  );
  expectResult(reply);
  return reply.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!;
}

export function expectResult(reply: Element): void {
  if (reply.attrs.type !== "result") {
    throw new Error(`expected a result, got ${reply.toString().slice(0, 600)}`);
  }
}

/** Assert an error reply: its type, condition and pubsub#errors condition (+feature). */
export function expectError(
  reply: Element,
  expected: { type: string; condition: string; pubsub?: string; feature?: string },
): ParsedError {
  expect(reply.attrs.type, reply.toString().slice(0, 600)).toBe("error");
  const err = parseStanzaError(reply);
  expect({ type: err.type, condition: err.condition }).toEqual({
    type: expected.type,
    condition: expected.condition,
  });
  expect(err.pubsubCondition).toBe(expected.pubsub);
  if (expected.feature !== undefined) expect(err.feature).toBe(expected.feature);
  return err;
}

/** The `<item/>` elements of an items result. */
export function itemsOf(reply: Element): Element[] {
  expectResult(reply);
  return reply.getChild("pubsub", NS_PUBSUB)!.getChild("items")!.getChildren("item");
}

export const idsOf = (items: Element[]) => items.map((i) => i.attrs.id as string);

/** The entry text (title) of an item. */
export const titleOf = (item: Element) =>
  item.getChild("entry", NS_ATOM)?.getChildText("title", NS_ATOM) ?? undefined;

/** `<items node><item id/>…</items>` request with optional extra inner XML and RSM set. */
export async function getItems(
  client: TestClient,
  owner: string,
  inner = "",
  attrs = "",
  after = "",
): Promise<Element> {
  return client.iq(
    pubsubIq("get", svc(owner), `<items node='${NODE}'${attrs}>${inner}</items>${after}`),
  );
}

/** A matcher for waitFor: a pubsub event message from u@C whose event passes `pred`. */
export function eventFrom(owner: string, pred: (event: Element) => boolean = () => true) {
  return (el: Element) => {
    if (el.name !== "message" || el.attrs.from !== svc(owner)) return false;
    const event = el.getChild("event", NS_PUBSUB_EVENT);
    return event !== undefined && pred(event);
  };
}

/**
 * A post of `owner` as its follower gets it: an items event (a pubsub subscriber), or a chat
 * message naming the item in <relayed/> (an IM follower, who added u@C to the roster). Any post
 * when `id` is not given.
 */
export function postFrom(owner: string, id?: string) {
  const event = eventFrom(owner, (e) =>
    id === undefined ? e.getChild("items") !== undefined : hasItem(id)(e),
  );
  return (el: Element) => {
    if (event(el)) return true;
    if (el.name !== "message" || el.attrs.type !== "chat" || el.attrs.from !== svc(owner))
      return false;
    const relayed = el.getChild("relayed", "urn:xmpp:warble:0");
    return relayed !== undefined && (id === undefined || relayed.attrs.item === id);
  };
}

/** An items event carrying the item with this id. */
export const hasItem = (id: string) => (event: Element) =>
  event
    .getChild("items")
    ?.getChildren("item")
    .some((i) => i.attrs.id === id) === true;

/** An items event retracting this id. */
export const hasRetract = (id: string) => (event: Element) =>
  event
    .getChild("items")
    ?.getChildren("retract")
    .some((i) => i.attrs.id === id) === true;

/** Forget the stanzas a client received so far (so later waits see only new ones). */
export function forget(...clients: TestClient[]): void {
  for (const c of clients) c.received.length = 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
