/**
 * Outgoing IQ requests (after xmpp.js's iq/caller.js): the component asks other entities
 * things (disco, subscribe, items, MAM). Each request gets a unique id; the answer resolves it
 * (type result: the payload element, if any) or rejects it with an IqError carrying the
 * answer's stanza error; no answer within the timeout rejects with IqTimeoutError. Only an
 * answer from the entity asked is taken (a forged result from anyone else is ignored).
 */
import { randomBytes } from "node:crypto";
import { type ParsedStanzaError, parseStanzaError } from "../../../schemas/src/errors.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { bareJid, normalizeJid } from "../domain/jid.js";
import type { ResponseSink } from "../protocol/router.js";

/** The entity answered with an error; `error` is its stanza error (condition, type, text). */
export class IqError extends Error {
  override name = "IqError";
  constructor(
    readonly error: ParsedStanzaError,
    readonly stanza: Element,
  ) {
    super(`${error.type}/${error.condition}${error.text ? `: ${error.text}` : ""}`);
  }
}

/** No answer in time (the remote server may be down; the request may still arrive later). */
export class IqTimeoutError extends Error {
  override name = "IqTimeoutError";
}

interface Pending {
  to: string;
  resolve: (payload: Element | undefined) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface IqCallerOptions {
  /** Sends a stanza (the component connection). */
  send: (el: Element) => void;
  /** Default timeout per request (default 30 s). */
  timeoutMs?: number;
}

export class IqCaller implements ResponseSink {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString("hex");
  private counter = 0;

  constructor(private readonly opts: IqCallerOptions) {}

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Send `<iq type from to>payload</iq>`; resolves with the result's payload element. */
  request(
    type: "get" | "set",
    from: string,
    to: string,
    payload: Element,
    timeoutMs = this.opts.timeoutMs ?? 30_000,
  ): Promise<Element | undefined> {
    this.counter += 1;
    const id = `${this.prefix}-${this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new IqTimeoutError(`no answer from ${to} in ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { to, resolve, reject, timer });
      this.opts.send(xml("iq", { type, id, from, to }, payload));
    });
  }

  /** An IQ result or error arrived (from the router). */
  onResponse(stanza: Element): void {
    const id = stanza.attrs.id ?? "";
    const waiting = this.pending.get(id);
    if (!waiting || !sameEntity(stanza.attrs.from ?? "", waiting.to)) return;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    if (stanza.attrs.type === "result") waiting.resolve(stanza.getChildElements()[0]);
    else waiting.reject(new IqError(errorOf(stanza), stanza));
  }

  /** Fail everything in flight (the connection is closing). */
  cancelAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new IqTimeoutError(reason));
      this.pending.delete(id);
    }
  }
}

/**
 * Whether an answer's `from` is the entity asked: the same JID, or (RFC 6120 §8.1.2.1) a
 * request to a bare JID answered by the account itself.
 */
function sameEntity(from: string, to: string): boolean {
  if (to.includes("/")) return normalizeJid(from) === normalizeJid(to);
  return bareJid(from) === bareJid(to);
}

/** The answer's stanza error; an error IQ without a readable <error/> is undefined-condition. */
function errorOf(stanza: Element): ParsedStanzaError {
  try {
    return parseStanzaError(stanza);
  } catch {
    return { condition: "undefined-condition", type: "cancel" };
  }
}
