/** XEP-0050 sessions left unfinished are capped per sender and in all. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type AdhocCommand, AdhocCommands } from "../../../component/src/im/adhoc.js";
import { StanzaRouter } from "../../../component/src/protocol/router.js";
import { NS_COMMANDS, NS_DATA_FORMS } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";

const log = pino({ level: "silent" });
const echo: AdhocCommand = {
  node: "echo",
  name: "Echo",
  audience: "service",
  allowed: () => true,
  form: () => ({ type: "form", fields: [] }),
  complete: async () => ({ note: "done" }),
};

function setup(limits = { perSender: 3, total: 5 }) {
  const commands = new AdhocCommands(async () => {}, limits).add(echo);
  const router = new StanzaRouter();
  commands.register(router);
  const run = async (from: string, attrs: Record<string, string>, form = false) => {
    const { reply } = await router.dispatch(
      xml(
        "iq",
        { type: "set", id: "1", from, to: "c.example" },
        xml(
          "command",
          { xmlns: NS_COMMANDS, node: "echo", ...attrs },
          form && xml("x", { xmlns: NS_DATA_FORMS, type: "submit" }),
        ),
      ),
      log,
    );
    return reply;
  };
  const open = async (from: string) => {
    const reply = await run(from, { action: "execute" });
    return reply.getChild("command")?.attrs.sessionid as string;
  };
  const finish = (from: string, sessionid: string) =>
    run(from, { sessionid, action: "complete" }, true);
  return { commands, open, finish, run };
}

const errorOf = (reply: Element) =>
  reply
    .getChild("error")
    ?.getChildElements()
    .map((c) => c.name)
    .filter((n) => n !== "text");

describe("ad-hoc sessions", () => {
  it("keeps a sender's newest sessions only", async () => {
    const { commands, open, finish } = setup();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await open("eve@rogue.example/r"));
    expect(commands.sessionCount).toBe(3);
    for (const id of ids.slice(0, 2))
      expect(errorOf(await finish("eve@rogue.example/r", id))).toEqual([
        "not-allowed",
        "session-expired",
      ]);
    for (const id of ids.slice(2))
      expect((await finish("eve@rogue.example/r", id)).attrs.type).toBe("result");
    expect(commands.sessionCount).toBe(0);
  });

  it("refuses a new session with resource-constraint when all senders hold the most, ending nobody's", async () => {
    const { commands, open, finish, run } = setup();
    const alice = await open("alice@example.org/a");
    for (const u of ["b", "c", "d", "e"]) await open(`${u}@example.org/x`);
    expect(commands.sessionCount).toBe(5);
    const refused = await run("f@example.org/x", { action: "execute" });
    expect(errorOf(refused)).toEqual(["resource-constraint"]);
    expect(commands.sessionCount).toBe(5);
    expect((await finish("alice@example.org/a", alice)).attrs.type).toBe("result");
  });
});
