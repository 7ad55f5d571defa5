import { readFileSync } from "node:fs";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import type { Addresses } from "./addresses.js";
import type { IqRequest, StanzaRouter } from "./router.js";
import { StanzaError } from "./stanza-error.js";

/** What a protocol module adds to discovery: features at C and at u@C, and node answers. */
export interface DiscoContributor {
  serviceFeatures?: readonly string[];
  /** XEP-0128 extension forms of C's disco#info. */
  serviceExtensions?: readonly Element[];
  userFeatures?: readonly string[];
  /**
   * disco#info with a node attribute at u@C (`from`: who asks); undefined when this contributor
   * does not own the node, or does not show it to `from`.
   */
  nodeInfo?(serviceJid: string, node: string, owner: string, from: string): Answer;
  /** disco#items at u@C without node (`from`: who asks). */
  userItems?(serviceJid: string, owner: string, from: string): Promise<Element[]> | Element[];
  /** disco#items with a node attribute at u@C (`from`: who asks, for per-sender answers). */
  nodeItems?(serviceJid: string, node: string, owner: string, from: string): Answer;
  /** disco#info with a node attribute at C. */
  serviceNodeInfo?(node: string): Element[] | undefined;
  /** disco#items with a node attribute at C. */
  serviceNodeItems?(node: string, from: string, to: string): Answer;
}

type Answer = Promise<Element[] | undefined> | Element[] | undefined;

const BASE_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION];

export function packageVersion(): string {
  try {
    const url = new URL("../../../../package.json", import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const query = (ns: string, node: string | undefined, children: Element[]) =>
  xml("query", { xmlns: ns, node }, ...children);
const featureEls = (list: readonly string[]) => list.map((f) => xml("feature", { var: f }));

/** The first contributor's answer for a node, or item-not-found. */
async function firstAnswer(
  contributors: readonly DiscoContributor[],
  ask: (c: DiscoContributor) => Answer,
): Promise<Element[]> {
  for (const c of contributors) {
    const answer = await ask(c);
    if (answer) return answer;
  }
  throw new StanzaError("item-not-found");
}

/** The features of C or of u@C: the base ones and every contributor's. */
function featuresOf(
  contributors: readonly DiscoContributor[],
  pick: (c: DiscoContributor) => readonly string[] | undefined,
): string[] {
  return [...new Set([...BASE_FEATURES, ...contributors.flatMap((c) => pick(c) ?? [])])].sort();
}

/** The addressed microblog: u@C and its owner, or item-not-found. */
function userOf(req: IqRequest, addresses: Addresses): { serviceJid: string; owner: string } {
  const owner = addresses.ownerOf(req.toLocal);
  const serviceJid = req.to.split("/")[0] ?? req.to;
  if (!owner)
    throw new StanzaError("item-not-found", `${serviceJid} is not a microblog address here`);
  return { serviceJid, owner };
}

/** XEP-0030 at C: the service's identities and features, and the contributors' nodes. */
function registerServiceDisco(
  router: StanzaRouter,
  contributors: readonly DiscoContributor[],
): void {
  const features = featureEls(featuresOf(contributors, (c) => c.serviceFeatures));
  const extensions = contributors.flatMap((c) => c.serviceExtensions ?? []);
  router.on("get", NS_DISCO_INFO, "query", "service", async (req) => {
    const node = req.child.attrs.node;
    if (node)
      return query(
        NS_DISCO_INFO,
        node,
        await firstAnswer(contributors, (c) => c.serviceNodeInfo?.(node)),
      );
    return query(NS_DISCO_INFO, undefined, [
      xml("identity", { category: "pubsub", type: "service", name: "Warble microblogs" }),
      xml("identity", { category: "component", type: "generic", name: "Warble" }),
      ...features,
      ...extensions,
    ]);
  });
  router.on("get", NS_DISCO_ITEMS, "query", "service", async (req) => {
    const node = req.child.attrs.node;
    if (!node) return query(NS_DISCO_ITEMS, undefined, []);
    const answer = await firstAnswer(contributors, (c) =>
      c.serviceNodeItems?.(node, req.from, req.to),
    );
    return query(NS_DISCO_ITEMS, node, answer);
  });
}

/** XEP-0030 at u@C: the microblog service of u, its node, and the contributors' nodes. */
function registerUserDisco(
  router: StanzaRouter,
  addresses: Addresses,
  contributors: readonly DiscoContributor[],
): void {
  const features = featureEls(featuresOf(contributors, (c) => c.userFeatures));
  router.on("get", NS_DISCO_INFO, "query", "user", async (req) => {
    const { serviceJid, owner } = userOf(req, addresses);
    const node = req.child.attrs.node;
    if (node) {
      const answer = await firstAnswer(
        contributors,
        async (c) =>
          (await c.nodeInfo?.(serviceJid, node, owner, req.from)) ?? c.serviceNodeInfo?.(node),
      );
      return query(NS_DISCO_INFO, node, answer);
    }
    return query(NS_DISCO_INFO, undefined, [
      xml("identity", { category: "pubsub", type: "service", name: `${owner}'s microblog` }),
      ...features,
    ]);
  });
  router.on("get", NS_DISCO_ITEMS, "query", "user", async (req) => {
    const { serviceJid, owner } = userOf(req, addresses);
    const node = req.child.attrs.node;
    if (node) {
      const answer = await firstAnswer(contributors, (c) =>
        c.nodeItems?.(serviceJid, node, owner, req.from),
      );
      return query(NS_DISCO_ITEMS, node, answer);
    }
    const items: Element[] = [];
    for (const c of contributors)
      items.push(...((await c.userItems?.(serviceJid, owner, req.from)) ?? []));
    return query(NS_DISCO_ITEMS, undefined, items);
  });
}

/** XEP-0030 disco#info/#items at C and u@C, XEP-0199 ping, XEP-0092 version. */
export function registerDiscovery(
  router: StanzaRouter,
  addresses: Addresses,
  contributors: DiscoContributor[],
): void {
  const version = packageVersion();
  registerServiceDisco(router, contributors);
  registerUserDisco(router, addresses, contributors);
  router.on("get", NS_PING, "ping", "both", () => undefined);
  router.on("get", NS_VERSION, "query", "both", () =>
    xml("query", { xmlns: NS_VERSION }, xml("name", {}, "Warble"), xml("version", {}, version)),
  );
}
