/**
 * The answer to a stanza the parser refused for its depth or size (see stanza-parser.ts). Only
 * the stanza's first levels were kept: enough to see what it asked for, never passed to a handler.
 * A publish gets the XEP-0060 §7.1.3 errors of a bad payload; any other request policy-violation.
 * Messages and presences are dropped (the caller counts them): there is nothing to answer.
 */
import { buildStanzaError, type StanzaErrorSpec } from "../../../schemas/src/errors.js";
import { NS_PUBSUB } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import type { RefusalKind, StanzaLimits } from "./stanza-parser.js";

export function refusedStanzaReply(
  stanza: Element,
  kind: RefusalKind,
  limits: StanzaLimits,
): Element | undefined {
  const { type, id = "", from, to } = stanza.attrs;
  if (stanza.name !== "iq" || (type !== "get" && type !== "set")) return undefined;
  const isPublish = stanza.getChild("pubsub", NS_PUBSUB)?.getChild("publish") !== undefined;
  const limit =
    kind === "depth"
      ? `nested deeper than ${limits.maxDepth} elements`
      : `longer than ${limits.maxChars} characters`;
  const spec: StanzaErrorSpec = isPublish
    ? kind === "depth"
      ? {
          condition: "bad-request",
          pubsubCondition: "invalid-payload",
          text: `The item is ${limit}.`,
        }
      : {
          condition: "not-acceptable",
          pubsubCondition: "payload-too-big",
          text: `The item is ${limit}.`,
        }
    : { condition: "policy-violation", type: "modify", text: `The request is ${limit}.` };
  return xml("iq", { type: "error", id, from: to, to: from }, buildStanzaError(spec));
}
