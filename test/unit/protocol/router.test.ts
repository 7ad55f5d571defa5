/** The one dispatch table: IQs, messages and presences; replies and events; errors in one place. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PubsubError } from "../../../component/src/domain/errors.js";
import type { BusEvent } from "../../../component/src/protocol/event-bus.js";
import { StanzaRouter } from "../../../component/src/protocol/router.js";
import { StanzaError } from "../../../component/src/protocol/stanza-error.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";

const log = pino({ level: "silent" });
const NODE_CREATED: BusEvent = { type: "node-created", service: "u@c", node: "n", owner: "u@d" };
const stanza = (text: string) => parseXml(text);
const conditionOf = (el: Element | undefined) =>
  el
    ?.getChild("error")
    ?.getChildElements()
    .map((c) => c.name)
    .filter((n) => n !== "text");

function router() {
  const responses: Element[] = [];
  const r = new StanzaRouter()
    .on("get", "urn:x", "q", "service", () => xml("q", { xmlns: "urn:x" }, "at C"))
    .on("get", "urn:x", "q", "user", async () => ({
      payload: xml("q", { xmlns: "urn:x" }, "at u@C"),
      events: [NODE_CREATED],
    }))
    .on("set", "urn:x", "deny", "both", () => {
      throw new PubsubError("forbidden", { text: "no", reason: "insufficient-privileges" });
    })
    .on("set", "urn:x", "bug", "both", () => {
      throw new TypeError("oops");
    })
    .onMessage("urn:form", "x", () => ({ events: [NODE_CREATED] }))
    .onMessage("urn:bad", "x", () => {
      throw new StanzaError("bad-request", "bad form");
    })
    .onPresence("subscribe", (el) => ({
      replies: [xml("presence", { to: el.attrs.from, type: "subscribed" })],
    }))
    .onResponses({ onResponse: (el) => responses.push(el) });
  return { r, responses };
}

describe("StanzaRouter", () => {
  it("dispatches IQs by type, audience and payload, with the reply addressed back", async () => {
    const { r } = router();
    const atC = await r.route(
      stanza("<iq type='get' id='1' from='a@d/r' to='c'><q xmlns='urn:x'/></iq>"),
      log,
    );
    expect(atC.replies[0]?.toString()).toBe(
      '<iq type="result" id="1" from="c" to="a@d/r"><q xmlns="urn:x">at C</q></iq>',
    );
    expect(atC.events).toEqual([]);
    const atUser = await r.route(
      stanza("<iq type='get' id='2' from='a@d/r' to='u@c'><q xmlns='urn:x'/></iq>"),
      log,
    );
    expect(atUser.replies[0]?.getChildText("q", "urn:x")).toBe("at u@C");
    expect(atUser.events).toEqual([NODE_CREATED]);
  });

  it("answers an unknown payload with service-unavailable, echoing it, and two payloads with bad-request", async () => {
    const { r } = router();
    const unknown = await r.route(
      stanza("<iq type='get' id='3' to='c'><z xmlns='urn:z'/></iq>"),
      log,
    );
    expect(conditionOf(unknown.replies[0])).toEqual(["service-unavailable"]);
    expect(unknown.replies[0]?.getChild("z", "urn:z")).toBeDefined();
    const two = await r.route(
      stanza("<iq type='get' id='4' to='c'><q xmlns='urn:x'/><q xmlns='urn:x'/></iq>"),
      log,
    );
    expect(conditionOf(two.replies[0])).toEqual(["bad-request"]);
  });

  it("turns a thrown domain error into its XMPP error, and an unexpected one into internal-server-error", async () => {
    const { r } = router();
    const denied = await r.route(
      stanza("<iq type='set' id='5' to='c'><deny xmlns='urn:x'/></iq>"),
      log,
    );
    expect(denied.replies[0]?.getChild("error")?.attrs.type).toBe("auth");
    expect(conditionOf(denied.replies[0])).toEqual(["forbidden"]);
    expect(denied.events).toEqual([]);
    const bug = await r.route(
      stanza("<iq type='set' id='6' to='c'><bug xmlns='urn:x'/></iq>"),
      log,
    );
    expect(conditionOf(bug.replies[0])).toEqual(["internal-server-error"]);
  });

  it("hands IQ results and errors to the request caller, and answers nothing", async () => {
    const { r, responses } = router();
    const out = await r.route(stanza("<iq type='result' id='7' from='x'/>"), log);
    await r.route(stanza("<iq type='error' id='8' from='x'/>"), log);
    expect(out).toEqual({ replies: [], events: [] });
    expect(responses.map((e) => e.attrs.id)).toEqual(["7", "8"]);
  });

  it("dispatches messages by their first payload with an entry, and bounces a refusal", async () => {
    const { r } = router();
    const ok = await r.route(
      stanza("<message from='a@d/r' to='u@c'><body>hi</body><x xmlns='urn:form'/></message>"),
      log,
    );
    expect(ok).toEqual({ replies: [], events: [NODE_CREATED] });
    const bad = await r.route(
      stanza("<message id='m1' from='a@d/r' to='u@c'><x xmlns='urn:bad'/></message>"),
      log,
    );
    expect(bad.replies[0]?.attrs).toMatchObject({
      type: "error",
      id: "m1",
      to: "a@d/r",
      from: "u@c",
    });
    expect(conditionOf(bad.replies[0])).toEqual(["bad-request"]);
    const unknown = await r.route(
      stanza("<message from='a@d/r' to='u@c'><body>hi</body></message>"),
      log,
    );
    expect(unknown).toEqual({ replies: [], events: [] });
  });

  it("never answers a stanza of type error", async () => {
    const { r } = router();
    const out = await r.route(
      stanza("<message type='error' from='a@d' to='u@c'><x xmlns='urn:bad'/></message>"),
      log,
    );
    expect(out).toEqual({ replies: [], events: [] });
  });

  it("dispatches presences by type", async () => {
    const { r } = router();
    const sub = await r.route(stanza("<presence type='subscribe' from='a@d' to='u@c'/>"), log);
    expect(sub.replies.map((e) => e.attrs.type)).toEqual(["subscribed"]);
    expect(await r.route(stanza("<presence from='a@d' to='u@c'/>"), log)).toEqual({
      replies: [],
      events: [],
    });
  });
});
