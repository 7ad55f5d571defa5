/** Build XEP-0060 requests (the CLI side of pubsub-request.ts). One builder per request kind. */
import { clone } from "ltx";
import { buildDataForm, type DataForm } from "./data-form.js";
import { NS_PUBSUB, NS_PUBSUB_OWNER } from "./ns.js";
import type { IqRequestType, PubsubRequest, PubsubRequestKind } from "./pubsub-request.js";
import { affiliationElement, subscriptionElement } from "./pubsub-types.js";
import { buildRsmRequest } from "./rsm.js";
import { type Element, xml } from "./xml.js";

type Children = Array<Element | undefined>;
type Of<K extends PubsubRequestKind> = Extract<PubsubRequest, { kind: K }>;

interface KindSpec<K extends PubsubRequestKind> {
  iq: IqRequestType;
  /** Sent in the #owner namespace. */
  owner: boolean;
  build: (r: Of<K>) => Children;
}

function withForm(wrapper: string, form: DataForm | undefined): Element | undefined {
  return form && xml(wrapper, null, buildDataForm(form));
}

const itemIds = (ids: string[]) => ids.map((id) => xml("item", { id }));

/** The IQ type, namespace and children of every request kind; the compiler checks it is complete. */
const KINDS: { [K in PubsubRequestKind]: KindSpec<K> } = {
  publish: {
    iq: "set",
    owner: false,
    build: (r) => [
      xml(
        "publish",
        { node: r.node },
        xml(
          "item",
          { id: r.itemId },
          r.payloads.map((p) => clone(p)),
        ),
      ),
      withForm("publish-options", r.publishOptions),
    ],
  },
  retract: {
    iq: "set",
    owner: false,
    build: (r) => [
      xml("retract", { node: r.node, notify: r.notify ? "true" : undefined }, itemIds(r.itemIds)),
    ],
  },
  items: {
    iq: "get",
    owner: false,
    build: (r) => [
      xml("items", { node: r.node, max_items: r.maxItems, subid: r.subid }, itemIds(r.itemIds)),
      r.rsm && buildRsmRequest(r.rsm),
    ],
  },
  subscribe: {
    iq: "set",
    owner: false,
    build: (r) => [xml("subscribe", { node: r.node, jid: r.jid }), withForm("options", r.options)],
  },
  unsubscribe: {
    iq: "set",
    owner: false,
    build: (r) => [xml("unsubscribe", { node: r.node, jid: r.jid, subid: r.subid })],
  },
  subscriptions: {
    iq: "get",
    owner: false,
    build: (r) => [xml("subscriptions", { node: r.node })],
  },
  affiliations: { iq: "get", owner: false, build: (r) => [xml("affiliations", { node: r.node })] },
  "options-get": {
    iq: "get",
    owner: false,
    build: (r) => [xml("options", { node: r.node, jid: r.jid, subid: r.subid })],
  },
  "options-set": {
    iq: "set",
    owner: false,
    build: (r) => [
      xml("options", { node: r.node, jid: r.jid, subid: r.subid }, buildDataForm(r.form)),
    ],
  },
  create: {
    iq: "set",
    owner: false,
    build: (r) => [xml("create", { node: r.node }), withForm("configure", r.configure)],
  },
  default: { iq: "get", owner: false, build: (r) => [xml("default", { node: r.node })] },
  "configure-get": { iq: "get", owner: true, build: (r) => [xml("configure", { node: r.node })] },
  "configure-set": {
    iq: "set",
    owner: true,
    build: (r) => [xml("configure", { node: r.node }, buildDataForm(r.form))],
  },
  "owner-subscriptions-get": {
    iq: "get",
    owner: true,
    build: (r) => [xml("subscriptions", { node: r.node })],
  },
  "owner-subscriptions-set": {
    iq: "set",
    owner: true,
    build: (r) => [
      xml("subscriptions", { node: r.node }, r.subscriptions.map(subscriptionElement)),
    ],
  },
  "owner-affiliations-get": {
    iq: "get",
    owner: true,
    build: (r) => [xml("affiliations", { node: r.node })],
  },
  "owner-affiliations-set": {
    iq: "set",
    owner: true,
    build: (r) => [xml("affiliations", { node: r.node }, r.affiliations.map(affiliationElement))],
  },
  purge: { iq: "set", owner: true, build: (r) => [xml("purge", { node: r.node })] },
  delete: {
    iq: "set",
    owner: true,
    build: (r) => [
      xml(
        "delete",
        { node: r.node },
        r.redirect !== undefined && xml("redirect", { uri: r.redirect }),
      ),
    ],
  },
};

function specOf<K extends PubsubRequestKind>(request: Of<K>): KindSpec<K> {
  return KINDS[request.kind as K];
}

/** The IQ type a request is sent with. */
export function requestIqType(request: PubsubRequest): IqRequestType {
  return specOf(request).iq;
}

/** Build the `<pubsub/>` element of a request (the IQ around it is the caller's). */
export function buildPubsubRequest(request: PubsubRequest): Element {
  const spec = specOf(request);
  const owner = spec.owner || (request.kind === "default" && request.scope === "node-config");
  return xml("pubsub", { xmlns: owner ? NS_PUBSUB_OWNER : NS_PUBSUB }, ...spec.build(request));
}
