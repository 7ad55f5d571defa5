/**
 * What XEP-0030 says about the microblogs: the pubsub features of u@C (only what works), the
 * node's identity and §5.4 meta-data, the node in disco#items at u@C, and item ids (§5.5).
 *
 * What each asker sees is the domain policy's decision (PubsubService.discoverNode): a banned JID
 * or domain does not see the node at all, item ids only to who may retrieve the items (read
 * without their payloads), never a subscriber count.
 */
import { buildDataForm, type DataField } from "../../../../schemas/src/data-form.js";
import { NS_ATOM, NS_PUBSUB, NS_PUBSUB_META_DATA, NS_RSM } from "../../../../schemas/src/ns.js";
import { type Element, xml } from "../../../../schemas/src/xml.js";
import type { PubsubService } from "../../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRecord } from "../../domain/types.js";
import type { DiscoContributor } from "../discovery.js";

const FEATURE_NAMES = [
  "access-authorize",
  "access-open",
  "access-whitelist",
  "auto-create",
  "config-node",
  "config-node-max",
  "create-and-configure",
  "create-nodes",
  "delete-items",
  "delete-nodes",
  "get-pending",
  "item-ids",
  "last-published",
  "manage-subscriptions",
  "member-affiliation",
  "meta-data",
  "modify-affiliations",
  "multi-items",
  "outcast-affiliation",
  "persistent-items",
  "publish",
  "publish-only-affiliation",
  "publish-options",
  "publisher-affiliation",
  "purge-nodes",
  "retract-items",
  "retrieve-affiliations",
  "retrieve-default",
  "retrieve-default-sub",
  "retrieve-items",
  "retrieve-subscriptions",
  "rsm",
  "subscribe",
  "subscription-notifications",
  "subscription-options",
];

/**
 * Features of u@C (get-pending: the §8.7 ad-hoc command of im/account-commands.ts). Not advertised:
 * instant-nodes, multi-subscribe, presence-based ones.
 */
export const PUBSUB_USER_FEATURES: readonly string[] = [
  NS_PUBSUB,
  ...FEATURE_NAMES.map((f) => `${NS_PUBSUB}#${f}`),
  MICROBLOG_NODE,
  NS_RSM,
];

/** Items listed in disco#items of a node: the newest, up to this many. */
const MAX_DISCO_ITEMS = 1000;

function metaData(node: NodeRecord): Element {
  const f = (v: string, type: DataField["type"], label: string, value: string): DataField => ({
    var: v,
    type,
    label,
    values: [value],
  });
  const c = node.config;
  return buildDataForm({
    type: "result",
    fields: [
      { var: "FORM_TYPE", type: "hidden", values: [NS_PUBSUB_META_DATA] },
      f("pubsub#type", "text-single", "Payload semantic type information", NS_ATOM),
      f("pubsub#title", "text-single", "A short name for the node", c.title),
      f("pubsub#creator", "jid-single", "Node creator", node.owner),
      f(
        "pubsub#creation_date",
        "text-single",
        "Creation date",
        `${new Date(node.createdAt).toISOString().slice(0, 19)}Z`,
      ),
      f("pubsub#owner", "jid-multi", "Node owners", node.owner),
      f("pubsub#access_model", "list-single", "Access model", c.accessModel),
      f("pubsub#publish_model", "list-single", "Publish model", c.publishModel),
      f("pubsub#max_items", "text-single", "Max # of items to persist", String(c.maxItems)),
    ],
  });
}

export function pubsubDisco(service: PubsubService): DiscoContributor {
  const discover = async (serviceJid: string, node: string, from: string, maxItemIds = 0) =>
    node === MICROBLOG_NODE
      ? (await service.discoverNode(from, { service: serviceJid, node }, maxItemIds)).result
      : undefined;
  return {
    userFeatures: PUBSUB_USER_FEATURES,
    async nodeInfo(serviceJid, node, _owner, from) {
      const seen = await discover(serviceJid, node, from);
      if (!seen) return undefined;
      return [
        xml("identity", { category: "pubsub", type: "leaf", name: seen.node.config.title }),
        xml("feature", { var: NS_PUBSUB }),
        metaData(seen.node),
      ];
    },
    async userItems(serviceJid, _owner, from) {
      const seen = await discover(serviceJid, MICROBLOG_NODE, from);
      if (!seen) return [];
      return [xml("item", { jid: serviceJid, node: MICROBLOG_NODE, name: seen.node.config.title })];
    },
    async nodeItems(serviceJid, node, _owner, from) {
      const seen = await discover(serviceJid, node, from, MAX_DISCO_ITEMS);
      if (!seen) return undefined;
      return seen.itemIds.map((id) => xml("item", { jid: serviceJid, name: id }));
    },
  };
}
