import { describe, expect, it } from "vitest";
import {
  type ConfigFile,
  chooseAccount,
  isLoopback,
  parseConfig,
  parseService,
  resolveAccount,
} from "../../../client-cli/src/account.js";
import { CliError } from "../../../client-cli/src/errors.js";

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as CliError).exitCode;
  }
  throw new Error("no error");
};

const config: ConfigFile = {
  accounts: {
    home: { jid: "alice@example.org", password: "p1", component: "blog.example.org" },
    work: { jid: "al@corp.example", passwordFile: "/secret", service: "xmpp://chat.corp:5223" },
  },
};

describe("resolveAccount", () => {
  it("takes flags over environment over the file", () => {
    const a = resolveAccount(
      { jid: "bob@d.example", service: "xmpp://127.0.0.1:5300" },
      { WARBLE_JID: "env@x", WARBLE_PASSWORD: "pw", WARBLE_COMPONENT: "C.example" },
      config,
    );
    expect(a).toMatchObject({ jid: "bob@d.example", local: "bob", domain: "d.example" });
    expect(a.password).toEqual({ kind: "value", value: "pw" });
    expect(a.service).toMatchObject({ host: "127.0.0.1", port: 5300, tls: false });
    expect(a.component).toBe("c.example");
  });

  it("defaults the service to the JID's domain on 5222 and asks for a missing password", () => {
    const a = resolveAccount({ jid: "bob@D.example" }, {}, undefined);
    expect(a.service.uri).toBe("xmpp://d.example:5222");
    expect(a.password).toEqual({ kind: "prompt" });
    expect(a.component).toBeUndefined();
  });

  it("a password file flag beats WARBLE_PASSWORD", () => {
    const a = resolveAccount({ jid: "b@d", passwordFile: "/pw" }, { WARBLE_PASSWORD: "x" }, config);
    expect(a.password).toEqual({ kind: "file", path: "/pw" });
  });

  it("uses the named, default or only account of the file", () => {
    expect(resolveAccount({ account: "work" }, {}, config)).toMatchObject({
      jid: "al@corp.example",
      password: { kind: "file", path: "/secret" },
      service: { host: "chat.corp", port: 5223 },
    });
    expect(resolveAccount({}, {}, { ...config, default: "home" }).component).toBe(
      "blog.example.org",
    );
    const only: ConfigFile = { accounts: { a: { jid: "x@y", password: "z" } } };
    expect(resolveAccount({}, {}, only).jid).toBe("x@y");
  });

  it("refuses several accounts without a choice, an unknown name, no JID at all", () => {
    expect(usage(() => resolveAccount({}, {}, config))).toBe(2);
    expect(usage(() => chooseAccount(config, "nope", undefined))).toBe(2);
    expect(usage(() => resolveAccount({}, {}, undefined))).toBe(2);
    expect(usage(() => resolveAccount({ jid: "not-a-jid" }, {}, undefined))).toBe(2);
  });

  it("with a JID from the flags, takes the file's account of that JID", () => {
    expect(resolveAccount({ jid: "alice@example.org" }, {}, config).password).toEqual({
      kind: "value",
      value: "p1",
    });
  });
});

describe("config and service parsing", () => {
  it("reads accounts and refuses what it does not understand", () => {
    expect(parseConfig('{"accounts":{"a":{"jid":"x@y"}}}', "f").accounts.a?.jid).toBe("x@y");
    expect(usage(() => parseConfig("{", "f"))).toBe(2);
    // The parser's message quotes the text around the mistake: a password must not be shown.
    expect(() => parseConfig('{"password": hunter2secret}', "f")).toThrow(/^f is not valid JSON/);
    try {
      parseConfig('{"password": hunter2secret}', "f");
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2");
    }
    expect(usage(() => parseConfig('{"accounts":{"a":{"jid":1}}}', "f"))).toBe(2);
    expect(usage(() => parseConfig('{"accounts":{"a":{"pasword":"x"}}}', "f"))).toBe(2);
  });

  it("parses service URIs", () => {
    expect(parseService("xmpps://h.example")).toMatchObject({ port: 5223, tls: true });
    expect(parseService("h.example:5999")).toMatchObject({ host: "h.example", port: 5999 });
    expect(parseService("xmpp://[::1]:5222").host).toBe("[::1]");
    expect(usage(() => parseService("http://x/y"))).toBe(2);
  });

  it("knows loopback", () => {
    for (const h of ["127.0.0.1", "localhost", "::1", "[::1]"]) expect(isLoopback(h)).toBe(true);
    expect(isLoopback("example.org")).toBe(false);
  });
});
