import { describe, expect, it } from "vitest";
import {
  buildDataForm,
  DataFormError,
  field,
  findDataForm,
  getFieldBoolean,
  getFieldList,
  getFieldNumber,
  getFieldString,
  parseDataForm,
} from "../../../schemas/src/data-form.js";
import { NS_DATA_FORMS } from "../../../schemas/src/ns.js";
import { xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza } from "./fixtures.js";

function formIn(fixture: string) {
  const x = loadStanza(fixture).getChildElements()[0]?.getChild("x", NS_DATA_FORMS);
  if (!x) throw new Error("no form");
  return x;
}

describe("data forms (XEP-0004 examples)", () => {
  it("reads the bot creation form: title, instructions, FORM_TYPE, options, required, desc", () => {
    const form = parseDataForm(formIn("data-form/bot-creation-form"));
    expect(form.type).toBe("form");
    expect(form.formType).toBe("jabber:bot");
    expect(form.title).toBe("Bot Configuration");
    expect(form.instructions).toEqual(["Fill out this form to configure your new bot!"]);
    expect(form.fields).toHaveLength(12);
    expect(form.fields.find((f) => f.var === "public")).toEqual({
      var: "public",
      type: "boolean",
      label: "Public bot?",
      required: true,
      values: [],
    });
    const features = form.fields.find((f) => f.var === "features");
    expect(features?.options?.[0]).toEqual({ label: "Contests", value: "contests" });
    expect(features?.values).toEqual(["news", "search"]);
    expect(form.fields.find((f) => f.var === "invitelist")?.desc).toBe(
      "Tell all your friends about your new bot!",
    );
  });

  it("rebuilds the bot creation form to the same typed value", () => {
    const form = parseDataForm(formIn("data-form/bot-creation-form"));
    expect(parseDataForm(buildDataForm(form))).toEqual(form);
  });

  for (const name of ["bot-creation-submit", "search-form"]) {
    it(`${name}: parse then build gives the spec's XML`, () => {
      const x = formIn(`data-form/${name}`);
      expect(canonical(buildDataForm(parseDataForm(x)))).toBe(canonical(x));
    });
  }

  it("reads typed values from the submitted bot form", () => {
    const form = parseDataForm(formIn("data-form/bot-creation-submit"));
    expect(getFieldString(form, "botname")).toBe("The Jabber Google Bot");
    expect(getFieldBoolean(form, "public")).toBe(false);
    expect(getFieldNumber(form, "maxsubs")).toBe(50);
    expect(getFieldList(form, "features")).toEqual(["news", "search"]);
    expect(getFieldString(form, "absent")).toBeUndefined();
    expect(() => getFieldNumber(form, "botname")).toThrow(DataFormError);
    expect(() => getFieldBoolean(form, "botname")).toThrow(/must be a boolean/);
  });

  it("adds the FORM_TYPE hidden field when building from formType", () => {
    const x = buildDataForm({
      type: "submit",
      formType: "urn:example",
      fields: [field("a", true), field("b", 3), field("c", ["x", "y"])],
    });
    expect(x.toString()).toBe(
      '<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:example</value></field>' +
        '<field var="a"><value>1</value></field><field var="b"><value>3</value></field>' +
        '<field var="c"><value>x</value><value>y</value></field></x>',
    );
    expect(findDataForm(xml("command", null, x), "urn:example")).toBe(x);
    expect(findDataForm(xml("command", null, x), "urn:other")).toBeUndefined();
  });

  it("writes and reads a table (§3.4): fields, then <reported/>, then one <item/> per row", () => {
    const form = {
      type: "result" as const,
      title: "Following",
      fields: [field("count", "2")],
      reported: [field("jid", undefined, { label: "Address" }), field("state", undefined)],
      items: [
        [field("jid", "a@example.org"), field("state", "subscribed")],
        [field("jid", "b@example.org"), field("state", "pending")],
      ],
    };
    const x = buildDataForm(form);
    expect(x.toString()).toBe(
      '<x xmlns="jabber:x:data" type="result"><title>Following</title>' +
        '<field var="count"><value>2</value></field>' +
        '<reported><field var="jid" label="Address"/><field var="state"/></reported>' +
        '<item><field var="jid"><value>a@example.org</value></field><field var="state"><value>subscribed</value></field></item>' +
        '<item><field var="jid"><value>b@example.org</value></field><field var="state"><value>pending</value></field></item></x>',
    );
    expect(parseDataForm(x)).toEqual(form);
  });

  it("rejects what is not a form, with a readable message", () => {
    expect(() => parseDataForm(xml("x", { xmlns: NS_DATA_FORMS, type: "bogus" }))).toThrow(
      "Unknown data form type 'bogus'.",
    );
    expect(() => parseDataForm(xml("y"))).toThrow(DataFormError);
    const badField = xml(
      "x",
      { xmlns: NS_DATA_FORMS, type: "form" },
      xml("field", { var: "f", type: "odd" }),
    );
    expect(() => parseDataForm(badField)).toThrow("Field 'f' has unknown type 'odd'.");
  });
});
