/**
 * XEP-0060 §8.6: the owner's answer to a subscription approval form arrives as a message to u@C.
 * Whether the sender may answer is the domain's policy (only the owner may approve): anyone
 * else's answer changes nothing and is refused with `forbidden`, logged and counted (the router
 * sends the error back).
 */
import { findDataForm } from "../../../schemas/src/data-form.js";
import { NS_DATA_FORMS, NS_PUBSUB_SUBSCRIBE_AUTHORIZATION } from "../../../schemas/src/ns.js";
import { parseSubscribeAuthorizationAnswer } from "../../../schemas/src/subscribe-authorization.js";
import type { Element } from "../../../schemas/src/xml.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE } from "../domain/types.js";
import { type Addresses, bareJid } from "../protocol/addresses.js";
import type { Handled, StanzaRouter } from "../protocol/router.js";
import { StanzaError } from "../protocol/stanza-error.js";

export interface AnswerDeps {
  pubsub: PubsubService;
  addresses: Addresses;
}

/** Messages carrying a data form: §8.6 answers (other forms are not for this service). */
export function registerAuthorizationAnswers(router: StanzaRouter, deps: AnswerDeps): void {
  router.onMessage(NS_DATA_FORMS, "x", (msg) => answerAuthorization(msg, deps));
}

export async function answerAuthorization(
  msg: Element,
  deps: AnswerDeps,
): Promise<Partial<Handled> | undefined> {
  const to = bareJid(msg.attrs.to ?? "");
  const x = findDataForm(msg, NS_PUBSUB_SUBSCRIBE_AUTHORIZATION);
  if (!x) return undefined;
  const answer = parseSubscribeAuthorizationAnswer(x);
  if (answer.cancelled) return undefined; // §8.6: a cancelled form leaves the request pending.
  if (!deps.addresses.ownerOfService(to)) throw new StanzaError("item-not-found");
  if (answer.node !== MICROBLOG_NODE)
    throw new StanzaError("item-not-found", `no node ${answer.node} here`);
  const ref = { service: to, node: MICROBLOG_NODE };
  const from = msg.attrs.from ?? "";
  const { events } = await deps.pubsub.approveSubscription(
    from,
    ref,
    answer.subscriberJid,
    answer.allow,
  );
  return { events };
}
