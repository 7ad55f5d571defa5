/**
 * XEP-0060 requests: the child of an IQ `<pubsub xmlns='…pubsub'>` or `<pubsub xmlns='…#owner'>`,
 * parsed into one discriminated union. The component parses them; the CLI builds them with
 * buildPubsubRequest (pubsub-request-build.ts).
 */
import { type DataForm, parseDataForm } from "./data-form.js";
import { type PubsubErrorCondition, WireError } from "./errors.js";
import { NS_DATA_FORMS, NS_PUBSUB, NS_PUBSUB_OWNER } from "./ns.js";
import {
  type AffiliationInfo,
  readAffiliationElement,
  readSubscription,
  type SubscriptionInfo,
} from "./pubsub-types.js";
import { findRsmSet, parseRsmRequest, type RsmRequest } from "./rsm.js";
import type { Element } from "./xml.js";

export type IqRequestType = "get" | "set";

export type PubsubRequest =
  | {
      kind: "publish";
      node: string;
      itemId?: string;
      payloads: Element[];
      publishOptions?: DataForm;
    }
  | { kind: "retract"; node: string; itemIds: string[]; notify: boolean }
  | {
      kind: "items";
      node: string;
      maxItems?: number;
      itemIds: string[];
      subid?: string;
      rsm?: RsmRequest;
    }
  | { kind: "subscribe"; node: string; jid: string; options?: DataForm }
  | { kind: "unsubscribe"; node: string; jid: string; subid?: string }
  | { kind: "subscriptions"; node?: string }
  | { kind: "affiliations"; node?: string }
  | { kind: "options-get"; node: string; jid: string; subid?: string }
  | { kind: "options-set"; node: string; jid: string; subid?: string; form: DataForm }
  | { kind: "create"; node?: string; configure?: DataForm }
  /** `<default/>`: node configuration defaults (#owner) or subscription option defaults (#pubsub). */
  | { kind: "default"; scope: "node-config" | "subscribe-options"; node?: string }
  | { kind: "configure-get"; node: string }
  | { kind: "configure-set"; node: string; form: DataForm }
  | { kind: "owner-subscriptions-get"; node: string }
  | { kind: "owner-subscriptions-set"; node: string; subscriptions: SubscriptionInfo[] }
  | { kind: "owner-affiliations-get"; node: string }
  | { kind: "owner-affiliations-set"; node: string; affiliations: AffiliationInfo[] }
  | { kind: "purge"; node: string }
  | { kind: "delete"; node: string; redirect?: string };

export type PubsubRequestKind = PubsubRequest["kind"];

/** A request that cannot be served as sent; carries the XEP-0060 condition to answer with. */
export class PubsubRequestError extends WireError {
  constructor(
    message: string,
    condition: "bad-request" | "feature-not-implemented",
    pubsubCondition?: PubsubErrorCondition,
    feature?: string,
  ) {
    super(message, condition, pubsubCondition, feature);
    this.name = "PubsubRequestError";
  }
}

type Parser = (action: Element, pubsub: Element, iqType: IqRequestType) => PubsubRequest;

interface ActionSpec {
  /** The XEP-0060 §10 feature, named in feature-not-implemented errors. */
  feature: string;
  get?: Parser;
  set?: Parser;
}

const USER_ACTIONS: Record<string, ActionSpec> = {
  publish: { feature: "publish", set: parsePublish },
  retract: { feature: "retract-items", set: parseRetract },
  items: { feature: "retrieve-items", get: parseItems },
  subscribe: { feature: "subscribe", set: parseSubscribe },
  unsubscribe: { feature: "subscribe", set: parseUnsubscribe },
  subscriptions: {
    feature: "retrieve-subscriptions",
    get: (a) => optionalNode({ kind: "subscriptions" }, a),
  },
  affiliations: {
    feature: "retrieve-affiliations",
    get: (a) => optionalNode({ kind: "affiliations" }, a),
  },
  options: { feature: "subscription-options", get: parseOptions, set: parseOptions },
  create: { feature: "create-nodes", set: parseCreate },
  default: {
    feature: "retrieve-default-sub",
    get: (a) => optionalNode({ kind: "default", scope: "subscribe-options" }, a),
  },
};

const OWNER_ACTIONS: Record<string, ActionSpec> = {
  configure: { feature: "config-node", get: parseConfigure, set: parseConfigure },
  default: { feature: "retrieve-default", get: () => ({ kind: "default", scope: "node-config" }) },
  subscriptions: {
    feature: "manage-subscriptions",
    get: parseOwnerSubscriptions,
    set: parseOwnerSubscriptions,
  },
  affiliations: {
    feature: "modify-affiliations",
    get: parseOwnerAffiliations,
    set: parseOwnerAffiliations,
  },
  purge: { feature: "purge-nodes", set: (a) => ({ kind: "purge", node: requireNode(a) }) },
  delete: { feature: "delete-nodes", set: parseDelete },
};

/** Elements that only qualify another action (publish-options, create's configure, subscribe's options). */
const SECONDARY = new Set(["publish-options", "configure", "options"]);

/** Parse the `<pubsub/>` child of an IQ of the given type. Throws PubsubRequestError / WireError. */
export function parsePubsubRequest(pubsub: Element, iqType: IqRequestType): PubsubRequest {
  const ns = pubsub.getNS();
  const table =
    ns === NS_PUBSUB ? USER_ACTIONS : ns === NS_PUBSUB_OWNER ? OWNER_ACTIONS : undefined;
  if (!pubsub.is("pubsub") || !table) {
    throw new PubsubRequestError(`Expected <pubsub xmlns='${NS_PUBSUB}'/>.`, "bad-request");
  }
  const children = pubsub.getChildElements();
  const action = children.find((c) => !SECONDARY.has(c.getName())) ?? children[0];
  if (!action) throw new PubsubRequestError("The <pubsub/> element is empty.", "bad-request");
  const spec = Object.hasOwn(table, action.getName()) ? table[action.getName()] : undefined;
  if (!spec) {
    const feature = action.getName();
    throw new PubsubRequestError(
      `<${feature}/> is not supported.`,
      "feature-not-implemented",
      "unsupported",
      feature,
    );
  }
  const parse = spec[iqType];
  if (!parse) {
    throw new PubsubRequestError(
      `<${action.getName()}/> cannot be sent in an IQ of type '${iqType}'.`,
      "bad-request",
    );
  }
  return parse(action, pubsub, iqType);
}

function requireNode(action: Element): string {
  const node = action.attrs.node as string | undefined;
  if (node) return node;
  throw new PubsubRequestError(
    `<${action.getName()}/> needs a 'node' attribute.`,
    "bad-request",
    "nodeid-required",
  );
}

function requireJid(action: Element): string {
  const jid = action.attrs.jid as string | undefined;
  if (jid) return jid;
  throw new PubsubRequestError(
    `<${action.getName()}/> needs a 'jid' attribute.`,
    "bad-request",
    "jid-required",
  );
}

function optionalNode<T extends PubsubRequest & { node?: string }>(base: T, action: Element): T {
  const node = action.attrs.node as string | undefined;
  return node ? { ...base, node } : base;
}

function optionalAttr<T extends object, K extends string>(
  base: T,
  key: K,
  value: string | undefined,
): T & { [P in K]?: string } {
  return value === undefined ? base : { ...base, [key]: value };
}

/** The data form inside a wrapper child (`<publish-options>`, `<configure>`, `<options>`). */
function formIn(parent: Element | undefined): DataForm | undefined {
  const x = parent?.getChild("x", NS_DATA_FORMS);
  return x ? parseDataForm(x) : undefined;
}

function parsePublish(action: Element, pubsub: Element): PubsubRequest {
  const node = requireNode(action);
  const items = action.getChildren("item");
  const item = items[0];
  if (!item) {
    throw new PubsubRequestError("A publish needs an <item/>.", "bad-request", "item-required");
  }
  if (items.length > 1) {
    throw new PubsubRequestError(
      "Publish one <item/> at a time.",
      "bad-request",
      "invalid-payload",
    );
  }
  const publishOptions = formIn(pubsub.getChild("publish-options"));
  const request = optionalAttr(
    { kind: "publish" as const, node, payloads: item.getChildElements() },
    "itemId",
    item.attrs.id,
  );
  return publishOptions ? { ...request, publishOptions } : request;
}

function parseRetract(action: Element): PubsubRequest {
  const node = requireNode(action);
  const itemIds = action.getChildren("item").map((i) => (i.attrs.id as string | undefined) ?? "");
  if (itemIds.length === 0 || itemIds.some((id) => id === "")) {
    throw new PubsubRequestError("A retract needs an <item id/>.", "bad-request", "item-required");
  }
  const notify = action.attrs.notify === "1" || action.attrs.notify === "true";
  return { kind: "retract", node, itemIds, notify };
}

function parseItems(action: Element, pubsub: Element): PubsubRequest {
  const node = requireNode(action);
  const itemIds = action
    .getChildren("item")
    .map((i) => i.attrs.id as string | undefined)
    .filter((id): id is string => id !== undefined);
  let request: PubsubRequest & { kind: "items" } = { kind: "items", node, itemIds };
  const max = action.attrs.max_items as string | undefined;
  if (max !== undefined) {
    if (!/^\d+$/.test(max)) {
      throw new PubsubRequestError(
        `max_items must be a non-negative integer, not '${max}'.`,
        "bad-request",
      );
    }
    request.maxItems = Number(max);
  }
  request = optionalAttr(request, "subid", action.attrs.subid);
  const set = findRsmSet(pubsub);
  return set ? { ...request, rsm: parseRsmRequest(set) } : request;
}

/**
 * §6.1.1 subscribe, optionally followed by `<options><x type='submit'/></options>` (§6.3.7). That
 * `<options/>` MUST follow `<subscribe/>` and MUST NOT have a node or jid (those are the
 * subscribe's): bad-request otherwise. An `<options/>` without a form sets nothing.
 */
function parseSubscribe(action: Element, pubsub: Element): PubsubRequest {
  const request = {
    kind: "subscribe" as const,
    node: requireNode(action),
    jid: requireJid(action),
  };
  const holder = pubsub.getChild("options");
  if (!holder) return request;
  const children = pubsub.getChildElements();
  if (children.indexOf(holder) < children.indexOf(action)) {
    throw new PubsubRequestError("<options/> must follow <subscribe/>.", "bad-request");
  }
  if (holder.attrs.node !== undefined || holder.attrs.jid !== undefined) {
    throw new PubsubRequestError(
      "The <options/> of a subscribe takes no 'node' or 'jid': the <subscribe/> names them.",
      "bad-request",
    );
  }
  const options = formIn(holder);
  return options ? { ...request, options } : request;
}

function parseUnsubscribe(action: Element): PubsubRequest {
  const base = { kind: "unsubscribe" as const, node: requireNode(action), jid: requireJid(action) };
  return optionalAttr(base, "subid", action.attrs.subid);
}

function parseOptions(action: Element, _pubsub: Element, iqType: IqRequestType): PubsubRequest {
  const base = optionalAttr(
    { node: requireNode(action), jid: requireJid(action) },
    "subid",
    action.attrs.subid,
  );
  if (iqType === "get") return { kind: "options-get", ...base };
  const form = formIn(action);
  if (!form)
    throw new PubsubRequestError(
      "Setting options needs a data form.",
      "bad-request",
      "invalid-options",
    );
  return { kind: "options-set", ...base, form };
}

function parseCreate(action: Element, pubsub: Element): PubsubRequest {
  const request = optionalNode<PubsubRequest & { kind: "create" }>({ kind: "create" }, action);
  const configure = formIn(pubsub.getChild("configure"));
  return configure ? { ...request, configure } : request;
}

function parseConfigure(action: Element, _pubsub: Element, iqType: IqRequestType): PubsubRequest {
  const node = requireNode(action);
  if (iqType === "get") return { kind: "configure-get", node };
  const form = formIn(action);
  if (!form) throw new PubsubRequestError("A configure set needs a data form.", "bad-request");
  return { kind: "configure-set", node, form };
}

function parseOwnerSubscriptions(
  action: Element,
  _p: Element,
  iqType: IqRequestType,
): PubsubRequest {
  const node = requireNode(action);
  if (iqType === "get") return { kind: "owner-subscriptions-get", node };
  const subscriptions = action.getChildren("subscription").map(readSubscription);
  return { kind: "owner-subscriptions-set", node, subscriptions };
}

function parseOwnerAffiliations(
  action: Element,
  _p: Element,
  iqType: IqRequestType,
): PubsubRequest {
  const node = requireNode(action);
  if (iqType === "get") return { kind: "owner-affiliations-get", node };
  const affiliations = action.getChildren("affiliation").map((el) => {
    const info = readAffiliationElement(el);
    if (!info.jid)
      throw new PubsubRequestError("An <affiliation/> needs a jid.", "bad-request", "jid-required");
    return info;
  });
  return { kind: "owner-affiliations-set", node, affiliations };
}

function parseDelete(action: Element): PubsubRequest {
  const request = { kind: "delete" as const, node: requireNode(action) };
  const uri = action.getChild("redirect")?.attrs.uri as string | undefined;
  return uri ? { ...request, redirect: uri } : request;
}
