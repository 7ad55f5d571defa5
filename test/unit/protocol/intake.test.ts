/**
 * The intake holds new stanzas while the notifier is crowded: in order, one at a time as room
 * comes; answers and bounces never wait; past maxHeld the newest gets a wait error.
 */
import { describe, expect, it } from "vitest";
import { Intake } from "../../../component/src/protocol/intake.js";
import { parseStanzaError } from "../../../schemas/src/errors.js";
import { type Element, xml } from "../../../schemas/src/xml.js";

const iq = (id: string, type = "set") =>
  xml("iq", { type, id, from: "bob@example.net/r", to: "alice@mb.example.org" });

function setup(maxHeld = 1000) {
  const handled: string[] = [];
  const sent: Element[] = [];
  let crowded = false;
  let wake: () => void = () => {};
  const intake = new Intake({
    handle: async (el) => {
      handled.push(el.attrs.id ?? "");
    },
    crowded: () => crowded,
    room: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      }),
    send: (el) => sent.push(el),
    maxHeld,
  });
  const setCrowded = (on: boolean) => {
    crowded = on;
    if (!on) wake();
  };
  return { intake, handled, sent, setCrowded };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe("Intake", () => {
  it("handles at once while the notifier has room", async () => {
    const { intake, handled } = setup();
    await intake.take(iq("1"));
    await intake.take(iq("2"));
    expect(handled).toEqual(["1", "2"]);
  });

  it("holds while crowded, then handles in order of arrival, also what came after room", async () => {
    const { intake, handled, setCrowded } = setup();
    setCrowded(true);
    await intake.take(iq("1"));
    await intake.take(iq("2"));
    await settle();
    expect(handled).toEqual([]);
    expect(intake.waiting).toBe(2);
    setCrowded(false);
    // Arrives while the held ones are going: it queues behind them.
    await intake.take(iq("3"));
    await settle();
    expect(handled).toEqual(["1", "2", "3"]);
    expect(intake.waiting).toBe(0);
  });

  it("lets answers to our requests and bounces through while crowded", async () => {
    const { intake, handled, setCrowded } = setup();
    setCrowded(true);
    await intake.take(iq("held"));
    await intake.take(iq("pong", "result"));
    await intake.take(xml("message", { type: "error", id: "bounce", from: "x@y" }));
    await settle();
    expect(handled).toEqual(["pong", "bounce"]);
  });

  it("answers past maxHeld with a wait resource-constraint error, and keeps the held ones", async () => {
    const { intake, handled, sent, setCrowded } = setup(2);
    setCrowded(true);
    for (const id of ["1", "2", "3"]) await intake.take(iq(id));
    expect(sent).toHaveLength(1);
    const error = sent[0] as Element;
    expect(error.attrs).toMatchObject({ type: "error", id: "3", to: "bob@example.net/r" });
    expect(error.attrs.from).toBe("alice@mb.example.org");
    const parsed = parseStanzaError(error.getChild("error") as Element);
    expect(parsed.condition).toBe("resource-constraint");
    expect(parsed.type).toBe("wait");
    expect(intake.turnedAway).toBe(1);
    setCrowded(false);
    await settle();
    expect(handled).toEqual(["1", "2"]);
  });

  it("on stop answers what is held with the wait error and handles nothing more", async () => {
    const { intake, handled, sent, setCrowded } = setup();
    setCrowded(true);
    await intake.take(iq("1"));
    await intake.stop();
    expect(sent.map((e) => e.attrs.id)).toEqual(["1"]);
    expect(handled).toEqual([]);
  });
});
