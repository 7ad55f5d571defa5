/** The component's stream parser: whole stanzas, and refusals for stanzas too deep or too long. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { refusedStanzaReply } from "../../../component/src/protocol/refused-stanza.js";
import {
  DEFAULT_STANZA_LIMITS,
  type RefusalKind,
  StanzaParser,
} from "../../../component/src/protocol/stanza-parser.js";
import type { Element } from "../../../schemas/src/xml.js";

const OPEN =
  "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1'>";

function collect(limits = DEFAULT_STANZA_LIMITS) {
  const parser = new StanzaParser(limits);
  const got: { elements: Element[]; refused: [Element, RefusalKind][]; errors: Error[] } = {
    elements: [],
    refused: [],
    errors: [],
  };
  parser.on("element", (el: Element) => got.elements.push(el));
  parser.on("refused", (el: Element, kind: RefusalKind) => got.refused.push([el, kind]));
  parser.on("error", (err: Error) => got.errors.push(err));
  return { parser, got };
}

const nested = (depth: number, inner = "") =>
  `${"<a>".repeat(depth)}${inner}${"</a>".repeat(depth)}`;

describe("StanzaParser", () => {
  it("hands on whole stanzas, whatever the chunks", () => {
    const text = `${OPEN} <iq type='get' id='1' to='c'><ping xmlns='urn:xmpp:ping'/></iq>\n<message to='u@c'><body>a &amp; b</body></message>`;
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 6 }), (cuts) => {
        const { parser, got } = collect();
        const points = [...new Set([0, ...cuts.sort((a, b) => a - b), text.length])];
        for (let i = 1; i < points.length; i++) parser.write(text.slice(points[i - 1], points[i]));
        expect(got.elements.map((e) => e.toString())).toEqual([
          '<iq type="get" id="1" to="c"><ping xmlns="urn:xmpp:ping"/></iq>',
          '<message to="u@c"><body>a &amp; b</body></message>',
        ]);
        expect(got.refused).toEqual([]);
      }),
    );
  });

  it("refuses a stanza nested deeper than the limit, keeping its first levels only", () => {
    const { parser, got } = collect();
    parser.write(`${OPEN}<iq type='get' id='deep' to='c' from='m@d/r'>${nested(20_000)}</iq>`);
    parser.write("<iq type='get' id='next' to='c'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(got.refused).toHaveLength(1);
    const [el, kind] = got.refused[0] as [Element, RefusalKind];
    expect(kind).toBe("depth");
    expect(el.attrs).toMatchObject({ id: "deep", from: "m@d/r" });
    let depth = 1;
    for (let c = el.getChildElements()[0]; c; c = c.getChildElements()[0]) depth++;
    expect(depth).toBe(DEFAULT_STANZA_LIMITS.maxDepth);
    expect(got.elements.map((e) => e.attrs.id)).toEqual(["next"]);
  });

  it("accepts a stanza exactly at the depth limit", () => {
    const { parser, got } = collect();
    parser.write(`${OPEN}<iq id='ok'>${nested(DEFAULT_STANZA_LIMITS.maxDepth - 1)}</iq>`);
    expect(got.elements).toHaveLength(1);
    expect(got.refused).toHaveLength(0);
  });

  it("refuses a stanza longer than the size limit, in text or in attributes", () => {
    const { parser, got } = collect({ maxDepth: 64, maxChars: 1000 });
    parser.write(`${OPEN}<message id='t'><body>${"x".repeat(2000)}</body></message>`);
    parser.write(`<message id='a'><x v='${"y".repeat(2000)}'/></message>`);
    parser.write("<message id='fine'><body>short</body></message>");
    expect(got.refused.map(([el, kind]) => [el.attrs.id, kind])).toEqual([
      ["t", "size"],
      ["a", "size"],
    ]);
    expect(got.elements.map((e) => e.attrs.id)).toEqual(["fine"]);
  });

  it("ignores whitespace between stanzas (keepalives) and reports bad XML as an error", () => {
    const { parser, got } = collect();
    parser.write(`${OPEN}   \n  `);
    parser.write("<a></b>");
    expect(got.errors).toHaveLength(1);
    expect(got.elements).toHaveLength(0);
  });
});

describe("refusedStanzaReply", () => {
  const parse = (text: string): Element => {
    const { parser, got } = collect();
    parser.write(`${OPEN}${text}`);
    const el = got.refused[0]?.[0] ?? got.elements[0];
    if (!el) throw new Error("nothing parsed");
    return el;
  };
  const conditionOf = (reply: Element | undefined) => {
    const error = reply?.getChild("error");
    return [error?.attrs.type, ...(error?.getChildElements().map((c) => c.name) ?? [])];
  };

  it("answers an IQ with policy-violation (modify)", () => {
    const iq = parse(`<iq type='get' id='q1' from='m@d/r' to='c'>${nested(100)}</iq>`);
    const reply = refusedStanzaReply(iq, "depth", DEFAULT_STANZA_LIMITS);
    expect(reply?.attrs).toMatchObject({ type: "error", id: "q1", to: "m@d/r", from: "c" });
    expect(conditionOf(reply)).toEqual(["modify", "policy-violation", "text"]);
  });

  it("answers a publish with invalid-payload (depth) or payload-too-big (size)", () => {
    const publish = parse(
      `<iq type='set' id='p1' to='u@c'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item>${nested(100)}</item></publish></pubsub></iq>`,
    );
    expect(conditionOf(refusedStanzaReply(publish, "depth", DEFAULT_STANZA_LIMITS))).toEqual([
      "modify",
      "bad-request",
      "text",
      "invalid-payload",
    ]);
    expect(conditionOf(refusedStanzaReply(publish, "size", DEFAULT_STANZA_LIMITS))).toEqual([
      "modify",
      "not-acceptable",
      "text",
      "payload-too-big",
    ]);
  });

  it("does not answer messages, presences, or IQ results and errors", () => {
    for (const text of [
      `<message id='m'>${nested(100)}</message>`,
      `<presence id='p'>${nested(100)}</presence>`,
      `<iq type='result' id='r'>${nested(100)}</iq>`,
    ])
      expect(refusedStanzaReply(parse(text), "depth", DEFAULT_STANZA_LIMITS)).toBeUndefined();
  });
});
