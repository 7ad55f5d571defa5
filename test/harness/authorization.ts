/**
 * Helpers of the authorization integration tests (issue 4, local cases): a world whose component
 * reads a config file (admins, limits, domain lists), XEP-0050 commands run in two stages, the
 * XEP-0060 §8.6 approval form and its answer, subscription state events, and the `stats` counters.
 */
import { writeFileSync } from "node:fs";
import { expect } from "vitest";
import {
  NS_COMMANDS,
  NS_DATA_FORMS,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
} from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import { connectClient, type TestClient } from "./client.js";
import { type ComponentProcess, spawnComponent } from "./component.js";
import {
  C,
  configure,
  D,
  expectResult,
  NODE,
  NS_PUBSUB,
  NS_PUBSUB_EVENT,
  pubsubIq,
  stanza,
  submitForm,
  svc,
  type World,
} from "./pubsub.js";
import { type ServerKind, startTestServer, tempDir } from "./servers.js";
import { type StoreKind, startTestStore } from "./stores.js";

export { NS_PUBSUB_SUBSCRIBE_AUTHORIZATION };

/** The service admin of every authorization world (runs `stats`). */
export const ADMIN = "admin";

/** What the component's --config file holds (besides the connection flags). */
export interface ComponentSettings {
  denyDomains?: string[];
  allowDomains?: string[];
  limits?: {
    maxPendingPerDomainPerNode?: number;
    maxRequestsPerDomainPerMinute?: number;
    maxRequestsPerRequesterPerMinute?: number;
    maxPendingPerNode?: number;
    pendingExpirySeconds?: number;
  };
}

export interface AuthWorld extends World {
  configFile: string;
  /** Stop the component, rewrite its config file, start it again on the same database. */
  reconfigure(settings: ComponentSettings): Promise<void>;
}

function writeSettings(file: string, settings: ComponentSettings): void {
  writeFileSync(file, JSON.stringify({ admins: [`${ADMIN}@${D}`], ...settings }));
}

/**
 * A server, a component started with `--config FILE` (ADMIN is its admin), and one logged-in
 * client per user plus ADMIN.
 */
export async function startAuthWorld(
  kind: ServerKind,
  users: readonly string[],
  settings: ComponentSettings = {},
  storeKind: StoreKind = "sqlite",
): Promise<AuthWorld> {
  const server = await startTestServer(kind);
  const dir = tempDir("authz");
  const store = await startTestStore(storeKind, "authz").catch(async (err) => {
    await server.dispose();
    throw err;
  });
  const db = store.db;
  const configFile = `${dir}/config.json`;
  const start = async (): Promise<ComponentProcess> => {
    const proc = spawnComponent([...server.componentArgs(db), "--config", configFile], {
      WARBLE_SECRET: server.secret,
    });
    await proc.waitForLine(/"msg":"ready"/);
    return proc;
  };
  writeSettings(configFile, settings);
  const world: AuthWorld = {
    kind,
    server,
    db,
    configFile,
    component: undefined as unknown as ComponentProcess,
    clients: {},
    restartComponent: async () => {
      expect(await world.component.stop()).toBe(0);
      world.component = await start();
    },
    reconfigure: async (next) => {
      writeSettings(configFile, next);
      await world.restartComponent();
    },
    dispose: async () => {
      await Promise.all(Object.values(world.clients).map((c) => c.stop()));
      await world.component?.stop();
      await server.dispose();
      await store.dispose();
    },
  };
  try {
    const everyone = [...users, ADMIN];
    for (const user of everyone) await server.register(user, `${user}-pw`);
    world.component = await start();
    const clients = await Promise.all(
      everyone.map((u) => connectClient(server.ports.c2s, D, u, `${u}-pw`)),
    );
    everyone.forEach((u, i) => {
      world.clients[u] = clients[i] as TestClient;
    });
  } catch (err) {
    await world.dispose().catch(() => {});
    throw err;
  }
  return world;
}

/** `bob` → `bob@localhost` */
export const bare = (user: string) => `${user}@${D}`;

/** var → values of a data form. */
export function formFields(x: Element): Record<string, string[]> {
  return Object.fromEntries(
    x
      .getChildren("field")
      .map((f) => [f.attrs.var as string, f.getChildren("value").map((v) => v.getText())]),
  );
}

/** var → first value of a data form. */
export function formValues(x: Element): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(formFields(x)).map(([k, v]) => [k, v[0]]));
}

// ───────────────────────────── subscribe ─────────────────────────────

/** §6.1.1 subscribe as written in the XEP; the whole reply (result or error). */
export function subscribeIq(client: TestClient, owner: string, jid = client.jid): Promise<Element> {
  return client.iq(pubsubIq("set", svc(owner), `<subscribe node='${NODE}' jid='${jid}'/>`));
}

/** The <subscription/> of a subscribe result. */
export function subscriptionOf(reply: Element): Record<string, string> {
  expectResult(reply);
  return reply.getChild("pubsub", NS_PUBSUB)!.getChild("subscription")!.attrs;
}

/** `subscriber`'s own subscriptions at u@C (§5.6), as [jid, state] pairs. */
export async function ownSubscriptions(subscriber: TestClient, owner: string) {
  const reply = await subscriber.iq(pubsubIq("get", svc(owner), `<subscriptions node='${NODE}'/>`));
  expectResult(reply);
  return reply
    .getChild("pubsub", NS_PUBSUB)!
    .getChild("subscriptions")!
    .getChildren("subscription")
    .map((s) => [s.attrs.jid, s.attrs.subscription]);
}

/** Lock an account: pubsub#access_model = authorize (§8.2.4). */
export function lock(owner: TestClient, user: string, extra: Record<string, string> = {}) {
  return configure(owner, user, { "pubsub#access_model": "authorize", ...extra });
}

// ───────────────────────────── §8.6 ─────────────────────────────

/** A matcher: the §8.6 approval form message from u@C about `subscriber`. */
export const approvalFormFor = (owner: string, subscriber: string) => (el: Element) =>
  el.name === "message" &&
  el.attrs.from === svc(owner) &&
  el.attrs.type !== "error" &&
  authorizationForm(el) !== undefined &&
  formValues(authorizationForm(el)!)["pubsub#subscriber_jid"] === subscriber;

export function authorizationForm(msg: Element): Element | undefined {
  return msg
    .getChildren("x", NS_DATA_FORMS)
    .find((x) => formValues(x).FORM_TYPE === NS_PUBSUB_SUBSCRIBE_AUTHORIZATION);
}

/** §8.6 "Owner approves/denies subscription request": the submitted form as a message to u@C. */
export function answerMessage(
  owner: string,
  subscriber: string,
  allow: boolean,
  id = `approve-${Math.random().toString(36).slice(2)}`,
  subid?: string,
): Element {
  const fields = [
    ["FORM_TYPE", NS_PUBSUB_SUBSCRIBE_AUTHORIZATION],
    ...(subid ? [["pubsub#subid", subid]] : []),
    ["pubsub#node", NODE],
    ["pubsub#subscriber_jid", subscriber],
    ["pubsub#allow", allow ? "true" : "false"],
  ]
    .map(([v, value]) => `<field var='${v}'><value>${value}</value></field>`)
    .join("");
  return stanza(
    `<message to='${svc(owner)}' id='${id}'><x xmlns='${NS_DATA_FORMS}' type='submit'>${fields}</x></message>`,
  );
}

/** A matcher: a subscription state notification (§12.7) from u@C for `jid` in `state`. */
export const subscriptionEvent = (owner: string, jid: string, state: string) => (el: Element) => {
  if (el.name !== "message" || el.attrs.from !== svc(owner) || el.attrs.type === "error")
    return false;
  const sub = el.getChild("event", NS_PUBSUB_EVENT)?.getChild("subscription");
  return sub?.attrs.jid === jid && sub.attrs.subscription === state;
};

/** A matcher: an error message from u@C answering the message with this id. */
export const errorMessage = (owner: string, id: string) => (el: Element) =>
  el.name === "message" &&
  el.attrs.type === "error" &&
  el.attrs.from === svc(owner) &&
  el.attrs.id === id;

// ───────────────────────────── XEP-0050 ─────────────────────────────

export interface CommandOutcome {
  reply: Element;
  status?: string;
  note?: string;
  /** The result form's fields (var → values). */
  fields: Record<string, string[]>;
}

function outcomeOf(reply: Element): CommandOutcome {
  const cmd = reply.getChild("command", NS_COMMANDS);
  const x = cmd?.getChild("x", NS_DATA_FORMS);
  return {
    reply,
    ...(cmd?.attrs.status ? { status: cmd.attrs.status as string } : {}),
    ...(cmd?.getChildText("note") ? { note: cmd.getChildText("note") as string } : {}),
    fields: x ? formFields(x) : {},
  };
}

/** `<iq type='set' to><command node action/></iq>` with optional inner XML. */
export function commandIq(to: string, node: string, attrs = "action='execute'", inner = "") {
  return stanza(
    `<iq type='set' to='${to}'><command xmlns='${NS_COMMANDS}' node='${node}' ${attrs}>${inner}</command></iq>`,
  );
}

/**
 * Run an ad-hoc command: execute; when the service answers with a form (status executing),
 * submit `fields` in the same session. Returns the last reply (an error reply is returned as is).
 */
export async function runCommand(
  client: TestClient,
  node: string,
  fields: Record<string, string> = {},
  to = C,
  formType?: string,
): Promise<CommandOutcome> {
  const first = await client.iq(commandIq(to, node));
  if (first.attrs.type !== "result") return outcomeOf(first);
  const cmd = first.getChild("command", NS_COMMANDS)!;
  if (cmd.attrs.status !== "executing") return outcomeOf(first);
  const x = formType
    ? submitForm(formType, fields)
    : `<x xmlns='${NS_DATA_FORMS}' type='submit'>${Object.entries(fields)
        .map(([v, value]) => `<field var='${v}'><value>${value}</value></field>`)
        .join("")}</x>`;
  const second = await client.iq(
    commandIq(to, node, `sessionid='${cmd.attrs.sessionid}' action='complete'`, x),
  );
  return outcomeOf(second);
}

/** `followers` or `pending` at C: count and JIDs (asserting they agree). */
export async function listed(
  client: TestClient,
  command: "followers" | "pending",
): Promise<string[]> {
  const out = await runCommand(client, command);
  expectResult(out.reply);
  expect(out.status).toBe("completed");
  const jids = out.fields.jids ?? [];
  expect(out.fields.count).toEqual([String(jids.length)]);
  expect(out.note).toContain(`: ${jids.length}`);
  return jids;
}

/** The service counters, read with the admins' `stats` command. */
export async function stats(admin: TestClient): Promise<Record<string, number>> {
  const out = await runCommand(admin, "stats");
  expectResult(out.reply);
  return Object.fromEntries(Object.entries(out.fields).map(([k, v]) => [k, Number(v[0] ?? "0")]));
}

/** Counter increases between two `stats` readings (only the counters that changed). */
export function counterDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
