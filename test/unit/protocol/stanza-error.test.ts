/** One error table: every domain condition becomes the XMPP error with its type. */
import pino from "pino";
import { describe, expect, it } from "vitest";
import {
  PUBSUB_ERROR_CONDITIONS,
  PubsubError,
  STANZA_ERROR_CONDITIONS,
} from "../../../component/src/domain/errors.js";
import { StanzaError, toErrorElement } from "../../../component/src/protocol/stanza-error.js";
import { AtomEntryError } from "../../../schemas/src/atom.js";
import {
  ERROR_TYPE_BY_CONDITION,
  NS_PUBSUB_ERRORS_FOR_TEST,
  parseStanzaError,
} from "./stanza-error-helpers.js";

describe("toErrorElement", () => {
  it.each(STANZA_ERROR_CONDITIONS)("maps the domain's %s with its RFC 6120 type", (condition) => {
    const parsed = parseStanzaError(toErrorElement(new PubsubError(condition, { text: "why" })));
    expect(parsed).toMatchObject({
      condition,
      type: ERROR_TYPE_BY_CONDITION[condition],
      text: "why",
    });
  });

  it.each(PUBSUB_ERROR_CONDITIONS)("maps the domain's pubsub condition %s", (pubsubCondition) => {
    const el = toErrorElement(
      new PubsubError("bad-request", { pubsubCondition, feature: "publish" }),
    );
    const child = el.getChild(pubsubCondition, NS_PUBSUB_ERRORS_FOR_TEST);
    expect(child).toBeDefined();
    expect(parseStanzaError(el).pubsubCondition).toBe(pubsubCondition);
  });

  it("keeps a StanzaError's type override and application condition", () => {
    const err = new StanzaError(
      "not-allowed",
      "gone",
      undefined,
      undefined,
      {
        name: "session-expired",
        xmlns: "http://jabber.org/protocol/commands",
      },
      "modify",
    );
    const el = toErrorElement(err);
    expect(el.attrs.type).toBe("modify");
    expect(el.getChild("session-expired", "http://jabber.org/protocol/commands")).toBeDefined();
  });

  it("answers a codec's error (WireError) with its condition and text", () => {
    const parsed = parseStanzaError(
      toErrorElement(new AtomEntryError("too-long", "The post is long.")),
    );
    expect(parsed).toMatchObject({
      condition: "not-acceptable",
      pubsubCondition: "payload-too-big",
      text: "The post is long.",
    });
  });

  it("answers anything else with internal-server-error and logs it, never its message", () => {
    const logged: unknown[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => logged.push(line) });
    const el = toErrorElement(new Error("secret detail"), log);
    expect(parseStanzaError(el)).toEqual({ condition: "internal-server-error", type: "cancel" });
    expect(el.toString()).not.toContain("secret detail");
    expect(logged).toHaveLength(1);
  });
});
