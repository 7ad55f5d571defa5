/** The subscribe_options form (XEP-0060 §6.3, §6.4) and the requests and results that carry it. */
import { describe, expect, it } from "vitest";
import { DataFormError, parseDataForm } from "../../../schemas/src/data-form.js";
import { NS_PUBSUB, NS_PUBSUB_OWNER } from "../../../schemas/src/ns.js";
import {
  buildDefaultResult,
  buildOptionsResult,
  buildSubscriptionResult,
  PubsubRequestError,
  parseFormResult,
  parsePubsubRequest,
  parseSubscribeOptionsForm,
  subscribeOptionsToForm,
} from "../../../schemas/src/pubsub.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import { canonical } from "./fixtures.js";

const node = "princely_musings";
const FORM_TYPE = `<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_options</value></field>`;

describe("the subscribe_options form", () => {
  it("builds the §6.3.2 form with types and labels", () => {
    const form = subscribeOptionsToForm({ deliver: true, includeBody: false });
    expect(form.type).toBe("form");
    expect(form.fields).toEqual([
      {
        var: "FORM_TYPE",
        type: "hidden",
        values: ["http://jabber.org/protocol/pubsub#subscribe_options"],
      },
      { var: "pubsub#deliver", type: "boolean", label: "Enable delivery?", values: ["1"] },
      {
        var: "pubsub#include_body",
        type: "boolean",
        label: "Receive message body in addition to payload?",
        values: ["0"],
      },
    ]);
  });

  it("builds the §6.3.7 result of subscribe and configure", () => {
    const result = buildSubscriptionResult(
      { node, jid: "francisco@denmark.lit", subid: "ba49", subscription: "subscribed" },
      subscribeOptionsToForm({ deliver: true, includeBody: false }, "result"),
    );
    const expected = parseXml(
      `<pubsub xmlns='${NS_PUBSUB}'>
        <subscription node='${node}' jid='francisco@denmark.lit' subid='ba49' subscription='subscribed'/>
        <options>
          <x xmlns='jabber:x:data' type='result'>${FORM_TYPE}
            <field var='pubsub#deliver'><value>1</value></field>
            <field var='pubsub#include_body'><value>0</value></field>
          </x>
        </options>
      </pubsub>`,
    );
    expect(canonical(result)).toBe(canonical(expected));
  });

  it("builds the §6.4.2 default result with its node, and the §6.3.2 options result", () => {
    const defaults = buildDefaultResult(
      subscribeOptionsToForm({ deliver: true, includeBody: true }, "result"),
      "subscribe-options",
      node,
    );
    expect(defaults.getNS()).toBe(NS_PUBSUB);
    expect(defaults.getChild("default")?.attrs.node).toBe(node);
    expect(parseFormResult(defaults)).toMatchObject({ node, form: { type: "result" } });
    const ownerDefaults = buildDefaultResult({ type: "form", fields: [] }, "node-config");
    expect(ownerDefaults.getNS()).toBe(NS_PUBSUB_OWNER);
    expect(ownerDefaults.getChild("default")?.attrs.node).toBeUndefined();
    const options = buildOptionsResult(node, "francisco@denmark.lit", subscribeOptionsToForm({}));
    expect(options.getChild("options")?.attrs).toEqual({ node, jid: "francisco@denmark.lit" });
  });

  it("reads a submitted form, and refuses another FORM_TYPE or a non-boolean", () => {
    const submit = (fields: string) =>
      parseDataForm(parseXml(`<x xmlns='jabber:x:data' type='submit'>${fields}</x>`));
    expect(
      parseSubscribeOptionsForm(
        submit(
          `${FORM_TYPE}<field var='pubsub#deliver'><value>1</value></field><field var='pubsub#include_body'><value>false</value></field><field var='pubsub#digest'><value>0</value></field>`,
        ),
      ),
    ).toEqual({ deliver: true, includeBody: false });
    expect(() =>
      parseSubscribeOptionsForm(
        submit(`<field var='FORM_TYPE' type='hidden'><value>urn:other</value></field>`),
      ),
    ).toThrow(DataFormError);
    expect(() =>
      parseSubscribeOptionsForm(submit(`<field var='pubsub#deliver'><value>yes</value></field>`)),
    ).toThrow(DataFormError);
  });
});

describe("subscribe and configure requests (§6.3.7)", () => {
  const form = () =>
    parseXml(
      `<x xmlns='jabber:x:data' type='submit'>${FORM_TYPE}<field var='pubsub#deliver'><value>0</value></field></x>`,
    );
  const subscribeEl = () => xml("subscribe", { node, jid: "francisco@denmark.lit" });
  const parse = (...children: Element[]) =>
    parsePubsubRequest(xml("pubsub", { xmlns: NS_PUBSUB }, ...children), "set");

  it("reads the options form that follows the subscribe; an empty <options/> sets nothing", () => {
    const request = parse(subscribeEl(), xml("options", null, form()));
    expect(request.kind === "subscribe" && request.options?.fields[1]).toEqual({
      var: "pubsub#deliver",
      values: ["0"],
    });
    expect(parse(subscribeEl(), xml("options"))).toEqual({
      kind: "subscribe",
      node,
      jid: "francisco@denmark.lit",
    });
  });

  it("refuses <options/> with a node or jid, or before <subscribe/>: bad-request", () => {
    for (const children of [
      [subscribeEl(), xml("options", { node }, form())],
      [subscribeEl(), xml("options", { jid: "francisco@denmark.lit" }, form())],
      [xml("options", null, form()), subscribeEl()],
    ]) {
      let caught: unknown;
      try {
        parse(...children);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PubsubRequestError);
      expect(caught).toMatchObject({ condition: "bad-request" });
    }
  });
});
