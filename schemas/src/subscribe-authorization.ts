/**
 * XEP-0060 §8.6: the subscription authorization form the service sends the node owner, and the
 * owner's answer (submit with pubsub#allow, or cancel: the request stays pending).
 */
import {
  buildDataForm,
  type DataField,
  DataFormError,
  getFieldBoolean,
  getFieldString,
  parseDataForm,
} from "./data-form.js";
import { NS_PUBSUB_SUBSCRIBE_AUTHORIZATION } from "./ns.js";
import type { Element } from "./xml.js";

export interface SubscribeAuthorizationRequest {
  node: string;
  subscriberJid: string;
  subid?: string;
}

export type SubscribeAuthorizationAnswer =
  | { cancelled: true }
  | (SubscribeAuthorizationRequest & { cancelled: false; allow: boolean });

export const AUTHORIZATION_TITLE = "PubSub subscriber request";
export const AUTHORIZATION_INSTRUCTIONS =
  "To approve this entity's subscription request, click the OK button. " +
  "To deny the request, click the cancel button.";

/** The §8.6 form (type 'form', pubsub#allow false), as in the XEP-0060 example. */
export function buildSubscribeAuthorizationForm(
  request: SubscribeAuthorizationRequest,
  text: { title?: string; instructions?: string } = {},
): Element {
  const fields: DataField[] = [
    { var: "FORM_TYPE", type: "hidden", values: [NS_PUBSUB_SUBSCRIBE_AUTHORIZATION] },
  ];
  if (request.subid !== undefined) {
    fields.push({ var: "pubsub#subid", type: "hidden", values: [request.subid] });
  }
  fields.push(
    { var: "pubsub#node", type: "text-single", label: "Node ID", values: [request.node] },
    {
      var: "pubsub#subscriber_jid",
      type: "jid-single",
      label: "Subscriber Address",
      values: [request.subscriberJid],
    },
    {
      var: "pubsub#allow",
      type: "boolean",
      label: "Allow this JID to subscribe to this pubsub node?",
      values: ["false"],
    },
  );
  return buildDataForm({
    type: "form",
    title: text.title ?? AUTHORIZATION_TITLE,
    instructions: [text.instructions ?? AUTHORIZATION_INSTRUCTIONS],
    fields,
  });
}

/** The owner's answer. Throws DataFormError (bad-request) when FORM_TYPE or a field is wrong. */
export function parseSubscribeAuthorizationAnswer(x: Element): SubscribeAuthorizationAnswer {
  const form = parseDataForm(x);
  if (form.formType !== NS_PUBSUB_SUBSCRIBE_AUTHORIZATION) {
    throw new DataFormError(`Expected a ${NS_PUBSUB_SUBSCRIBE_AUTHORIZATION} form.`);
  }
  if (form.type === "cancel") return { cancelled: true };
  const node = getFieldString(form, "pubsub#node");
  const subscriberJid = getFieldString(form, "pubsub#subscriber_jid");
  const allow = getFieldBoolean(form, "pubsub#allow");
  if (!node) throw new DataFormError("The answer names no pubsub#node.", "pubsub#node");
  if (!subscriberJid) {
    throw new DataFormError("The answer names no pubsub#subscriber_jid.", "pubsub#subscriber_jid");
  }
  if (allow === undefined)
    throw new DataFormError("The answer has no pubsub#allow.", "pubsub#allow");
  const subid = getFieldString(form, "pubsub#subid");
  const answer = { cancelled: false as const, node, subscriberJid, allow };
  return subid === undefined ? answer : { ...answer, subid };
}
