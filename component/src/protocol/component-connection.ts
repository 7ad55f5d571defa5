import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import type { Logger } from "pino";
import type { Element } from "../../../schemas/src/xml.js";
import { type WriteStats, writeXml } from "../../../schemas/src/xml-writer.js";
import {
  DEFAULT_STANZA_LIMITS,
  type RefusalKind,
  type StanzaLimits,
  StanzaParser,
} from "./stanza-parser.js";

const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";

/** The server refused us for a reason retrying will not fix (wrong secret, unknown domain). */
export class ConnectionRefusedError extends Error {
  override name = "ConnectionRefusedError";
}

export interface ConnectionOptions {
  service: string;
  domain: string;
  secret: string;
  log: Logger;
  /** First reconnect delay; doubles per failure up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Stanzas kept while disconnected (default 10,000). */
  maxOfflineQueue?: number;
  /** Give up on a connection attempt that has not completed the handshake by then (default 30 s). */
  handshakeTimeoutMs?: number;
  /** Depth and size limits of an incoming stanza (DEFAULT_STANZA_LIMITS). */
  stanzaLimits?: StanzaLimits;
  /** Told how many forbidden characters one stanza had replaced (for the counters). */
  onReplaced?: (count: number) => void;
}

type State = "offline" | "connecting" | "online" | "stopping";

/**
 * An XEP-0114 component stream: connect, handshake, stanzas in and out, reconnect with backoff.
 * Events: "online", "offline" (reason), "stanza" (Element), "refused" (Element, RefusalKind: a
 * stanza over the depth or size limit, kept only to its first levels), "fatal"
 * (ConnectionRefusedError). Everything sent is written by writeXml: no character XML forbids
 * can go out and make the server drop the stream.
 * Written on node:net and ltx's SAX parser (stanza-parser.ts) rather than @xmpp/component: that package
 * retries a wrong secret forever at a fixed delay and answers IQs behind the handlers' backs.
 */
export class ComponentConnection extends EventEmitter {
  private socket: Socket | null = null;
  private state: State = "offline";
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private corked = false;
  private offlineQueue: Element[] = [];
  /** Stanzas dropped because the offline queue was full. */
  dropped = 0;
  /** Characters XML forbids that were replaced (U+FFFD) in what was sent. */
  readonly written: WriteStats = { replaced: 0 };
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    const url = new URL(opts.service);
    this.host = url.hostname.replace(/^\[|\]$/g, "");
    this.port = url.port ? Number(url.port) : 5347;
  }

  get online(): boolean {
    return this.state === "online";
  }

  /** Connect and keep connected until stop(). Resolves when first online; rejects on a fatal refusal. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onOnline = () => {
        this.off("fatal", onFatal);
        resolve();
      };
      const onFatal = (err: Error) => {
        this.off("online", onOnline);
        reject(err);
      };
      this.once("online", onOnline);
      this.once("fatal", onFatal);
      this.open();
    });
  }

  /**
   * Send a stanza; writes made in one tick go out in one packet. While offline, stanzas wait
   * (up to maxOfflineQueue, oldest dropped and counted) and go out once the stream is back.
   */
  send(el: Element): boolean {
    const socket = this.socket;
    if (!socket || this.state !== "online") {
      this.offlineQueue.push(el);
      if (this.offlineQueue.length > (this.opts.maxOfflineQueue ?? 10_000)) {
        this.offlineQueue.shift();
        this.dropped++;
      }
      return false;
    }
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    const before = this.written.replaced;
    const ok = socket.write(writeXml(el, this.written));
    if (this.written.replaced > before) this.opts.onReplaced?.(this.written.replaced - before);
    return ok;
  }

  /** Resolves when the socket can take more (backpressure for large fan-outs). */
  drained(): Promise<void> {
    const socket = this.socket;
    if (!socket?.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  /** Close the stream politely and stop reconnecting. */
  async stop(): Promise<void> {
    this.state = "stopping";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 2000);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end("</stream:stream>");
    });
  }

  private open(): void {
    this.state = "connecting";
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.setEncoding("utf8");
    this.socket = socket;
    const parser = new StanzaParser(this.opts.stanzaLimits ?? DEFAULT_STANZA_LIMITS);
    let streamId: string | null = null;
    const handshakeTimer = setTimeout(() => {
      if (this.socket === socket && this.state === "connecting")
        this.fail(socket, "no handshake from the server in time");
    }, this.opts.handshakeTimeoutMs ?? 30_000);
    socket.once("close", () => clearTimeout(handshakeTimer));

    socket.on("connect", () => {
      socket.write(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='${NS_STREAMS}' to='${this.opts.domain}'>`,
      );
    });
    socket.on("data", (chunk: string) => parser.write(chunk));
    socket.on("error", (err) => this.opts.log.debug({ err: err.message }, "socket error"));
    socket.on("close", () => this.onClosed(socket));
    parser.on("start", (el: Element) => {
      streamId = el.attrs.id ?? null;
      if (!streamId) {
        this.fail(socket, "the server sent no stream id");
        return;
      }
      const digest = createHash("sha1")
        .update(streamId + this.opts.secret)
        .digest("hex");
      socket.write(`<handshake>${digest}</handshake>`);
    });
    parser.on("element", (el: Element) => this.onElement(socket, el));
    parser.on("refused", (el: Element, kind: RefusalKind) => {
      if (this.state === "online") this.emit("refused", el, kind);
    });
    parser.on("error", (err: Error) =>
      this.fail(socket, `bad XML from the server: ${err.message}`),
    );
  }

  private onElement(socket: Socket, el: Element): void {
    if (el.name === "handshake" && this.state === "connecting") {
      this.state = "online";
      this.failures = 0;
      this.keepAlive = setInterval(() => socket.write(" "), 60_000);
      this.emit("online");
      this.flushOfflineQueue();
      return;
    }
    if (el.name === "stream:error" || (el.name === "error" && el.attrs.xmlns === NS_STREAMS)) {
      this.onStreamError(socket, el);
      return;
    }
    if (this.state === "online") this.emit("stanza", el);
  }

  private flushOfflineQueue(): void {
    const queued = this.offlineQueue;
    this.offlineQueue = [];
    if (queued.length > 0)
      this.opts.log.info(
        { stanzas: queued.length, dropped: this.dropped },
        "sending what waited while offline",
      );
    for (const el of queued) this.send(el);
  }

  private onStreamError(socket: Socket, el: Element): void {
    const condition =
      el.children.find(
        (c): c is Element => typeof c !== "string" && c.attrs.xmlns === NS_STREAM_ERRORS,
      )?.name ?? "undefined-condition";
    const wasConnecting = this.state === "connecting";
    if (wasConnecting && condition === "not-authorized") {
      this.fatal(socket, `the server refused the component secret for ${this.opts.domain}`);
      return;
    }
    if (wasConnecting && (condition === "host-unknown" || condition === "improper-addressing")) {
      this.fatal(
        socket,
        `the server at ${this.opts.service} has no component ${this.opts.domain} configured (${condition})`,
      );
      return;
    }
    if (condition === "conflict")
      this.opts.log.warn(`another connection took over ${this.opts.domain}`);
    this.fail(socket, `stream error: ${condition}`);
  }

  private fatal(socket: Socket, message: string): void {
    this.state = "stopping";
    socket.destroy();
    this.emit("fatal", new ConnectionRefusedError(message));
  }

  private fail(socket: Socket, reason: string): void {
    this.opts.log.warn(reason);
    socket.destroy();
  }

  private onClosed(socket: Socket): void {
    if (socket !== this.socket) return;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.socket = null;
    const wasOnline = this.state === "online";
    if (this.state === "stopping") {
      this.state = "offline";
      return;
    }
    this.state = "offline";
    if (wasOnline) this.emit("offline", "connection lost");
    const min = this.opts.minDelayMs ?? 500;
    const delay = Math.min(this.opts.maxDelayMs ?? 30_000, min * 2 ** this.failures);
    this.failures++;
    this.opts.log.warn({ retryInMs: delay }, `not connected to ${this.opts.service}; retrying`);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
