/** A payload taken out of its stanza keeps the namespaces it relied on from its ancestors. */
import { describe, expect, it } from "vitest";
import { WireError } from "../../../schemas/src/errors.js";
import { parseXml } from "../../../schemas/src/xml.js";
import { standalone } from "../../../schemas/src/xml-namespaces.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";

const entryOf = (doc: string) => {
  const iq = parseXml(doc);
  const entry = iq.getChild("pubsub")?.getChild("publish")?.getChild("item")?.getChildElements()[0];
  if (!entry) throw new Error("no entry");
  return entry;
};

describe("standalone", () => {
  it("declares on the root a prefix an ancestor declared", () => {
    const entry = entryOf(
      "<iq xmlns:thr='urn:thr' xmlns:x='urn:x'><pubsub><publish><item>" +
        "<entry xmlns='http://www.w3.org/2005/Atom'><thr:in-reply-to x:a='1' ref='r'/></entry>" +
        "</item></publish></pubsub></iq>",
    );
    const out = writeXml(standalone(entry));
    expect(out).toContain('xmlns:thr="urn:thr"');
    expect(out).toContain('xmlns:x="urn:x"');
    expect(parseXml(out).getChildElements()[0]?.getNS()).toBe("urn:thr");
  });

  it("leaves a self-contained element as it is (the same object)", () => {
    const entry = entryOf(
      "<iq><pubsub><publish><item><entry xmlns='http://www.w3.org/2005/Atom' xmlns:thr='urn:thr'>" +
        "<thr:in-reply-to ref='r'/></entry></item></publish></pubsub></iq>",
    );
    expect(standalone(entry)).toBe(entry);
  });

  it("writes the default namespace in scope on a root without one", () => {
    const entry = entryOf(
      "<iq><pubsub><publish><item xmlns='http://www.w3.org/2005/Atom'><entry><title>t</title></entry></item></publish></pubsub></iq>",
    );
    expect(standalone(entry).attrs.xmlns).toBe("http://www.w3.org/2005/Atom");
  });

  it("refuses a prefix declared nowhere", () => {
    const entry = entryOf(
      "<iq><pubsub><publish><item><entry xmlns='a'><p:x/></entry></item></publish></pubsub></iq>",
    );
    expect(() => standalone(entry)).toThrow(WireError);
  });
});
