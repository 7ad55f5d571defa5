/** The one XML writer: never a character XML 1.0 forbids, any depth, the same tree back. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import { decodeCharRef, isXmlChar, toXmlText } from "../../../schemas/src/xml-chars.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";

/** Any string, control characters and lone surrogates included. */
const anyText = fc.string({ unit: "binary", maxLength: 40 });
const name = fc.constantFrom("a", "b", "body", "x:y", "entry");

const tree: fc.Arbitrary<Element> = fc.letrec<{ el: Element }>((tie) => ({
  el: fc
    .tuple(
      name,
      fc.dictionary(fc.constantFrom("id", "to", "type", "xml:lang"), anyText, { maxKeys: 3 }),
      fc.array(fc.oneof({ depthSize: "small" }, anyText, tie("el")), { maxLength: 4 }),
    )
    .map(([n, attrs, children]) => xml(n, attrs, ...children)),
})).el;

const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

describe("writeXml", () => {
  it("writes only characters XML allows, and what it writes parses", () => {
    fc.assert(
      fc.property(tree, (el) => {
        const text = writeXml(el);
        expect(FORBIDDEN.test(text)).toBe(false);
        expect(() => parseXml(text)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it("gives back the same tree when there is nothing to replace (text and attributes exact)", () => {
    const clean = fc.string({ maxLength: 30 }).filter((s) => !FORBIDDEN.test(s));
    fc.assert(
      fc.property(clean, clean, (text, attr) => {
        const el = xml("message", { id: attr }, xml("body", null, text));
        const back = parseXml(writeXml(el));
        expect(back.attrs.id).toBe(attr);
        expect(back.getChildText("body")).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("replaces forbidden characters with U+FFFD and counts them", () => {
    const stats = { replaced: 0 };
    const el = xml(
      "message",
      { id: "a\u0001b" },
      xml("body", null, "ctl \u0001 char \uFFFF \uD800"),
    );
    expect(writeXml(el, stats)).toBe(
      '<message id="a\uFFFDb"><body>ctl \uFFFD char \uFFFD \uFFFD</body></message>',
    );
    expect(stats.replaced).toBe(4);
  });

  it("keeps tabs and line breaks in attribute values, and \\r in text", () => {
    const el = xml("x", { v: "a\tb\nc\rd" }, "l1\r\nl2");
    const back = parseXml(writeXml(el));
    expect(back.attrs.v).toBe("a\tb\nc\rd");
    expect(back.getText()).toBe("l1\r\nl2");
  });

  it("writes a tree nested 100,000 deep (no recursion)", () => {
    const root = xml("a");
    let cursor = root;
    for (let i = 0; i < 100_000; i++) {
      const child = xml("a");
      cursor.children.push(child);
      cursor = child;
    }
    const text = writeXml(root);
    expect(text.length).toBe(100_000 * 7 + 4);
  });

  it("writes what ltx writes for ordinary stanzas", () => {
    const el = xml(
      "iq",
      { type: "result", id: "1", to: "a@b/c" },
      xml("query", { xmlns: "jabber:iq:version" }, xml("name", null, "Warble & <co>")),
      xml("empty"),
    );
    expect(writeXml(el)).toBe(el.toString().replace(/'/g, "&apos;"));
  });
});

describe("XML characters", () => {
  it("isXmlChar follows XML 1.0 §2.2", () => {
    for (const cp of [0x9, 0xa, 0xd, 0x20, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x10ffff])
      expect(isXmlChar(cp)).toBe(true);
    for (const cp of [0x0, 0x1, 0x8, 0xb, 0x1f, 0xd800, 0xdfff, 0xfffe, 0xffff, 0x110000])
      expect(isXmlChar(cp)).toBe(false);
  });

  it("decodeCharRef refuses what is not a character", () => {
    expect(decodeCharRef("x41")).toBe("A");
    expect(decodeCharRef("X1F600")).toBe("😀");
    expect(decodeCharRef("233")).toBe("é");
    for (const digits of ["1", "x1", "xFFFF", "xFFFE", "xD800", "x110000", "99999999999", "x", ""])
      expect(decodeCharRef(digits)).toBeUndefined();
  });

  it("toXmlText counts what it replaces and leaves clean text alone", () => {
    let n = 0;
    expect(toXmlText("fine", () => n++)).toBe("fine");
    expect(n).toBe(0);
    expect(toXmlText("\u0000\u0001ok", (k) => (n += k))).toBe("\uFFFD\uFFFDok");
    expect(n).toBe(2);
  });
});
