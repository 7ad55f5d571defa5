/**
 * A bare XEP-0114 component connection for the fan-out bench, on node:net and ltx's SAX parser.
 * It is built to count: a <message> at stanza level is not made into a tree (unless asked), only
 * searched for a marker, so that the sink stays cheap next to the server it measures; every
 * other stanza (IQ results, errors) is built as an element. Between stanzas a message is cut out
 * of the text before the SAX parser sees it (about 1 µs against 15 µs for a 1 KB notification
 * through the parser): the servers write no `>` unescaped in attribute values and no nested
 * <message> in what the bench receives.
 */
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import SaxLtx from "ltx/lib/parsers/ltx.js";
import { Element } from "../../schemas/src/xml.js";
import { now } from "./stats.js";

export interface StanzaHandlers {
  /** A <message> at stanza level, not built: the first match of the marker in its text. */
  message?(marker: string | undefined): void;
  /** Any other stanza, and messages while `buildMessages` is set. */
  stanza?(el: Element): void;
  /** The connection ended after the handshake (the server closed it, or bad XML). */
  closed?(why: string): void;
}

/** The stream's SAX events as stanzas, with the message fast path. */
class StreamReader {
  private readonly sax = new SaxLtx();
  /** Open elements, the stream's root included. */
  private depth = 0;
  private cursor: Element | null = null;
  private inMessage = false;
  private marker: string | undefined;
  /** Build messages as trees too (to capture one). */
  buildMessages = false;
  /** Text from a message's start on, kept until its end arrives (never given to the parser). */
  private pending = "";

  constructor(
    private readonly handlers: StanzaHandlers & { root(attrs: Record<string, string>): void },
    private readonly markerRe: RegExp,
  ) {
    this.sax.on("startElement", (name: string, attrs: Record<string, string>) =>
      this.start(name, attrs),
    );
    this.sax.on("endElement", () => this.end());
    this.sax.on("text", (text: string) => this.text(text));
  }

  /** Parse a chunk: top-level messages by the fast path, everything else by the SAX parser. */
  write(chunk: string): void {
    const buf = this.pending + chunk;
    this.pending = "";
    let pos = 0;
    while (pos < buf.length) {
      const lt = buf.indexOf("<message", pos);
      if (lt < 0) {
        this.sax.write(buf.slice(pos));
        return;
      }
      if (lt > pos) this.sax.write(buf.slice(pos, lt));
      const next = this.depth === 1 && !this.buildMessages ? this.cutMessage(buf, lt) : undefined;
      if (next === -1) {
        this.pending = buf.slice(lt);
        return;
      }
      if (next === undefined) this.sax.write(buf.slice(lt, lt + 8));
      pos = next ?? lt + 8;
    }
  }

  /**
   * The fast path: the message starting at `lt` counted, and where the text after it begins;
   * -1 when it has not all arrived; undefined when `<message` starts another name.
   */
  private cutMessage(buf: string, lt: number): number | undefined {
    const after = buf.charCodeAt(lt + 8);
    if (Number.isNaN(after)) return -1;
    if (after !== 0x20 && after !== 0x3e && after !== 0x2f) return undefined; // " ", ">", "/"
    const gt = buf.indexOf(">", lt);
    if (gt < 0) return -1;
    if (buf.charCodeAt(gt - 1) === 0x2f) {
      this.handlers.message?.(undefined);
      return gt + 1;
    }
    const end = buf.indexOf("</message>", gt);
    if (end < 0) return -1;
    this.handlers.message?.(this.markerRe.exec(buf.slice(gt + 1, end))?.[0]);
    return end + 10;
  }

  private start(name: string, attrs: Record<string, string>): void {
    this.depth++;
    if (this.depth === 1) {
      this.handlers.root(attrs);
      return;
    }
    if (this.inMessage) return;
    if (this.depth === 2 && name === "message" && !this.buildMessages) {
      this.inMessage = true;
      this.marker = undefined;
      return;
    }
    const el = new Element(name, attrs);
    this.cursor?.append(el);
    this.cursor = el;
  }

  private end(): void {
    this.depth--;
    if (this.inMessage) {
      if (this.depth > 1) return;
      this.inMessage = false;
      this.handlers.message?.(this.marker);
      return;
    }
    const el = this.cursor;
    if (!el) return; // the stream's own end
    this.cursor = this.depth > 1 ? (el.parent as Element) : null;
    if (this.depth === 1) this.handlers.stanza?.(el);
  }

  private text(text: string): void {
    if (this.inMessage) {
      if (this.marker === undefined) this.marker = this.markerRe.exec(text)?.[0];
      return;
    }
    this.cursor?.t(text);
  }
}

/** An authenticated component stream. */
export interface RawComponent {
  readonly domain: string;
  /** Write raw XML; false when the socket's buffer is over its high-water mark. */
  write(xml: string): boolean;
  /** Resolves when the socket's buffer has drained (at once when it is not full). */
  drained(): Promise<void>;
  /** Set to build incoming messages as elements (handed to `stanza`). */
  setBuildMessages(on: boolean): void;
  /** When the chunk being parsed arrived (the clock of stats.ts). */
  chunkAt(): number;
  bytesRead(): number;
  close(): Promise<void>;
}

const streamHeader = (domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`;

/** The XEP-0114 handshake: hex SHA-1 of the stream id followed by the secret. */
const handshakeOf = (streamId: string, secret: string) =>
  createHash("sha1")
    .update(streamId + secret)
    .digest("hex");

/**
 * Connect to a server's component port on 127.0.0.1 as `domain`; resolves once the server has
 * accepted the handshake, rejects with one readable line otherwise (within `timeoutMs`).
 */
export function connectComponent(
  port: number,
  domain: string,
  secret: string,
  handlers: StanzaHandlers,
  markerRe = /(?!)/,
  timeoutMs = 10_000,
): Promise<RawComponent> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    const state = { ready: false, closing: false, lastChunk: 0, why: "the server closed it" };
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`component ${domain} on port ${port}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no handshake within ${timeoutMs} ms`), timeoutMs);
    const reader = new StreamReader(
      {
        root: (attrs) =>
          socket.write(`<handshake>${handshakeOf(attrs.id ?? "", secret)}</handshake>`),
        message: (marker) => handlers.message?.(marker),
        stanza: (el) => {
          if (state.ready) return handlers.stanza?.(el);
          if (el.name !== "handshake") return fail(`refused: ${el.toString().slice(0, 300)}`);
          state.ready = true;
          clearTimeout(timer);
          resolve(wrap(socket, domain, reader, state));
        },
      },
      markerRe,
    );
    socket.on("data", (chunk: string) => {
      state.lastChunk = now();
      try {
        reader.write(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on("error", (err) => {
      state.why = err.message;
      if (!state.ready) fail(err.message);
    });
    socket.on("close", () => {
      if (!state.ready) fail(state.why);
      else if (!state.closing) handlers.closed?.(state.why);
    });
    socket.write(streamHeader(domain));
  });
}

function wrap(
  socket: Socket,
  domain: string,
  reader: StreamReader,
  state: { closing: boolean; lastChunk: number },
): RawComponent {
  return {
    domain,
    write: (xml) => socket.write(xml),
    drained: () => drained(socket),
    setBuildMessages: (on) => {
      reader.buildMessages = on;
    },
    chunkAt: () => state.lastChunk,
    bytesRead: () => socket.bytesRead,
    close: () => {
      state.closing = true;
      return closeSocket(socket);
    },
  };
}

/** Resolves when the socket can take more (or is gone). */
function drained(socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off("close", done);
      socket.off("drain", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}

/** End the stream, then the socket; destroyed after 2 s without an answer. */
function closeSocket(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end("</stream:stream>");
  });
}
