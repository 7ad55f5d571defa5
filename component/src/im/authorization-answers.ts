/**
 * XEP-0060 §8.6: the owner's answer to a subscription approval form arrives as a message to u@C.
 * Whether the sender may answer is the domain's policy (only the owner may approve): anyone
 * else's answer changes nothing and is refused with `forbidden`, logged and counted.
 */
import type { Logger } from "pino";
import { findDataForm } from "../../../schemas/src/data-form.js";
import { NS_PUBSUB_SUBSCRIBE_AUTHORIZATION } from "../../../schemas/src/ns.js";
import { parseSubscribeAuthorizationAnswer } from "../../../schemas/src/subscribe-authorization.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import type { PubsubEvent } from "../domain/events.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE } from "../domain/types.js";
import { type Addresses, bareJid } from "../protocol/addresses.js";
import { logRefusal, StanzaError, toErrorElement } from "../protocol/stanza-error.js";

export interface AnswerDeps {
  pubsub: PubsubService;
  addresses: Addresses;
  send: (el: Element) => void;
  emit: (events: PubsubEvent[]) => void;
}

/** Handles the message if it carries an authorization form; returns whether it did. */
export function handleAuthorizationAnswer(msg: Element, deps: AnswerDeps, log: Logger): boolean {
  const from = msg.attrs.from ?? "";
  const to = bareJid(msg.attrs.to ?? "");
  try {
    const x = findDataForm(msg, NS_PUBSUB_SUBSCRIBE_AUTHORIZATION);
    if (!x) return false;
    const answer = parseSubscribeAuthorizationAnswer(x);
    if (answer.cancelled) return true; // §8.6: a cancelled form leaves the request pending.
    if (!deps.addresses.ownerOfService(to)) throw new StanzaError("item-not-found");
    if (answer.node !== MICROBLOG_NODE)
      throw new StanzaError("item-not-found", `no node ${answer.node} here`);
    const { events } = deps.pubsub.approveSubscription(
      from,
      { service: to, node: MICROBLOG_NODE },
      answer.subscriberJid,
      answer.allow,
    );
    deps.emit(events);
  } catch (err) {
    logRefusal(log, err);
    deps.send(
      xml(
        "message",
        { type: "error", from: msg.attrs.to, to: from, id: msg.attrs.id },
        toErrorElement(err, log),
      ),
    );
  }
  return true;
}
