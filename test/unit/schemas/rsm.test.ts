import { describe, expect, it } from "vitest";
import { NS_RSM } from "../../../schemas/src/ns.js";
import {
  buildRsmRequest,
  buildRsmResponse,
  findRsmSet,
  parseRsmRequest,
  parseRsmResponse,
  RsmError,
} from "../../../schemas/src/rsm.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza } from "./fixtures.js";

function setIn(fixture: string): Element {
  const query = loadStanza(`rsm/${fixture}`).getChildElements()[0];
  const set = query && findRsmSet(query);
  if (!set) throw new Error("no set");
  return set;
}

const requests = [
  ["limit-request", { max: 10 }],
  ["first-page-request", { max: 10 }],
  ["second-page-request", { max: 10, after: "peterpan@neverland.lit" }],
  ["previous-page-request", { max: 10, before: "peter@pixyland.org" }],
  ["last-page-request", { max: 10, before: "" }],
  ["index-request", { max: 10, index: 371 }],
  ["count-request", { max: 0 }],
] as const;

const responses = [
  [
    "first-page-response",
    { first: "stpeter@jabber.org", firstIndex: 0, last: "peterpan@neverland.lit", count: 800 },
  ],
  [
    "second-page-response",
    { first: "peter@pixyland.org", firstIndex: 10, last: "peter@rabbit.lit", count: 800 },
  ],
  [
    "index-response",
    { first: "peter@pixyland.org", firstIndex: 371, last: "peter@rabbit.lit", count: 800 },
  ],
  ["count-response", { count: 800 }],
] as const;

describe("RSM (XEP-0059 examples)", () => {
  for (const [name, expected] of requests) {
    it(`request ${name}: parse and build`, () => {
      const set = setIn(name);
      expect(parseRsmRequest(set)).toEqual(expected);
      expect(canonical(buildRsmRequest(expected))).toBe(canonical(set));
    });
  }
  for (const [name, expected] of responses) {
    it(`response ${name}: parse and build`, () => {
      const set = setIn(name);
      expect(parseRsmResponse(set)).toEqual(expected);
      expect(canonical(buildRsmResponse(expected))).toBe(canonical(set));
    });
  }

  it("refuses negative or non-numeric values with an RsmError (bad-request)", () => {
    const bad = (child: Element) => () => parseRsmRequest(xml("set", { xmlns: NS_RSM }, child));
    expect(bad(xml("max", null, "-1"))).toThrow(RsmError);
    expect(bad(xml("max", null, "ten"))).toThrow(
      "RSM max must be a non-negative integer, not 'ten'.",
    );
    expect(bad(xml("index", null, "1.5"))).toThrow(RsmError);
    expect(bad(xml("after"))).toThrow(RsmError);
    try {
      bad(xml("max", null, ""))();
    } catch (err) {
      expect(err).toBeInstanceOf(RsmError);
      expect((err as RsmError).condition).toBe("bad-request");
    }
  });
});
