/**
 * The notifier turns the bus's events into stanzas: XEP-0060 §7 event messages from u@C (with
 * a readable body where included), §8.6 approval forms, §12.7 subscription notices, the last
 * item with an XEP-0203 delay; delivered in order, in chunks that wait for the connection.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type {
  ItemPublished,
  LastItemForSubscriber,
  Recipient,
  SubscriptionChanged,
} from "../../../component/src/domain/events.js";
import {
  defaultNodeConfig,
  type Item,
  MICROBLOG_NODE,
} from "../../../component/src/domain/types.js";
import { Addresses } from "../../../component/src/protocol/addresses.js";
import type { BusEvent } from "../../../component/src/protocol/event-bus.js";
import { Notifier, type StanzaSink } from "../../../component/src/protocol/notifier.js";
import { parseDataForm } from "../../../schemas/src/data-form.js";
import {
  NS_ATOM,
  NS_DATA_FORMS,
  NS_DELAY,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
} from "../../../schemas/src/ns.js";
import { parseEvent, parseSubscribeAuthorizationAnswer } from "../../../schemas/src/pubsub.js";
import { type Element, parseXml } from "../../../schemas/src/xml.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";

const C = "mb.example.org";
const D = "example.org";
const SERVICE = `alice@${C}`;
const OWNER = `alice@${D}`;
const NODE = { service: SERVICE, node: MICROBLOG_NODE };
const UPDATED = Date.UTC(2024, 2, 1, 12, 30, 15);

const entry = (text: string) =>
  `<entry xmlns='${NS_ATOM}'><title>${text}</title><content>${text}</content>` +
  `<id>tag:${C},2024-03-01:alice/posts/p1</id></entry>`;

const item = (payload = entry("hello world"), id = "p1"): Item => ({
  id,
  payload,
  publisher: OWNER,
  createdAt: UPDATED - 60_000,
  updatedAt: UPDATED,
  seq: 1,
});

const recipient = (jid: string, includeBody?: boolean): Recipient =>
  includeBody === undefined
    ? { jid, subid: `sub-${jid}` }
    : { jid, subid: `sub-${jid}`, includeBody };

function published(recipients: Recipient[], over: Partial<ItemPublished> = {}): ItemPublished {
  return {
    type: "item-published",
    ...NODE,
    item: item(),
    recipients,
    deliverPayloads: true,
    includeBody: true,
    ...over,
  };
}

/**
 * A connection: records what is sent; `refuse(n)` makes send() of the n-th stanza (1-based)
 * return false; drained() is recorded with the number of stanzas sent so far, and resolves on a
 * later macrotask (or only when `release()` is called, while `hold` is on). A stanza sent while
 * a drained() is pending is a violation: the notifier did not wait.
 */
class FakeSink implements StanzaSink {
  readonly sent: Element[] = [];
  /** For each drained() call: how many stanzas had been sent. */
  readonly drainedAt: number[] = [];
  /** Stanzas sent while a drained() had not resolved yet. */
  violations = 0;
  hold = false;
  private pending = false;
  private releases: (() => void)[] = [];

  constructor(private readonly refuse: (n: number) => boolean = () => false) {}

  /** Keeps what the wire carries: the text of the stanza, read back as a tree. */
  send(el: Element): boolean {
    if (this.pending) this.violations++;
    this.sent.push(parseXml(writeXml(el)));
    return !this.refuse(this.sent.length);
  }

  drained(): Promise<void> {
    this.drainedAt.push(this.sent.length);
    this.pending = true;
    return new Promise((resolve) => {
      const done = () => {
        this.pending = false;
        resolve();
      };
      if (this.hold) this.releases.push(done);
      else setTimeout(done, 0);
    });
  }

  /** Let every held drained() resolve. */
  release(): void {
    this.hold = false;
    for (const done of this.releases.splice(0)) done();
  }
}

function setup(sink = new FakeSink()) {
  const logs: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const notifier = new Notifier(sink, new Addresses(C, [D]), log);
  /** Deliver `events` and wait until all of it has been handed to the sink. */
  const deliver = async (...events: BusEvent[]) => {
    notifier.notify(events);
    await notifier.idle();
    return sink.sent;
  };
  const errors = () => logs.filter((l) => l.level >= 50);
  return { sink, notifier, deliver, logs, errors };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

const eventOf = (m: Element) => m.getChild("event", NS_PUBSUB_EVENT);
const bodyOf = (m: Element) => m.getChildText("body");

describe("Notifier: item-published", () => {
  it("sends each recipient a headline from u@C with the item, and the body where included", async () => {
    const { deliver, errors } = setup();
    const sent = await deliver(
      published([
        recipient("bob@example.org"),
        recipient("carol@remote.example/laptop", false),
        recipient("dave@example.org", true),
      ]),
    );
    expect(sent).toHaveLength(3);
    expect(sent.map((m) => m.attrs.to)).toEqual([
      "bob@example.org",
      "carol@remote.example/laptop",
      "dave@example.org",
    ]);
    for (const m of sent) {
      expect(m.name).toBe("message");
      expect(m.attrs).toMatchObject({ type: "headline", from: SERVICE });
      const event = parseEvent(m);
      expect(event).toMatchObject({ kind: "items", node: MICROBLOG_NODE, retracts: [] });
      if (event.kind !== "items") throw new Error("not an items event");
      expect(event.items).toHaveLength(1);
      expect(event.items[0]?.id).toBe("p1");
      const payload = event.items[0]?.payload;
      expect(payload?.is("entry", NS_ATOM)).toBe(true);
      expect(payload?.getChildText("content", NS_ATOM)).toBe("hello world");
    }
    expect(sent.map(bodyOf)).toEqual([`${OWNER}: hello world`, null, `${OWNER}: hello world`]);
    expect(new Set(sent.map((m) => m.attrs.id)).size).toBe(3);
    expect(sent.every((m) => typeof m.attrs.id === "string" && m.attrs.id !== "")).toBe(true);
    expect(errors()).toEqual([]);
  });

  it("adds the body for a subscriber who asked for it on a node without bodies", async () => {
    const { deliver } = setup();
    const sent = await deliver(
      published([recipient("bob@example.org"), recipient("dave@example.org", true)], {
        includeBody: false,
      }),
    );
    expect(sent.map(bodyOf)).toEqual([null, `${OWNER}: hello world`]);
  });

  it("sends <item id/> without the payload when the node does not deliver payloads", async () => {
    const { deliver } = setup();
    const [m] = await deliver(
      published([recipient("bob@example.org")], { deliverPayloads: false }),
    );
    const itemEl = eventOf(m as Element)
      ?.getChild("items")
      ?.getChild("item");
    expect(itemEl?.attrs.id).toBe("p1");
    expect(itemEl?.getChildElements()).toEqual([]);
  });

  it("notifies without a body, and never throws, for a payload that is not XML or not Atom", async () => {
    const { deliver, errors, logs } = setup();
    const notXml = published([recipient("bob@example.org")], {
      item: item("<entry xmlns='http://www.w3.org/2005/Atom'><title>broken", "bad"),
    });
    const notAtom = published([recipient("bob@example.org")], {
      item: item("<geoloc xmlns='http://jabber.org/protocol/geoloc'><lat>45</lat></geoloc>", "geo"),
    });
    const sent = await deliver(notXml, notAtom);
    expect(sent).toHaveLength(2);
    const [first, second] = sent as [Element, Element];
    const badItem = eventOf(first)?.getChild("items")?.getChild("item");
    expect(badItem?.attrs.id).toBe("bad");
    expect(badItem?.getChildElements()).toEqual([]);
    expect(bodyOf(first)).toBeNull();
    const geoItem = eventOf(second)?.getChild("items")?.getChild("item");
    expect(geoItem?.attrs.id).toBe("geo");
    expect(geoItem?.getChild("geoloc", "http://jabber.org/protocol/geoloc")).toBeDefined();
    expect(bodyOf(second)).toBeNull();
    expect(errors()).toEqual([]);
    expect(logs.some((l) => l.level === 40 && l.msg === "stored payload is not XML")).toBe(true);
  });
});

describe("Notifier: other events", () => {
  it("fans out a retraction with <retract/> elements", async () => {
    const { deliver } = setup();
    const sent = await deliver({
      type: "items-retracted",
      ...NODE,
      itemIds: ["p1", "p2"],
      cause: "retract",
      recipients: [recipient("bob@example.org"), recipient("dave@example.org")],
    });
    expect(sent.map((m) => m.attrs.to)).toEqual(["bob@example.org", "dave@example.org"]);
    for (const m of sent) {
      expect(m.attrs).toMatchObject({ type: "headline", from: SERVICE });
      expect(parseEvent(m)).toEqual({
        kind: "items",
        node: MICROBLOG_NODE,
        items: [],
        retracts: ["p1", "p2"],
      });
      expect(bodyOf(m)).toBeNull();
    }
  });

  it("fans out a purge", async () => {
    const { deliver } = setup();
    const sent = await deliver({
      type: "node-purged",
      ...NODE,
      recipients: [recipient("bob@example.org")],
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.attrs).toMatchObject({
      type: "headline",
      from: SERVICE,
      to: "bob@example.org",
    });
    expect(parseEvent(sent[0] as Element)).toEqual({ kind: "purge", node: MICROBLOG_NODE });
  });

  it("fans out a deletion, with its redirect when there is one", async () => {
    const { deliver } = setup();
    const redirect = `xmpp:${SERVICE}?;node=elsewhere`;
    const sent = await deliver(
      { type: "node-deleted", ...NODE, recipients: [recipient("bob@example.org")], redirect },
      { type: "node-deleted", ...NODE, recipients: [recipient("dave@example.org")] },
    );
    expect(sent.map((m) => m.attrs.to)).toEqual(["bob@example.org", "dave@example.org"]);
    expect(sent[0]?.attrs).toMatchObject({ type: "headline", from: SERVICE });
    expect(parseEvent(sent[0] as Element)).toEqual({
      kind: "delete",
      node: MICROBLOG_NODE,
      redirect,
    });
    expect(
      eventOf(sent[0] as Element)
        ?.getChild("delete")
        ?.getChild("redirect")?.attrs.uri,
    ).toBe(redirect);
    expect(parseEvent(sent[1] as Element)).toEqual({ kind: "delete", node: MICROBLOG_NODE });
  });

  it("fans out a configuration change, with the form only when payloads are delivered", async () => {
    const { deliver } = setup();
    const config = defaultNodeConfig(OWNER);
    const sent = await deliver(
      {
        type: "configuration-changed",
        ...NODE,
        config,
        recipients: [recipient("bob@example.org")],
        deliverPayloads: true,
      },
      {
        type: "configuration-changed",
        ...NODE,
        config,
        recipients: [recipient("bob@example.org")],
        deliverPayloads: false,
      },
    );
    const [withForm, without] = sent.map((m) => eventOf(m)?.getChild("configuration"));
    expect(withForm?.attrs.node).toBe(MICROBLOG_NODE);
    expect(withForm?.getChild("x", NS_DATA_FORMS)?.attrs.type).toBe("result");
    expect(without?.attrs.node).toBe(MICROBLOG_NODE);
    expect(without?.getChildElements()).toEqual([]);
  });

  it("sends nothing for a created node", async () => {
    const { deliver } = setup();
    expect(await deliver({ type: "node-created", ...NODE, owner: OWNER })).toEqual([]);
  });

  const changed = (over: Partial<SubscriptionChanged>): SubscriptionChanged => ({
    type: "subscription-changed",
    ...NODE,
    jid: "carol@remote.example",
    subid: "sub-7",
    state: "subscribed",
    owner: OWNER,
    notifyOwner: false,
    cause: "approved",
    ...over,
  });

  it("tells the subscriber of an approval and of a denial, in a normal message with a body", async () => {
    const { deliver } = setup();
    const sent = await deliver(
      changed({ state: "subscribed", cause: "approved" }),
      changed({ state: "none", cause: "denied" }),
    );
    expect(sent).toHaveLength(2);
    const [approved, denied] = sent as [Element, Element];
    for (const m of sent) {
      expect(m.name).toBe("message");
      expect(m.attrs.type).toBeUndefined();
      expect(m.attrs).toMatchObject({ from: SERVICE, to: "carol@remote.example" });
    }
    expect(parseEvent(approved)).toEqual({
      kind: "subscription",
      subscription: {
        node: MICROBLOG_NODE,
        jid: "carol@remote.example",
        subscription: "subscribed",
        subid: "sub-7",
      },
    });
    expect(bodyOf(approved)).toBe(`You now follow ${OWNER}'s microblog (${SERVICE}).`);
    expect(parseEvent(denied)).toMatchObject({
      kind: "subscription",
      subscription: { jid: "carol@remote.example", subscription: "none" },
    });
    expect(bodyOf(denied)).toBe(`${OWNER} declined your request to follow their microblog.`);
  });

  it("does not tell a subscriber of its own subscribe, but tells the owner with notify_sub", async () => {
    const { deliver } = setup();
    const sent = await deliver(changed({ cause: "subscribe", notifyOwner: true }));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.attrs).toMatchObject({ type: "headline", from: SERVICE, to: OWNER });
    expect(bodyOf(sent[0] as Element)).toBe("carol@remote.example now follows your microblog.");
  });

  it("sends the owner the §8.6 approval form with a readable body", async () => {
    const { deliver } = setup();
    const sent = await deliver({
      type: "subscription-requested",
      ...NODE,
      jid: "carol@remote.example",
      subid: "sub-9",
      owner: OWNER,
    });
    expect(sent).toHaveLength(1);
    const m = sent[0] as Element;
    expect(m.name).toBe("message");
    expect(m.attrs.type).toBeUndefined();
    expect(m.attrs).toMatchObject({ from: SERVICE, to: OWNER });
    const x = m.getChild("x", NS_DATA_FORMS) as Element;
    const form = parseDataForm(x);
    expect(form).toMatchObject({ type: "form", formType: NS_PUBSUB_SUBSCRIBE_AUTHORIZATION });
    expect(parseSubscribeAuthorizationAnswer(x)).toEqual({
      cancelled: false,
      node: MICROBLOG_NODE,
      subscriberJid: "carol@remote.example",
      subid: "sub-9",
      allow: false,
    });
    const body = bodyOf(m) ?? "";
    expect(body).toContain("carol@remote.example asks to follow your microblog");
    expect(body).toContain(SERVICE);
    expect(body).toContain(`"approve" / "deny" at ${C}`);
  });

  it("sends a new subscriber the last item, stamped with an XEP-0203 delay", async () => {
    const { deliver } = setup();
    const last: LastItemForSubscriber = {
      type: "last-item-for-subscriber",
      ...NODE,
      item: item(entry("old news")),
      recipient: recipient("carol@remote.example/laptop"),
      deliverPayloads: true,
      includeBody: true,
    };
    const sent = await deliver(last, {
      ...last,
      recipient: recipient("bob@example.org", false),
    });
    expect(sent).toHaveLength(2);
    const [m, noBody] = sent as [Element, Element];
    expect(m.attrs).toMatchObject({
      type: "headline",
      from: SERVICE,
      to: "carol@remote.example/laptop",
    });
    const event = parseEvent(m);
    if (event.kind !== "items") throw new Error("not an items event");
    expect(event.items[0]?.id).toBe("p1");
    expect(event.items[0]?.payload?.getChildText("content", NS_ATOM)).toBe("old news");
    expect(m.getChild("delay", NS_DELAY)?.attrs).toMatchObject({
      from: SERVICE,
      stamp: "2024-03-01T12:30:15Z",
    });
    expect(bodyOf(m)).toBe(`${OWNER}: old news`);
    expect(noBody.attrs.to).toBe("bob@example.org");
    expect(noBody.getChild("delay", NS_DELAY)).toBeDefined();
    expect(bodyOf(noBody)).toBeNull();
  });
});

describe("Notifier: order and flow control", () => {
  it("delivers the events of two notify() calls in the order given, the second after the first", async () => {
    const sink = new FakeSink((n) => n === 1);
    sink.hold = true;
    const { notifier } = setup(sink);
    notifier.notify([
      published([recipient("a@example.org"), recipient("b@example.org")]),
      { type: "node-purged", ...NODE, recipients: [recipient("c@example.org")] },
    ]);
    notifier.notify([
      {
        type: "items-retracted",
        ...NODE,
        itemIds: ["p1"],
        cause: "retract",
        recipients: [recipient("d@example.org")],
      },
    ]);
    await ticks();
    // The first send was refused: nothing more goes out until the connection has drained.
    expect(sink.sent.map((m) => m.attrs.to)).toEqual(["a@example.org"]);
    sink.release();
    await notifier.idle();
    expect(sink.sent.map((m) => m.attrs.to)).toEqual([
      "a@example.org",
      "b@example.org",
      "c@example.org",
      "d@example.org",
    ]);
    expect(sink.sent.map((m) => eventOf(m)?.getChildElements()[0]?.name)).toEqual([
      "items",
      "items",
      "purge",
      "items",
    ]);
    expect(sink.violations).toBe(0);
  });

  it("waits for the connection to drain at every 100 stanzas and whenever send() refused", async () => {
    const refused = new Set([42, 150, 151]);
    const sink = new FakeSink((n) => refused.has(n));
    const { deliver } = setup(sink);
    const recipients = Array.from({ length: 250 }, (_, i) => recipient(`u${i}@example.org`));
    const sent = await deliver(published(recipients));
    expect(sent).toHaveLength(250);
    expect(sent.map((m) => m.attrs.to)).toEqual(recipients.map((r) => r.jid));
    for (const at of [42, 100, 150, 151, 200]) expect(sink.drainedAt).toContain(at);
    // Never more than 100 stanzas between two waits (and none sent while waiting).
    const marks = [0, ...sink.drainedAt, 250];
    for (let i = 1; i < marks.length; i++)
      expect((marks[i] as number) - (marks[i - 1] as number)).toBeLessThanOrEqual(100);
    expect(sink.violations).toBe(0);
  });

  it("idle() resolves only once everything queued has been handed over", async () => {
    const sink = new FakeSink();
    sink.hold = true;
    const { notifier } = setup(sink);
    const recipients = Array.from({ length: 150 }, (_, i) => recipient(`u${i}@example.org`));
    notifier.notify([published(recipients)]);
    let idle = false;
    const done = notifier.idle().then(() => {
      idle = true;
    });
    await ticks();
    expect(sink.sent).toHaveLength(100);
    expect(idle).toBe(false);
    sink.release();
    await done;
    expect(idle).toBe(true);
    expect(sink.sent).toHaveLength(150);
  });

  it("idle() resolves at once when nothing was queued, and notify([]) sends nothing", async () => {
    const { notifier, sink } = setup();
    notifier.notify([]);
    await notifier.idle();
    expect(sink.sent).toEqual([]);
  });

  it("logs a failing fan-out and goes on with the next events", async () => {
    let first = true;
    const sink = new FakeSink();
    const send = sink.send.bind(sink);
    sink.send = (el) => {
      if (first) {
        first = false;
        throw new Error("socket gone");
      }
      return send(el);
    };
    const { notifier, errors } = setup(sink);
    notifier.notify([published([recipient("a@example.org"), recipient("b@example.org")])]);
    notifier.notify([published([recipient("c@example.org")])]);
    await expect(notifier.idle()).resolves.toBeUndefined();
    expect(sink.sent.map((m) => m.attrs.to)).toEqual(["c@example.org"]);
    expect(errors().map((l) => l.msg)).toEqual(["notification fan-out failed"]);
  });
});
