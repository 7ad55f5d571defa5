/** A post as a chat line: plain, reply (with a quote only where the reader may see it), repost. */
import { describe, expect, it } from "vitest";
import { Addresses } from "../../../component/src/protocol/addresses.js";
import { PostLines } from "../../../component/src/protocol/post-lines.js";
import { buildEntry, itemUri } from "../../../schemas/src/atom.js";
import { chatLine, shortQuote } from "../../../schemas/src/chat-line.js";
import { shortId } from "../../../schemas/src/short-id.js";
import { writeXml } from "../../../schemas/src/xml-writer.js";

const NODE = "urn:xmpp:microblog:0";
const addresses = new Addresses("mb.example", ["example.org"]);
const BOB_POST = itemUri("bob@mb.example", NODE, "b1");

describe("chat lines", () => {
  it("reads author: text [id], a reply and a repost", () => {
    expect(chatLine({ author: "a@e", text: "hi", shortId: "abcdef" })).toBe("a@e: hi [abcdef]");
    const reply = { to: "b@e", quote: "what you said" };
    expect(chatLine({ author: "a@e", text: "yes", shortId: "abcdef", reply })).toBe(
      'a@e, replying to b@e ("what you said"): yes [abcdef]',
    );
    expect(chatLine({ author: "a@e", text: "x", shortId: "abcdef", repostOf: "b@e" })).toBe(
      "a@e reposted b@e: x [abcdef]",
    );
  });

  it("quotes on one line, cut at 40 code points with an ellipsis", () => {
    expect(shortQuote("one\n two   three")).toBe("one two three");
    const long = "😀".repeat(50);
    expect([...shortQuote(long)]).toHaveLength(40);
    expect(shortQuote(long).endsWith("…")).toBe(true);
  });
});

describe("PostLines", () => {
  const post = (payload: string) => ({
    service: "alice@mb.example",
    node: NODE,
    itemId: "a1",
    author: "alice@example.org",
    payload,
  });
  const reply = writeXml(
    buildEntry({ text: "indeed", inReplyTo: { ref: BOB_POST, href: BOB_POST } }),
  );
  const id = shortId("alice@mb.example", NODE, "a1");

  it("names the replied-to owner, and quotes what the lookup lets the reader see", async () => {
    const seen: (string | undefined)[] = [];
    const lines = new PostLines(addresses, async (_ref, itemId, reader) => {
      seen.push(reader);
      return itemId === "b1" && reader === "carol@example.org"
        ? { payload: writeXml(buildEntry({ text: "coffee this late?" })) }
        : undefined;
    });
    expect(await lines.line(post(reply), "carol@example.org")).toBe(
      `alice@example.org, replying to bob@example.org ("coffee this late?"): indeed [${id}]`,
    );
    expect(await lines.line(post(reply))).toBe(
      `alice@example.org, replying to bob@example.org: indeed [${id}]`,
    );
    expect(seen).toEqual(["carol@example.org", undefined]);
  });

  it("a repost names the original's owner; a remote one, its address", async () => {
    const lines = new PostLines(addresses);
    const remote = "xmpp:zed@mb.far?;node=urn%3Axmpp%3Amicroblog%3A0;item=z";
    const repost = writeXml(buildEntry({ text: "well said", via: { href: remote } }));
    expect(await lines.line(post(repost))).toBe(
      `alice@example.org reposted zed@mb.far: well said [${id}]`,
    );
  });

  it("an unreadable payload is a placeholder line, not an exception", async () => {
    const lines = new PostLines(addresses, async () => {
      throw new Error("store down");
    });
    expect(await lines.line(post("<not-atom/>"))).toBe(
      `alice@example.org: (a post that cannot be shown) [${id}]`,
    );
    expect(await lines.line(post(reply))).toContain("replying to bob@example.org: indeed");
  });
});
