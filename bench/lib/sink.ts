/**
 * The sink of the fan-out bench: one component connection whose JIDs s1@sink.D … sN@sink.D
 * subscribe (jid = from) to a node and count what arrives. Each post carries a marker
 * `#TAG:POST#` in its text (TAG names the phase); per phase the sink keeps, for every post, how
 * many notifications arrived and when the first and the last did (the arrival time of the chunk
 * they came in).
 */
import { NS_PUBSUB } from "../../schemas/src/ns.js";
import { type Element, xml } from "../../schemas/src/xml.js";
import { connectComponent, type RawComponent } from "./raw-component.js";
import { now, pool, sleep } from "./stats.js";

/** What the sink counted in one phase. */
export interface SinkCounts {
  tag: string;
  /** Messages carrying this phase's marker. */
  received: number;
  /** Messages without it (another phase's, or none). */
  other: number;
  /** Per post: notifications, first and last arrival (NaN when none arrived). */
  perPost: number[];
  firstAt: number[];
  lastAt: number[];
  /** Bytes read on the sink's connection during the phase. */
  bytes: number;
  /** When the phase's first and last marked message arrived. */
  firstArrival: number;
  lastArrival: number;
}

export const MARKER = /#[a-z]:\d+#/;
export const marker = (tag: string, post: number) => `#${tag}:${post}#`;

export class Sink {
  private conn!: RawComponent;
  private counts: SinkCounts = emptyCounts("", 0);
  private bytesAtBegin = 0;
  private readonly replies = new Map<string, (el: Element) => void>();
  private capture: ((el: Element) => void) | undefined;
  private lost: string | undefined;
  private ids = 0;

  private constructor(readonly size: number) {}

  /** Connect as `domain` to the component port; `size` JIDs. */
  static async connect(port: number, domain: string, secret: string, size: number): Promise<Sink> {
    const sink = new Sink(size);
    sink.conn = await connectComponent(
      port,
      domain,
      secret,
      {
        message: (m) => sink.onMessage(m),
        stanza: (el) => sink.onStanza(el),
        closed: (why) => {
          sink.lost = why;
        },
      },
      MARKER,
    );
    return sink;
  }

  jid(i: number): string {
    return `s${i + 1}@${this.conn.domain}`;
  }

  /** Subscribe every JID to `node` at `service`, `width` at a time; throws on the first refusal. */
  async subscribeAll(service: string, node: string, width = 50): Promise<void> {
    await pool(this.size, width, async (i) => {
      const jid = this.jid(i);
      const reply = await this.iq(
        xml(
          "iq",
          { type: "set", from: jid, to: service },
          xml("pubsub", { xmlns: NS_PUBSUB }, xml("subscribe", { node, jid })),
        ),
      );
      const state = reply.getChild("pubsub")?.getChild("subscription")?.attrs.subscription;
      if (reply.attrs.type !== "result" || (state && state !== "subscribed")) {
        throw new Error(
          `${jid} could not subscribe to ${service}: ${reply.toString().slice(0, 300)}`,
        );
      }
    });
  }

  /** Start counting the messages marked with `tag` (posts 0..posts-1). */
  begin(tag: string, posts: number): void {
    this.counts = emptyCounts(tag, posts);
    this.bytesAtBegin = this.conn.bytesRead();
  }

  /** What was counted since `begin`, bytes up to now. */
  result(): SinkCounts {
    return { ...this.counts, bytes: this.conn.bytesRead() - this.bytesAtBegin };
  }

  /** Resolves with the next message of the current phase, built as an element. */
  captureNext(): Promise<Element> {
    this.conn.setBuildMessages(true);
    return new Promise((resolve) => {
      this.capture = resolve;
    });
  }

  /**
   * Wait until `total` marked messages have arrived, or none has for `stallMs` (then the phase
   * is incomplete: the caller reports what arrived). Throws when the connection is lost.
   */
  async waitFor(total: number, stallMs: number): Promise<void> {
    let seen = this.counts.received;
    let progressAt = now();
    while (this.counts.received < total) {
      if (this.lost) throw new Error(`the sink's connection was closed: ${this.lost}`);
      if (this.counts.received !== seen) {
        seen = this.counts.received;
        progressAt = now();
      } else if (now() - progressAt > stallMs) return;
      await sleep(25);
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  private iq(el: Element, timeoutMs = 30_000): Promise<Element> {
    const id = `k${++this.ids}`;
    el.attrs.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`no answer to ${el.toString().slice(0, 200)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.conn.write(el.toString());
    });
  }

  private onMessage(m: string | undefined): void {
    const c = this.counts;
    if (m === undefined || m[1] !== c.tag) {
      c.other++;
      return;
    }
    const post = Number(m.slice(3, -1));
    if (!(post < c.perPost.length)) {
      c.other++;
      return;
    }
    const at = this.conn.chunkAt();
    c.received++;
    c.perPost[post]!++;
    if (Number.isNaN(c.firstAt[post])) c.firstAt[post] = at;
    c.lastAt[post] = at;
    if (c.received === 1) c.firstArrival = at;
    c.lastArrival = at;
  }

  private onStanza(el: Element): void {
    if (el.name === "iq" && (el.attrs.type === "result" || el.attrs.type === "error")) {
      const done = this.replies.get(el.attrs.id);
      this.replies.delete(el.attrs.id);
      done?.(el);
      return;
    }
    if (el.name !== "message") return;
    // A built message (captureNext): counted as any other; the first of this phase is handed on.
    const m = MARKER.exec(el.toString())?.[0];
    this.onMessage(m);
    if (this.capture && m?.[1] === this.counts.tag) {
      this.conn.setBuildMessages(false);
      this.capture(el);
      this.capture = undefined;
    }
  }
}

function emptyCounts(tag: string, posts: number): SinkCounts {
  return {
    tag,
    received: 0,
    other: 0,
    perPost: new Array<number>(posts).fill(0),
    firstAt: new Array<number>(posts).fill(Number.NaN),
    lastAt: new Array<number>(posts).fill(Number.NaN),
    bytes: 0,
    firstArrival: Number.NaN,
    lastArrival: Number.NaN,
  };
}
