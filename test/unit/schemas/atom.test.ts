import { describe, expect, it } from "vitest";
import {
  AtomEntryError,
  buildAtomEntry,
  buildEntry,
  type CompleteEntryContext,
  completeEntry,
  entryTagUri,
  entryText,
  itemUri,
  notificationBody,
  parseEntry,
} from "../../../schemas/src/atom.js";
import { NS_ATOM, NS_PUBSUB } from "../../../schemas/src/ns.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza } from "./fixtures.js";

/** The Atom entry inside a fixture's publish or event item. */
function entryIn(fixture: string): Element {
  const stanza = loadStanza(`atom/${fixture}`);
  const container =
    stanza.getChild("pubsub", NS_PUBSUB)?.getChild("publish") ??
    stanza.getChild("event")?.getChild("items");
  const entry = container?.getChild("item")?.getChild("entry", NS_ATOM);
  if (!entry) throw new Error(`no entry in ${fixture}`);
  return entry;
}

const ctx: CompleteEntryContext = {
  itemId: "01HXYZ",
  serviceJid: "romeo@microblog.montague.lit",
  ownerJid: "romeo@montague.lit",
  authorName: "Romeo Montague",
  now: new Date("2024-05-01T12:00:00.123Z"),
};

describe("Atom entries (XEP-0277 examples)", () => {
  it("reads a post", () => {
    expect(parseEntry(entryIn("publish-post"))).toEqual({
      title: { type: "text", text: "hanging out at the Café Napolitano" },
      id: "tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db",
      published: "2008-05-08T18:30:02Z",
      updated: "2008-05-08T18:30:02Z",
      links: [],
      inReplyTo: [],
      categories: [],
    });
  });

  it("reads a reply: author, links, both thr:in-reply-to", () => {
    const entry = parseEntry(entryIn("publish-reply"));
    expect(entry.author).toEqual({ name: "Benvolio Montague", uri: "xmpp:romeo@montague.lit" });
    expect(entry.links[1]).toEqual({
      rel: "alternate",
      href: "xmpp:benvolio@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=c4145006-1c53-11dd-b2d5-000bcd82471e",
    });
    expect(entry.inReplyTo).toEqual([
      {
        ref: "tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db",
        type: "application/xhtml+xml",
        href: "http://montague.lit/romeo/posts/1cb57d9c-1c46-11dd-838c-001143d5d5db",
      },
      {
        ref: "tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db",
        href: "xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c-1c46-11dd-838c-001143d5d5db",
      },
    ]);
  });

  it("reads a repeat's via link apart from the other links", () => {
    const entry = parseEntry(entryIn("repeat-post"));
    expect(entry.via).toEqual({
      rel: "via",
      href: "xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c-1c46-11dd-838c-001143d5d5db",
      ref: "tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db",
    });
    expect(entry.links.map((l) => l.rel)).toEqual(["alternate", "alternate"]);
  });

  it("takes the text of xhtml content", () => {
    expect(parseEntry(entryIn("publish-rich")).title).toEqual({
      type: "xhtml",
      text: "hanging out at the Café Napolitano",
    });
    const html = xml(
      "entry",
      { xmlns: NS_ATOM },
      xml("content", { type: "html" }, "<p>a &amp; <b>b</b></p>"),
    );
    expect(entryText(html)).toBe("a & b");
  });

  for (const name of ["publish-post", "repeat-post", "comments-link"]) {
    it(`${name}: parse then build gives the spec's XML`, () => {
      const entry = entryIn(name);
      expect(canonical(buildAtomEntry(parseEntry(entry)))).toBe(canonical(entry));
    });
  }

  for (const name of ["publish-reply", "receive-post", "geotag"]) {
    it(`${name}: build then parse gives the same typed entry`, () => {
      const parsed = parseEntry(entryIn(name));
      expect(parseEntry(buildAtomEntry(parsed))).toEqual(parsed);
    });
  }

  it("builds a client post with reply and repeat links", () => {
    const el = buildEntry({
      text: "@romeo cappuccino this late in the day?",
      inReplyTo: {
        ref: "tag:x,2008-05-08:posts-1",
        href: "xmpp:romeo@montague.lit?;node=n;item=1",
      },
      via: { href: "xmpp:juliet@capulet.lit?;node=n;item=2", ref: "tag:y,2008:2" },
      categories: ["coffee"],
    });
    const reparsed = parseXml(el.toString());
    expect(parseEntry(reparsed)).toEqual({
      title: { type: "text", text: "@romeo cappuccino this late in the day?" },
      links: [],
      via: { rel: "via", href: "xmpp:juliet@capulet.lit?;node=n;item=2", ref: "tag:y,2008:2" },
      inReplyTo: [
        { ref: "tag:x,2008-05-08:posts-1", href: "xmpp:romeo@montague.lit?;node=n;item=1" },
      ],
      categories: [{ term: "coffee" }],
    });
    expect(entryText(reparsed)).toBe("@romeo cappuccino this late in the day?");
    expect(notificationBody("benvolio@montague.lit", reparsed)).toBe(
      "benvolio@montague.lit: @romeo cappuccino this late in the day?",
    );
  });
});

describe("completeEntry", () => {
  it("completes a client post: id, published kept, updated, author, alternate link", () => {
    const completed = completeEntry(entryIn("publish-post"), ctx);
    const expected = parseXml(`<entry xmlns='http://www.w3.org/2005/Atom'>
      <author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>
      <title type='text'>hanging out at the Caf&#233; Napolitano</title>
      <link rel='alternate' href='xmpp:romeo@microblog.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=01HXYZ'/>
      <id>tag:microblog.montague.lit,2008-05-08:romeo/posts/01HXYZ</id>
      <published>2008-05-08T18:30:02Z</published>
      <updated>2024-05-01T12:00:00Z</updated>
    </entry>`);
    expect(canonical(completed)).toBe(canonical(expected));
  });

  it("returns a new element and leaves the client's alone", () => {
    const entry = entryIn("publish-post");
    const before = entry.toString();
    expect(completeEntry(entry, ctx)).not.toBe(entry);
    expect(entry.toString()).toBe(before);
  });

  it("overwrites a forged author and xmpp alternate links; keeps via, replies, geoloc, http links", () => {
    const completed = parseXml(completeEntry(entryIn("repeat-post"), ctx).toString());
    const entry = parseEntry(completed);
    expect(entry.author).toEqual({ name: "Romeo Montague", uri: "xmpp:romeo@montague.lit" });
    expect(entry.links).toEqual([
      {
        rel: "alternate",
        type: "text/html",
        href: "http://montague.lit/benvolio/posts/1re57d3c-1q46-11dd-748r-024943d2d5rt",
      },
      { rel: "alternate", href: itemUri(ctx.serviceJid, "urn:xmpp:microblog:0", "01HXYZ") },
    ]);
    expect(entry.via?.ref).toBe(
      "tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db",
    );
    expect(completed.getChildren("author", NS_ATOM)).toHaveLength(1);
    expect(parseEntry(completeEntry(entryIn("publish-reply"), ctx)).inReplyTo).toHaveLength(2);
    const geo = completeEntry(entryIn("geotag"), ctx);
    expect(
      geo.getChild("geoloc", "http://jabber.org/protocol/geoloc")?.getChildText("country"),
    ).toBe("France");
  });

  it("uses now when published is missing or invalid, and sets a title from content", () => {
    const entry = xml(
      "entry",
      { xmlns: NS_ATOM },
      xml("content", null, "only content"),
      xml("published", null, "yesterday"),
    );
    const parsed = parseEntry(completeEntry(entry, { ...ctx, node: "urn:other" }));
    expect(parsed.title).toEqual({ type: "text", text: "only content" });
    expect(parsed.published).toBe("2024-05-01T12:00:00Z");
    expect(parsed.id).toBe("tag:microblog.montague.lit,2024-05-01:romeo/posts/01HXYZ");
    expect(parsed.links).toEqual([
      { rel: "alternate", href: "xmpp:romeo@microblog.montague.lit?;node=urn%3Aother;item=01HXYZ" },
    ]);
  });

  it("refuses what is not an Atom entry, or has no text (invalid-payload)", () => {
    const noText = xml("entry", { xmlns: NS_ATOM }, xml("title"));
    for (const bad of [xml("entry"), xml("note", { xmlns: "urn:x" }), noText]) {
      try {
        completeEntry(bad, ctx);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(AtomEntryError);
        expect(err).toMatchObject({
          kind: "invalid-payload",
          condition: "bad-request",
          pubsubCondition: "invalid-payload",
        });
      }
    }
    expect(() => completeEntry(xml("note", { xmlns: "urn:x" }), ctx)).toThrow(
      "The payload must be an Atom <entry xmlns='http://www.w3.org/2005/Atom'/>, not <note xmlns='urn:x'/>.",
    );
  });

  it("refuses text over the limit, counting code points, and says the limit", () => {
    const post = (text: string) => buildEntry({ text });
    expect(() => completeEntry(post("x".repeat(612)), ctx)).toThrow(
      "The post is 612 characters long; the limit is 500.",
    );
    expect(() => completeEntry(post("😀".repeat(500)), ctx)).not.toThrow();
    expect(() => completeEntry(post("abc"), { ...ctx, maxLength: 2 })).toThrow(
      expect.objectContaining({ kind: "too-long", condition: "not-acceptable" }),
    );
  });

  it("makes tag URIs with the localpart percent-encoded", () => {
    expect(entryTagUri("a b@c.example", new Date("2020-01-02T00:00:00Z"), "x/y")).toBe(
      "tag:c.example,2020-01-02:a%20b/posts/x%2Fy",
    );
  });
});

describe("character references in html text", () => {
  const entry = (title: string) =>
    parseXml(`<entry xmlns='${NS_ATOM}'><title type='html'>${title}</title></entry>`);

  it.each([
    "ctl &amp;#1; char",
    "&amp;#xFFFF;",
    "&amp;#xFFFE;",
    "&amp;#xD800;",
    "&amp;#x110000;",
    "&amp;#99999999999;",
  ])("refuses %s with invalid-payload when an entry is stored", (title) => {
    let caught: unknown;
    try {
      completeEntry(entry(title), ctx);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AtomEntryError);
    expect((caught as AtomEntryError).spec()).toMatchObject({
      condition: "bad-request",
      pubsubCondition: "invalid-payload",
    });
  });

  it("reads them as U+FFFD when showing an entry already stored", () => {
    expect(entryText(entry("ctl &amp;#1; char &amp;#xFFFF; &amp;#x110000;"))).toBe(
      "ctl \uFFFD char \uFFFD \uFFFD",
    );
    expect(notificationBody("alice@x", entry("&amp;#1;"))).toBe("alice@x: \uFFFD");
  });

  it("decodes every reference that names a character", () => {
    expect(
      parseEntry(entry("caf&amp;#233; &amp;#x1F600; &amp;amp; &amp;lt;b&amp;gt;")).title,
    ).toEqual({
      type: "html",
      text: "café 😀 & <b>",
    });
  });
});
