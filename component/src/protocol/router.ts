/**
 * One dispatch for every stanza kind, each through a table: IQ requests by (type, audience,
 * payload element), messages by the first payload element that has an entry (an §8.6
 * authorization form; later incoming pubsub events and chat), presences by type. A handler
 * returns what to send and the domain events of what it did; it never sends or notifies
 * itself. What it throws becomes the error reply, here, in one place. IQ results and errors go
 * to the outgoing request caller.
 */
import type { Logger } from "pino";
import { Element, xml } from "../../../schemas/src/xml.js";
import { localOf } from "../domain/jid.js";
import type { BusEvent } from "./event-bus.js";
import { logRefusal, StanzaError, toErrorElement } from "./stanza-error.js";

/** What handling a stanza produced: stanzas to send (replies first), then events for the bus. */
export interface Handled {
  replies: Element[];
  events: readonly BusEvent[];
}

const NOTHING: Handled = { replies: [], events: [] };

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

/** An IQ handler's answer: the result payload (none for an empty result) and its events. */
export interface IqAnswer {
  payload?: Element | undefined;
  events?: readonly BusEvent[];
  /** Stanzas sent before the IQ result (XEP-0313 result messages precede their <fin/>). */
  before?: readonly Element[];
}

/** Returns the payload, or payload and events; throws StanzaError / PubsubError / WireError. */
export type IqHandler = (
  req: IqRequest,
) => IqAnswer | Element | undefined | Promise<IqAnswer | Element | undefined>;

/** A message or presence handler: what it sends back (if anything) and its events. */
export type StanzaHandler = (
  stanza: Element,
  log: Logger,
) => Partial<Handled> | undefined | Promise<Partial<Handled> | undefined>;

/** Whom a handler serves: the component domain C, the per-user addresses u@C, or both. */
export type Audience = "service" | "user" | "both";

/** Where IQ results and errors go: the caller of the request they answer. */
export interface ResponseSink {
  onResponse(stanza: Element): void;
}

const iqKey = (type: string, ns: string | undefined, name: string, toUser: boolean) =>
  `${type} ${toUser ? "user" : "service"} {${ns ?? ""}}${name}`;
const elementKey = (el: Element) => `{${el.attrs.xmlns ?? ""}}${el.name}`;

export class StanzaRouter {
  private readonly iqs = new Map<string, IqHandler>();
  private readonly messages = new Map<string, StanzaHandler>();
  /** Entries that serve a message only when no payload of it has an entry above (a body). */
  private readonly fallbacks = new Map<string, StanzaHandler>();
  private readonly presences = new Map<string, StanzaHandler>();
  private responses: ResponseSink | undefined;
  private errors: ((stanza: Element) => void) | undefined;

  on(type: "get" | "set", ns: string, name: string, audience: Audience, handler: IqHandler): this {
    if (audience !== "user") this.iqs.set(iqKey(type, ns, name, false), handler);
    if (audience !== "service") this.iqs.set(iqKey(type, ns, name, true), handler);
    return this;
  }

  /** Messages carrying the payload element {ns}name (the first child with an entry wins). */
  onMessage(ns: string, name: string, handler: StanzaHandler, fallback = false): this {
    (fallback ? this.fallbacks : this.messages).set(`{${ns}}${name}`, handler);
    return this;
  }

  /** Presences of this type ("available" for none). */
  onPresence(type: string, handler: StanzaHandler): this {
    this.presences.set(type, handler);
    return this;
  }

  onResponses(sink: ResponseSink): this {
    this.responses = sink;
    return this;
  }

  /** Messages and presences of type error (bounces of what we sent) go to `handler`. */
  onErrors(handler: (stanza: Element) => void): this {
    this.errors = handler;
    return this;
  }

  /** Handle one stanza; resolves to what to send and what happened. Never rejects. */
  async route(stanza: Element, log: Logger): Promise<Handled> {
    if (stanza.name === "iq") return this.routeIq(stanza, log);
    if (stanza.attrs.type === "error") {
      this.errors?.(stanza);
      return NOTHING;
    }
    const handler =
      stanza.name === "message"
        ? (this.messageHandler(stanza, this.messages) ??
          this.messageHandler(stanza, this.fallbacks))
        : stanza.name === "presence"
          ? this.presences.get(stanza.attrs.type ?? "available")
          : undefined;
    if (!handler) return NOTHING;
    try {
      const out = await handler(stanza, log);
      return { replies: out?.replies ?? [], events: out?.events ?? [] };
    } catch (err) {
      logRefusal(log, err);
      return { replies: [bounce(stanza, toErrorElement(err, log))], events: [] };
    }
  }

  private messageHandler(stanza: Element, table: Map<string, StanzaHandler>) {
    return stanza
      .getChildElements()
      .map((c) => table.get(elementKey(c)))
      .find((h) => h !== undefined);
  }

  private async routeIq(stanza: Element, log: Logger): Promise<Handled> {
    const type = stanza.attrs.type;
    if (type === "result" || type === "error") {
      this.responses?.onResponse(stanza);
      return NOTHING;
    }
    if (type !== "get" && type !== "set") return NOTHING;
    const { reply, events, before = [] } = await this.dispatch(stanza, log);
    return { replies: [...before, reply], events };
  }

  /** Handle one IQ of type get/set: its reply and the events of what it did. */
  async dispatch(
    stanza: Element,
    log: Logger,
  ): Promise<{ reply: Element; events: readonly BusEvent[]; before?: readonly Element[] }> {
    const children = stanza.getChildElements();
    const child = children[0];
    const type = stanza.attrs.type as "get" | "set";
    if (!child || children.length !== 1) {
      const text = "An IQ request carries exactly one payload";
      return {
        reply: iqReply(stanza, "error", toErrorElement(new StanzaError("bad-request", text))),
        events: [],
      };
    }
    const { from = "", to = "" } = stanza.attrs;
    const toLocal = localOf(to) ?? "";
    const handler = this.iqs.get(iqKey(type, child.attrs.xmlns, child.name, toLocal !== ""));
    if (!handler) {
      const error = toErrorElement(new StanzaError("service-unavailable"));
      return { reply: iqReply(stanza, "error", child, error), events: [] };
    }
    try {
      const answer = asAnswer(await handler({ stanza, child, type, from, to, toLocal, log }));
      const reply = answer.payload
        ? iqReply(stanza, "result", answer.payload)
        : iqReply(stanza, "result");
      return { reply, events: answer.events ?? [], before: answer.before ?? [] };
    } catch (err) {
      logRefusal(log, err);
      return { reply: iqReply(stanza, "error", toErrorElement(err, log)), events: [] };
    }
  }
}

function asAnswer(out: IqAnswer | Element | undefined): IqAnswer {
  if (out === undefined) return {};
  return out instanceof Element ? { payload: out } : out;
}

function iqReply(stanza: Element, type: string, ...children: Element[]): Element {
  const { from, to, id = "" } = stanza.attrs;
  return xml("iq", { type, id, from: to, to: from }, ...children);
}

/** A message or presence sent back as an error (RFC 6120 §8.2: the same kind, type error). */
function bounce(stanza: Element, error: Element): Element {
  const { from, to, id } = stanza.attrs;
  return xml(stanza.name, { type: "error", from: to, to: from, id }, error);
}
