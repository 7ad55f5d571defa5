/**
 * Admission of incoming stanzas while a fan-out is behind. A publish is answered after its
 * commit and fanned out after that, so a publisher faster than the server can take the
 * notifications would grow the notifier's queue without end. While the notifier is crowded, new
 * stanzas wait here, in their order of arrival, and go on one at a time as it gets room; past
 * `maxHeld` the newest is answered with a `wait` error (resource-constraint, RFC 6120 §8.3.3.18),
 * which a client may retry. Answers to Warble's own requests and bounces never wait: they are
 * what lets the backlog move (the notifier's barriers are IQ answers).
 */
import { buildStanzaError } from "../../../schemas/src/errors.js";
import { type Element, xml } from "../../../schemas/src/xml.js";

export interface IntakeOptions {
  /** Handle one stanza; resolves once its replies are sent and its events handed on. */
  handle(el: Element): Promise<void>;
  /** Whether new work should wait, and when it may go on. */
  crowded(): boolean;
  room(): Promise<void>;
  /** Send an answer (the overflow's errors). */
  send(el: Element): void;
  /** Stanzas held at most (default 1,000). */
  maxHeld?: number;
}

/** A stanza that answers one of ours or bounces: it never waits. */
function isAnswer(el: Element): boolean {
  const type = el.attrs.type;
  return type === "error" || (el.name === "iq" && type === "result");
}

export class Intake {
  private readonly held: Element[] = [];
  private releasing: Promise<void> | undefined;
  private stopping = false;
  private wakeOnStop: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.wakeOnStop = resolve;
  });
  /** Stanzas answered with a wait error because too many were held. */
  turnedAway = 0;

  constructor(private readonly opts: IntakeOptions) {}

  /** Stanzas waiting for room. */
  get waiting(): number {
    return this.held.length;
  }

  /** Take one stanza: handled now, or held behind those already waiting. */
  take(el: Element): Promise<void> {
    if (isAnswer(el) || (this.held.length === 0 && !this.opts.crowded())) {
      return this.opts.handle(el);
    }
    if (this.held.length >= (this.opts.maxHeld ?? 1000)) {
      this.turnAway(el);
      return Promise.resolve();
    }
    this.held.push(el);
    this.releasing ??= this.release();
    return Promise.resolve();
  }

  /**
   * Stopping: what is held is answered with the wait error (a restarted Warble will take it),
   * and the stanza being handled is finished.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeOnStop();
    for (const el of this.held.splice(0)) this.turnAway(el);
    await this.releasing;
  }

  /** The held stanzas, in order, one at a time, each when the notifier has room. */
  private async release(): Promise<void> {
    try {
      for (let el = this.held[0]; el; el = this.held[0]) {
        if (this.opts.crowded()) await Promise.race([this.opts.room(), this.stopped]);
        if (this.stopping) return;
        this.held.shift();
        await this.opts.handle(el).catch(() => {});
      }
    } finally {
      this.releasing = undefined;
    }
  }

  private turnAway(el: Element): void {
    this.turnedAway++;
    const { from, to, id } = el.attrs;
    if (!from) return;
    const error = buildStanzaError({
      condition: "resource-constraint",
      type: "wait",
      text: "The service is busy delivering notifications; try again shortly.",
    });
    this.opts.send(xml(el.name, { type: "error", from: to, to: from, id }, error));
  }
}
