/** The chat face in the router: a pubsub event wins over the body whatever the order; marks. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { registerChatFace } from "../../../component/src/im/chat-face.js";
import { Addresses } from "../../../component/src/protocol/addresses.js";
import { PostLines } from "../../../component/src/protocol/post-lines.js";
import { StanzaRouter } from "../../../component/src/protocol/router.js";
import { NS_WARBLE } from "../../../schemas/src/microblog-disco.js";
import { NS_PUBSUB_EVENT } from "../../../schemas/src/ns.js";
import { xml } from "../../../schemas/src/xml.js";

const log = pino({ level: "silent" });

function world() {
  const router = new StanzaRouter();
  const events: string[] = [];
  router.onMessage(NS_PUBSUB_EVENT, "event", (s) => {
    events.push(s.attrs.id);
    return undefined;
  });
  const addresses = new Addresses("c.example", ["example.org"]);
  registerChatFace(router, {
    commands: [],
    pubsub: {} as never,
    timeline: {} as never,
    follows: {} as never,
    addresses,
    lines: new PostLines(addresses),
    limits: {},
  });
  return { router, events };
}

const message = (id: string, from: string, ...children: ReturnType<typeof xml>[]) =>
  xml("message", { id, from, to: "alice@c.example" }, ...children);

describe("chat face routing", () => {
  it("a pubsub event goes to the timeline handler even with a body first", async () => {
    const { router, events } = world();
    const body = xml("body", null, "a notification");
    const out = await router.route(
      message("e1", "bob@c.example", body, xml("event", { xmlns: NS_PUBSUB_EVENT })),
      log,
    );
    expect(events).toEqual(["e1"]);
    expect(out.replies).toEqual([]);
  });

  it("a stranger gets the explanation once; a Warble reply is never answered", async () => {
    const { router } = world();
    const hi = () => message("m", "eve@else.example/r", xml("body", null, "hi"));
    const first = await router.route(hi(), log);
    expect(first.replies).toHaveLength(1);
    const reply = first.replies[0];
    expect(reply?.attrs).toMatchObject({
      type: "chat",
      from: "alice@c.example",
      to: "eve@else.example/r",
    });
    expect(reply?.getChild("reply", NS_WARBLE)).toBeDefined();
    expect(reply?.getChildText("body")).toContain("add alice@c.example to your contacts");
    expect((await router.route(hi(), log)).replies).toEqual([]);
    const marked = message(
      "m2",
      "carol@else.example/r",
      xml("body", null, "x"),
      xml("reply", { xmlns: NS_WARBLE }),
    );
    expect((await router.route(marked, log)).replies).toEqual([]);
  });
});
