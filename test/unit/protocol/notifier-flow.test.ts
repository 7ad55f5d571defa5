/**
 * The notifier's flow control: a barrier (a round trip through the server) every `every`
 * stanzas, at most `window` unanswered, so what the server has not read stays bounded and a
 * reply can overtake the rest; and the backlog that tells the intake to hold new work.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ItemPublished, Recipient } from "../../../component/src/domain/events.js";
import { MICROBLOG_NODE } from "../../../component/src/domain/types.js";
import { Addresses } from "../../../component/src/protocol/addresses.js";
import {
  BACKLOG_HIGH,
  BACKLOG_LOW,
  type FlowControl,
  Notifier,
  type StanzaSink,
} from "../../../component/src/protocol/notifier.js";
import { NS_ATOM } from "../../../schemas/src/ns.js";
import type { Element } from "../../../schemas/src/xml.js";

const C = "mb.example.org";
const SERVICE = `alice@${C}`;

function published(n: number, from = 0): ItemPublished {
  const recipients: Recipient[] = Array.from({ length: n }, (_, i) => ({
    jid: `r${from + i}@example.net`,
    subid: `s${i}`,
  }));
  return {
    type: "item-published",
    service: SERVICE,
    node: MICROBLOG_NODE,
    item: {
      id: "p1",
      payload: `<entry xmlns='${NS_ATOM}'><title>hi</title></entry>`,
      publisher: `alice@example.org`,
      createdAt: 0,
      updatedAt: 0,
      seq: 1,
    },
    recipients,
    deliverPayloads: true,
    includeBody: false,
  };
}

/** A sink that always takes more; records the order of notifications and barriers. */
class Recorder implements StanzaSink {
  readonly log: string[] = [];
  send(el: Element): boolean {
    this.log.push(el.attrs.to ?? "");
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/** Barriers the test answers by hand. */
class Barriers implements FlowControl {
  readonly asked: Array<() => void> = [];
  constructor(
    private readonly sink: Recorder,
    readonly every: number,
    readonly window: number,
  ) {}
  barrier(): Promise<void> {
    this.sink.log.push("barrier");
    return new Promise((resolve) => this.asked.push(resolve));
  }
  answer(k: number): void {
    for (const done of this.asked.splice(0, k)) done();
  }
}

const quiet = pino({ level: "silent" });
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe("Notifier: flow control through the server", () => {
  it("asks a barrier every `every` stanzas and stops with `window` unanswered", async () => {
    const sink = new Recorder();
    const flow = new Barriers(sink, 10, 2);
    const notifier = new Notifier(sink, new Addresses(C, []), quiet, undefined, flow);
    notifier.notify([published(100)]);
    await settle();
    // 10, barrier, 10, barrier, 10, barrier: the third barrier is one too many, so it waits.
    const sent = () => sink.log.filter((l) => l !== "barrier").length;
    expect(sent()).toBe(30);
    expect(sink.log.filter((l) => l === "barrier")).toHaveLength(3);
    expect(sink.log.slice(0, 11).at(-1)).toBe("barrier");
    flow.answer(1);
    await settle();
    expect(sent()).toBe(40);
    flow.answer(10);
    await settle();
    flow.answer(10);
    await settle();
    flow.answer(10);
    await notifier.idle();
    expect(sent()).toBe(100);
    // Every recipient exactly once, in order.
    expect(sink.log.filter((l) => l !== "barrier")).toEqual(
      Array.from({ length: 100 }, (_, i) => `r${i}@example.net`),
    );
  });

  it("without flow control sends everything at once", async () => {
    const sink = new Recorder();
    const notifier = new Notifier(sink, new Addresses(C, []), quiet);
    notifier.notify([published(500)]);
    await notifier.idle();
    expect(sink.log).toHaveLength(500);
  });
});

describe("Notifier: the backlog", () => {
  it("counts what is queued, is crowded over BACKLOG_HIGH and has room again under BACKLOG_LOW", async () => {
    const sink = new Recorder();
    const flow = new Barriers(sink, 1000, 1);
    const notifier = new Notifier(sink, new Addresses(C, []), quiet, undefined, flow);
    const size = BACKLOG_HIGH / 2 + 1;
    notifier.notify([published(size)]);
    notifier.notify([published(size, size)]);
    expect(notifier.backlog).toBe(2 * size);
    expect(notifier.crowded).toBe(true);
    let room = false;
    void notifier.room().then(() => {
      room = true;
    });
    // Answer barriers until the backlog falls to BACKLOG_LOW.
    while (notifier.backlog > BACKLOG_LOW + 2000) {
      flow.answer(1);
      await settle();
    }
    expect(room).toBe(false);
    while (!room) {
      flow.answer(1);
      await settle();
    }
    expect(notifier.backlog).toBeLessThanOrEqual(BACKLOG_LOW);
    expect(notifier.crowded).toBe(false);
    while (notifier.backlog > 0) {
      flow.answer(5);
      await settle();
    }
    flow.answer(100);
    await notifier.idle();
    expect(notifier.backlog).toBe(0);
    expect(sink.log.filter((l) => l !== "barrier")).toHaveLength(2 * size);
  });

  it("a failed fan-out gives its estimate back", async () => {
    const sink: StanzaSink = {
      send() {
        throw new Error("socket gone");
      },
      drained: () => Promise.resolve(),
    };
    const notifier = new Notifier(sink, new Addresses(C, []), quiet);
    notifier.notify([published(50)]);
    expect(notifier.backlog).toBe(50);
    await notifier.idle();
    expect(notifier.backlog).toBe(0);
  });
});

describe("Notifier: a publish's recipients a page at a time", () => {
  it("asks for the next page when it gets there, and sends every page in order", async () => {
    const sink = new Recorder();
    const asked: string[] = [];
    const pages = async (_ref: unknown, after: { createdAt: number; jid: string }) => {
      asked.push(after.jid);
      const from = Number(after.jid.slice(1, after.jid.indexOf("@"))) + 1;
      const page = published(Math.min(10, 25 - from), from).recipients;
      const last = page.at(-1);
      return from + 10 < 25 && last
        ? { recipients: page, next: { createdAt: 0, jid: last.jid } }
        : { recipients: page };
    };
    const notifier = new Notifier(sink, new Addresses(C, []), quiet, undefined, undefined, pages);
    const first = { ...published(5), more: { createdAt: 0, jid: "r4@example.net" } };
    notifier.notify([first]);
    await notifier.idle();
    expect(asked).toEqual(["r4@example.net", "r14@example.net"]);
    expect(sink.log).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}@example.net`));
    expect(notifier.backlog).toBe(0);
  });
});
