/** The chat command parser of u@C: commands, their shapes, posts, quotes and hints. */
import { describe, expect, it } from "vitest";
import { parseChat, unknownHint, usageOf } from "../../../component/src/im/chat-commands.js";

describe("parseChat", () => {
  it("plain text is a post", () => {
    expect(parseChat("hello world")).toEqual({ kind: "post", text: "hello world" });
    expect(parseChat("  two\nlines  ")).toEqual({ kind: "post", text: "two\nlines" });
  });

  it("commands are case-insensitive and tolerate a leading slash and trailing spaces", () => {
    expect(parseChat("help")).toEqual({ kind: "command", name: "help", arg: "" });
    expect(parseChat("/HELP  ")).toEqual({ kind: "command", name: "help", arg: "" });
    expect(parseChat("Follow bob@example.org ")).toEqual({
      kind: "command",
      name: "follow",
      arg: "bob@example.org",
    });
    expect(parseChat("/On")).toEqual({ kind: "command", name: "on", arg: "" });
    expect(parseChat("delete LAST")).toMatchObject({ kind: "command", name: "delete" });
  });

  it("timeline takes an optional count", () => {
    expect(parseChat("timeline")).toEqual({ kind: "command", name: "timeline", arg: "" });
    expect(parseChat("timeline 3")).toEqual({ kind: "command", name: "timeline", arg: "3" });
    expect(parseChat("timeline many")).toEqual({ kind: "usage", name: "timeline" });
    expect(parseChat("timeline 0")).toEqual({ kind: "usage", name: "timeline" });
  });

  it("a command word of the wrong shape gets its usage, not a post", () => {
    expect(parseChat("follow")).toEqual({ kind: "usage", name: "follow" });
    expect(parseChat("follow the white rabbit")).toEqual({ kind: "usage", name: "follow" });
    expect(parseChat("on my way")).toEqual({ kind: "usage", name: "on" });
    expect(parseChat("delete everything")).toEqual({ kind: "usage", name: "delete" });
    expect(usageOf("follow")).toContain("follow X");
  });

  it("post TEXT and a leading quote post what looks like a command", () => {
    expect(parseChat("post help")).toEqual({ kind: "post", text: "help" });
    expect(parseChat("POST follow me")).toEqual({ kind: "post", text: "follow me" });
    expect(parseChat('"on my way')).toEqual({ kind: "post", text: "on my way" });
    expect(parseChat("post")).toEqual({ kind: "post", text: "" });
  });

  it("an unknown word after a slash is an unknown command; nothing is posted", () => {
    expect(parseChat("/frobnicate now")).toEqual({ kind: "unknown", word: "frobnicate" });
    expect(unknownHint("frobnicate")).toBe("unknown command frobnicate; send help");
  });

  it("reply takes a short id and a text, repost a short id (any case)", () => {
    expect(parseChat("reply abcdef nice one")).toEqual({
      kind: "command",
      name: "reply",
      arg: "abcdef nice one",
    });
    expect(parseChat("/Repost ABCDEF ")).toEqual({
      kind: "command",
      name: "repost",
      arg: "ABCDEF",
    });
    expect(parseChat("reply abcdef")).toEqual({ kind: "usage", name: "reply" });
    expect(parseChat("repost 12345")).toEqual({ kind: "usage", name: "repost" });
    expect(usageOf("reply")).toBe(
      'usage: reply ID TEXT. To post this text, start it with " or with post.',
    );
  });

  it("nothing but spaces (or a lone quote) is nothing", () => {
    expect(parseChat("   ")).toEqual({ kind: "empty" });
    expect(parseChat('"')).toEqual({ kind: "empty" });
  });
});
