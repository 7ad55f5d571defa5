import { describe, expect, it } from "vitest";
import {
  buildStanzaError,
  describeStanzaError,
  ERROR_TYPE_BY_CONDITION,
  parseStanzaError,
  WireError,
} from "../../../schemas/src/errors.js";
import { xml } from "../../../schemas/src/xml.js";
import { canonical, loadChild } from "./fixtures.js";

const cases = [
  ["nodeid-required", { condition: "bad-request", pubsubCondition: "nodeid-required" }],
  ["not-subscribed", { condition: "unexpected-request", pubsubCondition: "not-subscribed" }],
  [
    "too-many-subscriptions",
    { condition: "policy-violation", pubsubCondition: "too-many-subscriptions" },
  ],
  ["invalid-jid", { condition: "bad-request", pubsubCondition: "invalid-jid" }],
  [
    "subscribe-unsupported",
    { condition: "feature-not-implemented", pubsubCondition: "unsupported", feature: "subscribe" },
  ],
  ["payload-too-big", { condition: "not-acceptable", pubsubCondition: "payload-too-big" }],
  ["closed-node", { condition: "not-allowed", pubsubCondition: "closed-node" }],
] as const;

describe("stanza errors (XEP-0060 examples)", () => {
  for (const [name, expected] of cases) {
    it(`${name}: parse and rebuild with the table's default type`, () => {
      const fixture = loadChild(`errors/${name}`, "error");
      const parsed = parseStanzaError(fixture);
      expect(parsed).toMatchObject(expected);
      expect(parsed.type).toBe(ERROR_TYPE_BY_CONDITION[parsed.condition]);
      const rebuilt = buildStanzaError({ ...expected });
      expect(canonical(rebuilt)).toBe(canonical(fixture));
    });
  }

  it("gone carries the new address", () => {
    const fixture = loadChild("errors/node-moved", "error");
    const parsed = parseStanzaError(fixture);
    expect(parsed).toEqual({
      condition: "gone",
      type: "modify",
      uri: "xmpp:pubsub.shakespeare.lit?;node=some-other-node",
    });
    expect(canonical(buildStanzaError(parsed))).toBe(canonical(fixture));
  });

  it("builds and reads text, reads the error inside a stanza", () => {
    const err = new WireError("The post is too long.", "not-acceptable", "payload-too-big");
    const iq = xml("iq", { type: "error" }, buildStanzaError(err.spec()));
    const parsed = parseStanzaError(iq);
    expect(parsed).toMatchObject({
      condition: "not-acceptable",
      type: "modify",
      text: "The post is too long.",
    });
    expect(describeStanzaError(parsed)).toBe(
      "not-acceptable (payload-too-big): The post is too long.",
    );
  });

  it("reads an unknown condition as undefined-condition and keeps the given type", () => {
    const el = xml(
      "error",
      { type: "wait" },
      xml("frobnicated", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }),
    );
    expect(parseStanzaError(el)).toEqual({ condition: "undefined-condition", type: "wait" });
    expect(() => parseStanzaError(xml("iq"))).toThrow(WireError);
  });
});
