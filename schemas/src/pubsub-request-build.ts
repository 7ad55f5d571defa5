/** Build XEP-0060 requests (the CLI side of pubsub-request.ts). */
import { clone } from "ltx";
import { buildDataForm, type DataForm } from "./data-form.js";
import { NS_PUBSUB, NS_PUBSUB_OWNER } from "./ns.js";
import type { IqRequestType, PubsubRequest, PubsubRequestKind } from "./pubsub-request.js";
import { affiliationElement, subscriptionElement } from "./pubsub-types.js";
import { buildRsmRequest } from "./rsm.js";
import { type Element, xml } from "./xml.js";

const OWNER_KINDS = new Set<PubsubRequestKind>([
  "configure-get",
  "configure-set",
  "owner-subscriptions-get",
  "owner-subscriptions-set",
  "owner-affiliations-get",
  "owner-affiliations-set",
  "purge",
  "delete",
]);

/** The IQ type a request is sent with. */
export function requestIqType(request: PubsubRequest): IqRequestType {
  switch (request.kind) {
    case "items":
    case "subscriptions":
    case "affiliations":
    case "options-get":
    case "default":
    case "configure-get":
    case "owner-subscriptions-get":
    case "owner-affiliations-get":
      return "get";
    default:
      return "set";
  }
}

/** Build the `<pubsub/>` element of a request (the IQ around it is the caller's). */
export function buildPubsubRequest(request: PubsubRequest): Element {
  const owner =
    OWNER_KINDS.has(request.kind) ||
    (request.kind === "default" && request.scope === "node-config");
  return xml("pubsub", { xmlns: owner ? NS_PUBSUB_OWNER : NS_PUBSUB }, ...buildAction(request));
}

function withForm(wrapper: string, form: DataForm | undefined): Element | undefined {
  return form && xml(wrapper, null, buildDataForm(form));
}

function buildAction(r: PubsubRequest): Array<Element | undefined> {
  switch (r.kind) {
    case "publish":
      return [
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
      ];
    case "retract":
      return [
        xml(
          "retract",
          { node: r.node, notify: r.notify ? "true" : undefined },
          r.itemIds.map((id) => xml("item", { id })),
        ),
      ];
    case "items":
      return [
        xml(
          "items",
          { node: r.node, max_items: r.maxItems, subid: r.subid },
          r.itemIds.map((id) => xml("item", { id })),
        ),
        r.rsm && buildRsmRequest(r.rsm),
      ];
    case "subscribe":
      return [xml("subscribe", { node: r.node, jid: r.jid }), withForm("options", r.options)];
    case "unsubscribe":
      return [xml("unsubscribe", { node: r.node, jid: r.jid, subid: r.subid })];
    case "subscriptions":
    case "affiliations":
      return [xml(r.kind, { node: r.node })];
    case "options-get":
    case "options-set":
      return [
        xml(
          "options",
          { node: r.node, jid: r.jid, subid: r.subid },
          r.kind === "options-set" && buildDataForm(r.form),
        ),
      ];
    case "create":
      return [xml("create", { node: r.node }), withForm("configure", r.configure)];
    case "default":
      return [xml("default", { node: r.node })];
    default:
      return buildOwnerAction(r);
  }
}

function buildOwnerAction(r: PubsubRequest): Array<Element | undefined> {
  switch (r.kind) {
    case "configure-get":
      return [xml("configure", { node: r.node })];
    case "configure-set":
      return [xml("configure", { node: r.node }, buildDataForm(r.form))];
    case "owner-subscriptions-get":
      return [xml("subscriptions", { node: r.node })];
    case "owner-subscriptions-set":
      return [xml("subscriptions", { node: r.node }, r.subscriptions.map(subscriptionElement))];
    case "owner-affiliations-get":
      return [xml("affiliations", { node: r.node })];
    case "owner-affiliations-set":
      return [xml("affiliations", { node: r.node }, r.affiliations.map(affiliationElement))];
    case "purge":
      return [xml("purge", { node: r.node })];
    case "delete":
      return [
        xml(
          "delete",
          { node: r.node },
          r.redirect !== undefined && xml("redirect", { uri: r.redirect }),
        ),
      ];
    default:
      return [];
  }
}
