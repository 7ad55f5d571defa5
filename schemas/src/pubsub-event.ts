/**
 * XEP-0060 event notifications: the `<event xmlns='…#event'/>` child of a message.
 * Built by the component's fan-out, parsed by the CLI (`listen`) and by the component for the
 * home timeline (events arriving at u@C from followed nodes).
 */
import { buildDataForm, type DataForm, parseDataForm } from "./data-form.js";
import { WireError } from "./errors.js";
import { NS_DATA_FORMS, NS_PUBSUB_EVENT } from "./ns.js";
import {
  itemElement,
  type PubsubItem,
  readItem,
  readSubscription,
  type SubscriptionInfo,
  subscriptionElement,
} from "./pubsub-types.js";
import { type Element, xml } from "./xml.js";

export type PubsubEvent =
  /** New items (§7.1.2.1) and/or retractions (§7.2.2.1). */
  | { kind: "items"; node: string; items: PubsubItem[]; retracts: string[] }
  | { kind: "purge"; node: string }
  | { kind: "delete"; node: string; redirect?: string }
  /** Without form: notification only; with: the full configuration (§8.2.5). */
  | { kind: "configuration"; node: string; form?: DataForm }
  /** Subscription state change (§8.8.4, §8.6 approval/denial). `node` and `jid` required here. */
  | { kind: "subscription"; subscription: SubscriptionInfo & { node: string } };

export interface BuildEventOptions {
  /** pubsub#deliver_payloads: false sends `<item id/>` without the payload. Default true. */
  deliverPayloads?: boolean;
}

export function buildEvent(event: PubsubEvent, options: BuildEventOptions = {}): Element {
  return xml(
    "event",
    { xmlns: NS_PUBSUB_EVENT },
    buildEventChild(event, options.deliverPayloads ?? true),
  );
}

function buildEventChild(event: PubsubEvent, withPayloads: boolean): Element {
  switch (event.kind) {
    case "items":
      return xml(
        "items",
        { node: event.node },
        event.items.map((item) => itemElement(item, withPayloads)),
        event.retracts.map((id) => xml("retract", { id })),
      );
    case "purge":
      return xml("purge", { node: event.node });
    case "delete":
      return xml(
        "delete",
        { node: event.node },
        event.redirect !== undefined && xml("redirect", { uri: event.redirect }),
      );
    case "configuration":
      return xml("configuration", { node: event.node }, event.form && buildDataForm(event.form));
    case "subscription":
      return subscriptionElement(event.subscription);
  }
}

/** Read an `<event/>` (or the message that carries one). */
export function parseEvent(el: Element): PubsubEvent {
  const event = el.is("event", NS_PUBSUB_EVENT) ? el : el.getChild("event", NS_PUBSUB_EVENT);
  const child = event?.getChildElements()[0];
  if (!event || !child) throw new WireError("No pubsub <event/> with content.", "bad-request");
  const node = child.attrs.node as string | undefined;
  if (!node)
    throw new WireError(
      `The event <${child.getName()}/> names no node.`,
      "bad-request",
      "nodeid-required",
    );
  switch (child.getName()) {
    case "items":
      return {
        kind: "items",
        node,
        items: child.getChildren("item").map(readItem),
        retracts: child.getChildren("retract").map((r) => (r.attrs.id as string | undefined) ?? ""),
      };
    case "purge":
      return { kind: "purge", node };
    case "delete":
      return parseDeleteEvent(child, node);
    case "configuration":
      return parseConfigurationEvent(child, node);
    case "subscription":
      return { kind: "subscription", subscription: { ...readSubscription(child), node } };
    default:
      throw new WireError(`Unknown pubsub event <${child.getName()}/>.`, "feature-not-implemented");
  }
}

function parseDeleteEvent(child: Element, node: string): PubsubEvent {
  const redirect = child.getChild("redirect")?.attrs.uri as string | undefined;
  return redirect === undefined ? { kind: "delete", node } : { kind: "delete", node, redirect };
}

function parseConfigurationEvent(child: Element, node: string): PubsubEvent {
  const x = child.getChild("x", NS_DATA_FORMS);
  return x
    ? { kind: "configuration", node, form: parseDataForm(x) }
    : { kind: "configuration", node };
}
