import type { Logger } from "pino";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { localOf } from "../domain/jid.js";
import { logRefusal, toErrorElement } from "./stanza-error.js";

/** One incoming IQ request, as a handler sees it. */
export interface IqRequest {
  stanza: Element;
  /** The single payload child (<query/>, <pubsub/>, <ping/> ...). */
  child: Element;
  type: "get" | "set";
  from: string;
  to: string;
  /** Local part of `to` ("" when addressed to the component domain itself). */
  toLocal: string;
  log: Logger;
}

/** Returns the result payload (or nothing for an empty result); throws StanzaError / PubsubError. */
export type IqHandler = (req: IqRequest) => Element | undefined | Promise<Element | undefined>;

/** Whom a handler serves: the component domain C, the per-user addresses u@C, or both. */
export type Audience = "service" | "user" | "both";

const key = (type: string, ns: string | undefined, name: string, toUser: boolean) =>
  `${type} ${toUser ? "user" : "service"} {${ns ?? ""}}${name}`;

/**
 * The dispatch table for IQs: handlers[type, audience, payload element] → handler.
 * Unknown payloads get service-unavailable; errors thrown by handlers become error replies here,
 * in one place, after which the reply goes out through `send`.
 */
export class IqRouter {
  private readonly handlers = new Map<string, IqHandler>();

  on(type: "get" | "set", ns: string, name: string, audience: Audience, handler: IqHandler): this {
    if (audience !== "user") this.handlers.set(key(type, ns, name, false), handler);
    if (audience !== "service") this.handlers.set(key(type, ns, name, true), handler);
    return this;
  }

  /** Handle one IQ of type get/set; resolves to the reply stanza. */
  async dispatch(stanza: Element, log: Logger): Promise<Element> {
    const { from = "", to = "", id = "" } = stanza.attrs;
    const reply = (type: string, ...children: Element[]) =>
      xml("iq", { type, id, from: to, to: from }, ...children);
    const children = stanza.getChildElements();
    const child = children[0];
    const type = stanza.attrs.type as "get" | "set";
    if (!child || children.length !== 1) {
      return reply(
        "error",
        toErrorElement({
          condition: "bad-request",
          text: "An IQ request carries exactly one payload",
        }),
      );
    }
    const toLocal = localOf(to) ?? "";
    const handler = this.handlers.get(key(type, child.attrs.xmlns, child.name, toLocal !== ""));
    if (!handler) {
      return reply("error", child, toErrorElement({ condition: "service-unavailable" }));
    }
    try {
      const payload = await handler({ stanza, child, type, from, to, toLocal, log });
      return payload ? reply("result", payload) : reply("result");
    } catch (err) {
      logRefusal(log, err);
      return reply("error", toErrorElement(err, log));
    }
  }
}
