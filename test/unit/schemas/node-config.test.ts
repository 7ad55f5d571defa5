import { describe, expect, it } from "vitest";
import { buildDataForm, DataFormError, getField } from "../../../schemas/src/data-form.js";
import {
  buildNodeConfigForm,
  NodeConfigError,
  type NodeConfigValues,
  nodeConfigToForm,
  parseNodeConfigForm,
} from "../../../schemas/src/node-config.js";
import { NS_DATA_FORMS, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza } from "./fixtures.js";

function ownerForm(fixture: string): Element {
  const x = loadStanza(fixture)
    .getChild("pubsub", NS_PUBSUB_OWNER)
    ?.getChildElements()[0]
    ?.getChild("x", NS_DATA_FORMS);
  if (!x) throw new Error("no form");
  return x;
}

const warble: NodeConfigValues = {
  title: "Romeo's microblog",
  accessModel: "authorize",
  maxItems: 1000,
  deliverPayloads: true,
  includeBody: true,
  notifyConfig: false,
  notifyDelete: true,
  notifyRetract: true,
  notifySub: false,
  sendLastPublishedItem: "on_sub",
  publishModel: "publishers",
};

describe("node configuration form (XEP-0060 §8.2)", () => {
  it("reads the spec's configuration form: supported fields only", () => {
    expect(parseNodeConfigForm(ownerForm("node-config/configure-form"))).toEqual({
      title: "",
      accessModel: "open",
      maxItems: 10,
      deliverPayloads: true,
      notifyConfig: false,
      notifyDelete: false,
      notifyRetract: false,
      notifySub: false,
      sendLastPublishedItem: "never",
      publishModel: "publishers",
    });
  });

  it("reads the full-payload configuration event", () => {
    const x = loadStanza("pubsub/event-configuration-full")
      .getChild("event", NS_PUBSUB_EVENT)
      ?.getChild("configuration")
      ?.getChild("x", NS_DATA_FORMS);
    expect(x && parseNodeConfigForm(x)).toMatchObject({
      title: "Princely Musings (Atom)",
      maxItems: 10,
    });
  });

  it("refuses the spec's submitted form: access model 'roster' is not one Warble offers", () => {
    const x = ownerForm("node-config/configure-submit");
    try {
      parseNodeConfigForm(x);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NodeConfigError);
      const e = err as NodeConfigError;
      expect(e.field).toBe("pubsub#access_model");
      expect(e.condition).toBe("not-acceptable");
      expect(e.pubsubCondition).toBe("unsupported-access-model");
      expect(e.message).toBe(
        "pubsub#access_model must be one of open, authorize, whitelist; 'roster' is not supported.",
      );
    }
  });

  it("parses and builds Warble's submit form both ways", () => {
    const x = loadStanza("node-config/warble-submit");
    expect(parseNodeConfigForm(x)).toEqual(warble);
    expect(canonical(buildNodeConfigForm(warble, "submit"))).toBe(canonical(x));
  });

  it("builds a 'form' with types, labels and options, and reads it back", () => {
    const form = nodeConfigToForm(warble, "form");
    expect(getField(form, "pubsub#access_model")).toMatchObject({
      type: "list-single",
      options: [{ value: "open" }, { value: "authorize" }, { value: "whitelist" }],
      values: ["authorize"],
    });
    expect(getField(form, "pubsub#notify_sub")).toMatchObject({ type: "boolean", values: ["0"] });
    expect(parseNodeConfigForm(buildDataForm(form))).toEqual(warble);
  });

  it("returns only present fields; accepts max; rejects bad values naming the field", () => {
    const submit = (fields: Array<[string, string]>) =>
      xml(
        "x",
        { xmlns: NS_DATA_FORMS, type: "submit" },
        fields.map(([v, value]) => xml("field", { var: v }, xml("value", null, value))),
      );
    expect(parseNodeConfigForm(submit([["pubsub#max_items", "max"]]))).toEqual({ maxItems: "max" });
    expect(parseNodeConfigForm(submit([["pubsub#unknown", "x"]]))).toEqual({});
    expect(() => parseNodeConfigForm(submit([["pubsub#notify_sub", "yes"]]))).toThrow(
      "pubsub#notify_sub must be a boolean (1/true/0/false), not 'yes'.",
    );
    expect(() => parseNodeConfigForm(submit([["pubsub#max_items", "-3"]]))).toThrow(
      NodeConfigError,
    );
    expect(() =>
      parseNodeConfigForm(submit([["pubsub#send_last_published_item", "always"]])),
    ).toThrow(/pubsub#send_last_published_item must be one of/);
    expect(() => parseNodeConfigForm(submit([["FORM_TYPE", "urn:other"]]))).toThrow(DataFormError);
    expect(parseNodeConfigForm(xml("x", { xmlns: NS_DATA_FORMS, type: "cancel" }))).toEqual({});
  });
});
