import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildCommandRequest,
  commandErrorText,
  parseCommandResponse,
} from "../../../schemas/src/adhoc.js";
import { isShortId, shortId } from "../../../schemas/src/short-id.js";
import { parseXml } from "../../../schemas/src/xml.js";

describe("shortId", () => {
  it("is 6 characters of lower-case base32, stable, and depends on all three parts", () => {
    const id = shortId("alice@c.example", "urn:xmpp:microblog:0", "item1");
    expect(id).toMatch(/^[a-z2-7]{6}$/);
    expect(isShortId(id)).toBe(true);
    expect(shortId("alice@c.example", "urn:xmpp:microblog:0", "item1")).toBe(id);
    expect(shortId("alice@c.example", "urn:xmpp:microblog:0", "item2")).not.toBe(id);
    expect(shortId("bob@c.example", "urn:xmpp:microblog:0", "item1")).not.toBe(id);
  });

  it("is the base32 of the first 30 bits of SHA-256(service\\nnode\\nitem)", () => {
    const bits = createHash("sha256").update("a\nb\nc").digest().readUInt32BE(0);
    const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    const expected = [0, 1, 2, 3, 4, 5].map((i) => alphabet[(bits >>> (27 - 5 * i)) & 31]).join("");
    expect(shortId("a", "b", "c")).toBe(expected);
  });
});

describe("ad-hoc command codec", () => {
  it("builds an execute with a submitted form", () => {
    const el = buildCommandRequest({ node: "post", fields: { text: ["a", "b"], "reply-to": "x" } });
    expect(el.toString()).toBe(
      '<command xmlns="http://jabber.org/protocol/commands" node="post" action="execute">' +
        '<x xmlns="jabber:x:data" type="submit"><field var="text"><value>a</value><value>b</value></field>' +
        '<field var="reply-to"><value>x</value></field></x></command>',
    );
  });

  it("reads status, notes and the result form; error notes are the refusal", () => {
    const res = parseCommandResponse(
      parseXml(
        `<iq type="result"><command xmlns="http://jabber.org/protocol/commands" node="follow" sessionid="s1" status="completed">` +
          `<note type="error">No such user.</note><x xmlns="jabber:x:data" type="result"><field var="jid"><value>b@e</value></field></x></command></iq>`,
      ),
    );
    expect(res).toMatchObject({ node: "follow", status: "completed", sessionid: "s1" });
    expect(res.form?.fields[0]?.values).toEqual(["b@e"]);
    expect(commandErrorText(res)).toBe("No such user.");
    expect(() => parseCommandResponse(parseXml("<iq/>"))).toThrow();
  });
});
