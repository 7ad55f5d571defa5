import { readFileSync } from "node:fs";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import type { Addresses } from "./addresses.js";
import type { IqRequest, IqRouter } from "./router.js";
import { StanzaError } from "./stanza-error.js";

/** What a protocol module adds to discovery: features at C and at u@C, and node answers. */
export interface DiscoContributor {
  serviceFeatures?: readonly string[];
  userFeatures?: readonly string[];
  /**
   * disco#info with a node attribute at u@C (`from`: who asks); undefined when this contributor
   * does not own the node, or does not show it to `from`.
   */
  nodeInfo?(serviceJid: string, node: string, owner: string, from: string): Element[] | undefined;
  /** disco#items at u@C without node (`from`: who asks). */
  userItems?(serviceJid: string, owner: string, from: string): Element[];
  /** disco#items with a node attribute at u@C (`from`: who asks, for per-sender answers). */
  nodeItems?(serviceJid: string, node: string, owner: string, from: string): Element[] | undefined;
  /** disco#info with a node attribute at C. */
  serviceNodeInfo?(node: string): Element[] | undefined;
  /** disco#items with a node attribute at C. */
  serviceNodeItems?(node: string, from: string, to: string): Element[] | undefined;
}

const BASE_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION];

export function packageVersion(): string {
  try {
    const url = new URL("../../../../package.json", import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** XEP-0030 disco#info/#items at C and u@C, XEP-0199 ping, XEP-0092 version. */
export function registerDiscovery(
  router: IqRouter,
  addresses: Addresses,
  contributors: DiscoContributor[],
): void {
  const version = packageVersion();
  const features = (pick: (c: DiscoContributor) => readonly string[] | undefined) =>
    [...new Set([...BASE_FEATURES, ...contributors.flatMap((c) => pick(c) ?? [])])].sort();
  const serviceFeatures = features((c) => c.serviceFeatures);
  const userFeatures = features((c) => c.userFeatures);

  const ownerOrFail = (req: IqRequest): string => {
    const owner = addresses.ownerOf(req.toLocal);
    if (!owner)
      throw new StanzaError(
        "item-not-found",
        `${req.to.split("/")[0]} is not a microblog address here`,
      );
    return owner;
  };
  const query = (ns: string, node: string | undefined, children: Element[]) =>
    xml("query", { xmlns: ns, node }, ...children);
  const featureEls = (list: string[]) => list.map((f) => xml("feature", { var: f }));

  router.on("get", NS_DISCO_INFO, "query", "service", (req) => {
    const node = req.child.attrs.node;
    if (node) {
      for (const c of contributors) {
        const answer = c.serviceNodeInfo?.(node);
        if (answer) return query(NS_DISCO_INFO, node, answer);
      }
      throw new StanzaError("item-not-found");
    }
    return query(NS_DISCO_INFO, undefined, [
      xml("identity", { category: "pubsub", type: "service", name: "Warble microblogs" }),
      xml("identity", { category: "component", type: "generic", name: "Warble" }),
      ...featureEls(serviceFeatures),
    ]);
  });

  router.on("get", NS_DISCO_INFO, "query", "user", (req) => {
    const owner = ownerOrFail(req);
    const serviceJid = req.to.split("/")[0] ?? req.to;
    const node = req.child.attrs.node;
    if (node) {
      for (const c of contributors) {
        const answer = c.nodeInfo?.(serviceJid, node, owner, req.from) ?? c.serviceNodeInfo?.(node);
        if (answer) return query(NS_DISCO_INFO, node, answer);
      }
      throw new StanzaError("item-not-found");
    }
    return query(NS_DISCO_INFO, undefined, [
      xml("identity", { category: "pubsub", type: "service", name: `${owner}'s microblog` }),
      ...featureEls(userFeatures),
    ]);
  });

  router.on("get", NS_DISCO_ITEMS, "query", "service", (req) => {
    const node = req.child.attrs.node;
    if (node) {
      for (const c of contributors) {
        const answer = c.serviceNodeItems?.(node, req.from, req.to);
        if (answer) return query(NS_DISCO_ITEMS, node, answer);
      }
      throw new StanzaError("item-not-found");
    }
    return query(NS_DISCO_ITEMS, undefined, []);
  });

  router.on("get", NS_DISCO_ITEMS, "query", "user", (req) => {
    const owner = ownerOrFail(req);
    const serviceJid = req.to.split("/")[0] ?? req.to;
    const node = req.child.attrs.node;
    if (node) {
      for (const c of contributors) {
        const answer = c.nodeItems?.(serviceJid, node, owner, req.from);
        if (answer) return query(NS_DISCO_ITEMS, node, answer);
      }
      throw new StanzaError("item-not-found");
    }
    return query(
      NS_DISCO_ITEMS,
      undefined,
      contributors.flatMap((c) => c.userItems?.(serviceJid, owner, req.from) ?? []),
    );
  });

  router.on("get", NS_PING, "ping", "both", () => undefined);

  router.on("get", NS_VERSION, "query", "both", () =>
    xml("query", { xmlns: NS_VERSION }, xml("name", {}, "Warble"), xml("version", {}, version)),
  );
}
