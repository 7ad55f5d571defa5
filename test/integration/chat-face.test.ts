/**
 * The chat face of u@C (issue 11), against real Prosody and ejabberd: alice chats with her own
 * alice@C (posts, commands, refusals and hints, each answered by one chat message marked
 * <reply xmlns='urn:xmpp:warble:0'/>); bob chatting with alice@C learns how to follow her, once,
 * and nothing he sends is posted; chat posting is rate-limited (limits.maxChatPostsPerMinute).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { NS_ATOM, NS_THREADING } from "../../schemas/src/ns.js";
import { shortId } from "../../schemas/src/short-id.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  type AuthWorld,
  type ComponentSettings,
  runCommand,
  startAuthWorld,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  escapeXml,
  getItems,
  itemsOf,
  publishPost,
  sleep,
  stanza,
  svc,
  titleOf,
} from "../harness/pubsub.js";
import { SERVER_KINDS } from "../harness/servers.js";

const POSTS_PER_MINUTE = 8;
const NODE = "urn:xmpp:microblog:0";
const bareOf = (jid: unknown) => String(jid ?? "").split("/")[0];

describe.each(SERVER_KINDS)("chat face on %s", (kind) => {
  let w: AuthWorld;
  const alice = () => w.clients.alice as TestClient;
  const bob = () => w.clients.bob as TestClient;
  const seen = new Set<Element>();

  const repliesTo = (client: TestClient, from: string) =>
    client.received.filter(
      (el) =>
        el.name === "message" &&
        el.attrs.type === "chat" &&
        bareOf(el.attrs.from) === from &&
        el.getChild("reply", NS_WARBLE) !== undefined,
    );

  /** Send `text` to `to` as a chat message; the body of the one reply. */
  async function chat(client: TestClient, text: string, to = svc("alice")): Promise<string> {
    const body = `<body>${escapeXml(text)}</body>`;
    await client.send(stanza(`<message type='chat' to='${to}'>${body}</message>`));
    const reply = await client.waitFor(
      (el) => !seen.has(el) && repliesTo(client, to).includes(el),
      10_000,
    );
    seen.add(reply);
    return reply.getChildText("body") ?? "";
  }

  const aliceTitles = async () => itemsOf(await getItems(alice(), "alice")).map(titleOf);
  const relayed = (text: string) => (el: Element) =>
    el.name === "message" &&
    el.getChild("relayed", NS_WARBLE) !== undefined &&
    new RegExp(`^bob@localhost: ${text} \\[[a-z2-7]{6}\\]$`).test(el.getChildText("body") ?? "");

  beforeAll(async () => {
    const settings = {
      limits: { maxPendingPerNode: 100, maxChatPostsPerMinute: POSTS_PER_MINUTE },
    };
    w = await startAuthWorld(kind, ["alice", "bob"], settings as ComponentSettings);
    await publishPost(bob(), "bob's first");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("plain text is a post on her node", async () => {
    expect(await chat(alice(), "hello by chat")).toMatch(/^Posted as item \S+: xmpp:/);
    expect(await aliceTitles()).toContain("hello by chat");
  });

  it("help lists the commands; /HELP with trailing spaces works too", async () => {
    const help = await chat(alice(), "help");
    for (const line of ["follow X", "timeline [n]", "delete last", "on:", "off:"]) {
      expect(help).toContain(line);
    }
    expect(await chat(alice(), "/HELP   ")).toBe(help);
  });

  it("follow bob: subscribed, and bob's next post is relayed to her", async () => {
    expect(await chat(alice(), "follow bob@localhost")).toMatch(/^You now follow bob@localhost\./);
    await publishPost(bob(), "bob again");
    await alice().waitFor(relayed("bob again"), 10_000);
    expect(await chat(alice(), "following")).toBe("Following: 1\nbob@localhost (subscribed)");
  });

  it("timeline 3: at most three posts with short ids, the newest last", async () => {
    const lines = (await chat(alice(), "timeline 3")).split("\n");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^\S+@\S+: .* \[[a-z2-7]{6}\]$/);
    expect(lines.at(-1)).toMatch(/^bob@localhost: bob again \[[a-z2-7]{6}\]$/);
  });

  it("reply ID and repost ID are XEP-0277 replies and repeats, as a pubsub client reads them", async () => {
    const line = (await chat(alice(), "timeline 1")).split("\n")[0] ?? "";
    const id = /\[([a-z2-7]{6})\]$/.exec(line)?.[1] ?? "";
    const original = itemsOf(await getItems(alice(), "bob")).find(
      (item) => shortId(svc("bob"), NODE, item.attrs.id) === id,
    );
    expect(original).toBeDefined();
    const uri = `xmpp:${svc("bob")}?;node=urn%3Axmpp%3Amicroblog%3A0;item=${original?.attrs.id}`;
    const atomId = original?.getChild("entry", NS_ATOM)?.getChildText("id", NS_ATOM);

    expect(await chat(alice(), `reply ${id.toUpperCase()} so true`)).toMatch(/^Replied as item /);
    expect(await chat(alice(), `/repost ${id}`)).toMatch(/^Reposted as item /);
    const items = itemsOf(await getItems(bob(), "alice"));
    const entryOf = (title: string) =>
      items.find((i) => titleOf(i) === title)?.getChild("entry", NS_ATOM);
    const reply = entryOf("so true");
    expect(reply?.getChild("in-reply-to", NS_THREADING)?.attrs).toMatchObject({
      ref: atomId,
      href: uri,
    });
    const repeat = entryOf("bob again");
    const via = repeat?.getChildren("link", NS_ATOM).find((l) => l.attrs.rel === "via");
    expect(via?.attrs).toMatchObject({ href: uri, ref: atomId });
    expect(repeat?.getChild("author", NS_ATOM)?.getChildText("uri", NS_ATOM)).toBe(
      "xmpp:alice@localhost",
    );
  });

  it("last bob@localhost: his latest post", async () => {
    expect(await chat(alice(), "last bob@localhost")).toMatch(
      /^bob@localhost: bob again \[[a-z2-7]{6}\]$/,
    );
  });

  it("off and on switch the relay", async () => {
    expect(await chat(alice(), "OFF")).toContain("Relay: off.");
    expect(await chat(alice(), "on")).toContain("Relay: on.");
    await publishPost(bob(), "after on");
    await alice().waitFor(relayed("after on"), 10_000);
  });

  it("lock and unlock switch the access model (the settings command agrees)", async () => {
    expect(await chat(alice(), "lock")).toContain("Who may follow you: authorize.");
    expect((await runCommand(alice(), "settings")).note).toContain("authorize");
    expect(await chat(alice(), "/unlock")).toContain("Who may follow you: open.");
    expect((await runCommand(alice(), "settings")).note).toContain("open");
  });

  it("delete last retracts the newest own post", async () => {
    expect(await chat(alice(), "gone soon")).toMatch(/^Posted as item/);
    expect(await aliceTitles()).toContain("gone soon");
    expect(await chat(alice(), "delete last")).toMatch(
      /^Deleted your post alice@localhost: gone soon \[[a-z2-7]{6}\]$/,
    );
    expect(await aliceTitles()).not.toContain("gone soon");
  });

  it("an unknown command gets a hint and is not posted; post help posts 'help'", async () => {
    expect(await chat(alice(), "/frobnicate now")).toBe("unknown command frobnicate; send help");
    expect(await chat(alice(), "follow")).toContain("usage: follow X");
    expect(await chat(alice(), "reply abcdef nice")).toBe(
      "No post [abcdef] in your timeline; send timeline to see the ids.",
    );
    expect(await chat(alice(), "repost nice")).toContain("usage: repost ID");
    const titles = await aliceTitles();
    expect(titles.some((t) => t?.includes("frobnicate"))).toBe(false);
    expect(await chat(alice(), "post help")).toMatch(/^Posted as item/);
    expect(await aliceTitles()).toContain("help");
  });

  it("bob chatting with alice@C learns how to follow her, once; nothing is posted", async () => {
    const text = await chat(bob(), "hi alice, bob here");
    expect(text).toContain(svc("alice"));
    expect(text).toContain("not posted");
    await bob().send(
      stanza(`<message type='chat' to='${svc("alice")}'><body>second try</body></message>`),
    );
    await sleep(1500);
    expect(repliesTo(bob(), svc("alice"))).toHaveLength(1);
    const titles = await aliceTitles();
    expect(titles).not.toContain("hi alice, bob here");
    expect(titles).not.toContain("second try");
  });

  it("over maxChatPostsPerMinute a readable refusal, nothing posted", async () => {
    let refused = "";
    for (let i = 0; i <= POSTS_PER_MINUTE && !refused; i++) {
      const text = await chat(alice(), `burst ${i}`);
      if (/too fast/.test(text)) refused = `burst ${i}`;
    }
    expect(refused).not.toBe("");
    expect(await aliceTitles()).not.toContain(refused);
  });
});
