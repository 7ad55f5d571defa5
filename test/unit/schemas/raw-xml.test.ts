/** Text written as it is: inside a tree, through ltx's clone, with forbidden characters replaced. */
import { clone } from "ltx";
import { describe, expect, it } from "vitest";
import { RawXml, xml } from "../../../schemas/src/xml.js";
import { type WriteStats, writeXml } from "../../../schemas/src/xml-writer.js";

describe("RawXml", () => {
  const raw = new RawXml("<entry xmlns='urn:a'><title>a &amp; b</title></entry>");

  it("is written as it is by writeXml and by ltx's toString", () => {
    const tree = xml("item", { id: "1" }, raw);
    expect(writeXml(tree)).toBe(
      `<item id="1"><entry xmlns='urn:a'><title>a &amp; b</title></entry></item>`,
    );
    expect(tree.toString()).toBe(writeXml(tree));
  });

  it("survives ltx's clone with the same text", () => {
    expect(writeXml(xml("item", null, clone(raw)))).toBe(writeXml(xml("item", null, raw)));
  });

  it("still never carries a character XML forbids", () => {
    const stats: WriteStats = { replaced: 0 };
    expect(writeXml(new RawXml("<a>\u0001</a>"), stats)).toBe("<a>\uFFFD</a>");
    expect(stats.replaced).toBe(1);
  });
});

describe("RawXml.written", () => {
  it("is text writeXml wrote: kept as it is, through clone too", () => {
    const text = writeXml(xml("body", null, "a\u0001b"));
    const raw = RawXml.written(text);
    expect(writeXml(xml("m", null, raw))).toBe(`<m>${text}</m>`);
    expect(writeXml(xml("m", null, clone(raw)))).toBe(`<m>${text}</m>`);
  });
});
