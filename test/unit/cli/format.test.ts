import { describe, expect, it } from "vitest";
import { readUnfollowNote } from "../../../client-cli/src/commands/follow.js";
import { formatTable, relativeTime, wrapText } from "../../../client-cli/src/format.js";
import { oldestFirst, type Post } from "../../../client-cli/src/posts.js";
import { parseItemUri } from "../../../schemas/src/xmpp-uri.js";

const now = Date.parse("2026-01-10T12:00:00Z");
const post = (over: Partial<Post>): Post => ({
  id: "1",
  short: "abcdef",
  author: "alice@example.org",
  service: "alice@c.example",
  node: "urn:xmpp:microblog:0",
  item: "i1",
  published: "2026-01-10T11:57:00Z",
  text: "hello",
  uri: "xmpp:alice@c.example?;node=urn%3Axmpp%3Amicroblog%3A0;item=i1",
  ...over,
});

describe("relativeTime", () => {
  it("says seconds, minutes, hours, days", () => {
    expect(relativeTime("2026-01-10T11:59:50Z", now)).toBe("10s");
    expect(relativeTime("2026-01-10T11:57:00Z", now)).toBe("3m");
    expect(relativeTime("2026-01-10T10:00:00Z", now)).toBe("2h");
    expect(relativeTime("2026-01-05T12:00:00Z", now)).toBe("5d");
    expect(relativeTime("2026-01-10T12:00:09Z", now)).toBe("0s");
  });
});

describe("wrapText", () => {
  it("breaks at spaces, splits long words, keeps paragraphs", () => {
    expect(wrapText("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrapText("one\ntwo", 20)).toEqual(["one", "two"]);
  });
});

describe("formatTable", () => {
  it("fits the width, without colour unless asked", () => {
    const long = post({ text: "word ".repeat(40).trim() });
    const out = formatTable([post({}), long], { width: 60, colour: false, now });
    const lines = out.split("\n");
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
    expect(lines[0]).toMatch(/^alice@example\.org +3m {2}hello +abcdef$/);
    expect(lines.length).toBeGreaterThan(3);
    expect(out).not.toContain("\u001b[");
    expect(formatTable([post({})], { width: 60, colour: true, now })).toContain("\u001b[");
  });
});

describe("posts and URIs", () => {
  it("orders by publication, then item id within a service", () => {
    const a = post({ id: "9", item: "01B", published: "2026-01-10T11:00:00Z" });
    const b = post({ id: "8", item: "01A", published: "2026-01-10T11:00:00Z" });
    const c = post({ id: "7", published: "2026-01-10T10:00:00Z" });
    expect(oldestFirst([a, b, c]).map((p) => p.id)).toEqual(["7", "8", "9"]);
  });

  it("reads item URIs", () => {
    expect(parseItemUri("xmpp:a@c?;node=urn%3Axmpp%3Amicroblog%3A0;item=x1")).toEqual({
      service: "a@c",
      node: "urn:xmpp:microblog:0",
      item: "x1",
    });
    expect(parseItemUri("xmpp:a@c")).toBeUndefined();
    expect(parseItemUri("xmpp:%E0%A4%A@c?;node=n;item=i")).toBeUndefined();
    expect(parseItemUri("xmpp:a@c", true)?.node).toBe("urn:xmpp:microblog:0");
  });

  it("reads the unfollow note", () => {
    expect(readUnfollowNote("You no longer follow b@e; 3 posts left your timeline.")).toEqual({
      target: "b@e",
      removed: 3,
    });
    expect(readUnfollowNote("You no longer follow b@e; 1 post left your timeline.").removed).toBe(
      1,
    );
  });
});

describe("clean: text written by others, safe for a terminal", () => {
  it("replaces control characters, escape sequences and bidi overrides, keeps text, tabs and newlines", async () => {
    const { clean } = await import("../../../client-cli/src/format.js");
    expect(clean("plain \u00e9t\u00e9 \u{1F600}\tand\nlines")).toBe(
      "plain \u00e9t\u00e9 \u{1F600}\tand\nlines",
    );
    expect(clean("\u001b]0;pwned\u0007")).toBe("\uFFFD]0;pwned\uFFFD");
    expect(clean("\u001b[2J\u009b\u202ereversed\u2066")).toBe(
      "\uFFFD[2J\uFFFD\uFFFDreversed\uFFFD",
    );
    expect(clean("\r\u0000\u007f")).toBe("\uFFFD\uFFFD\uFFFD");
  });

  it("is applied to a post's text and author in the table", () => {
    const table = formatTable([post({ text: "hi \u001b[31mred", author: "a\u001b@example.org" })], {
      width: 80,
      colour: false,
      now,
    });
    expect(table).not.toContain("\u001b");
  });
});
