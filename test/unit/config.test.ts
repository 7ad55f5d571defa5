import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../component/src/config.js";

const dir = mkdtempSync(join(tmpdir(), "warble-cfg-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const base = [
  "--service",
  "xmpp://127.0.0.1:5347",
  "--domain",
  "microblog.example.org",
  "--users-domain",
  "example.org",
];

describe("settings", () => {
  it("takes flags, with the secret from a file and defaults for the rest", () => {
    const c = loadConfig([...base, "--secret-file", file("s", "s3cret\n")], {});
    expect(c).toMatchObject({
      domain: "microblog.example.org",
      secret: "s3cret",
      usersDomains: ["example.org"],
      db: "./data/warble.db",
      maxPostLength: 500,
    });
  });

  it("ranks flags over environment over config file over defaults", () => {
    const cfg = file(
      "c.json",
      JSON.stringify({
        domain: "file.example",
        db: "file.db",
        logLevel: "debug",
        secret: "from-file",
        usersDomains: ["example.org"],
        service: "xmpp://h:1",
      }),
    );
    const env = { WARBLE_DOMAIN: "env.example", WARBLE_DB: "env.db" };
    const c = loadConfig(["--config", cfg, "--db", "flag.db"], env)!;
    expect(c.db).toBe("flag.db");
    expect(c.domain).toBe("env.example");
    expect(c.logLevel).toBe("debug");
    expect(c.secret).toBe("from-file");
  });

  it("splits comma-separated users domains", () => {
    const c = loadConfig(["--service", "xmpp://h:1", "--domain", "c.example"], {
      WARBLE_SECRET: "x",
      WARBLE_USERS_DOMAIN: "a.example, b.example",
    })!;
    expect(c.usersDomains).toEqual(["a.example", "b.example"]);
  });

  it.each([
    [
      ["--domain", "c.example", "--users-domain", "d.example"],
      { WARBLE_SECRET: "x" },
      /missing setting: service/,
    ],
    [
      ["--service", "xmpp://h:1", "--users-domain", "d.example"],
      { WARBLE_SECRET: "x" },
      /missing setting: domain/,
    ],
    [
      ["--service", "xmpp://h:1", "--domain", "c.example", "--users-domain", "d.example"],
      {},
      /missing setting: secret/,
    ],
    [
      ["--service", "xmpp://h:1", "--domain", "bad domain!", "--users-domain", "d.example"],
      { WARBLE_SECRET: "x" },
      /invalid domain/,
    ],
    [
      ["--service", "xmpp://h:1", "--domain", "c.example", "--users-domain", "c.example"],
      { WARBLE_SECRET: "x" },
      /must differ/,
    ],
    [
      [
        "--service",
        "xmpp://h:1",
        "--domain",
        "c.example",
        "--users-domain",
        "d.example",
        "--secret-file",
        "/nonexistent",
      ],
      {},
      /cannot read the secret file/,
    ],
    [["--config", "/nonexistent.json"], {}, /cannot read the config file/],
    [["--nope"], {}, /Unknown option/],
  ])("refuses %j with one clear message", (argv, env, message) => {
    expect(() => loadConfig(argv as string[], env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(argv as string[], env as NodeJS.ProcessEnv)).toThrow(message as RegExp);
  });

  it("refuses a config file that is not a JSON object", () => {
    expect(() => loadConfig(["--config", file("bad.json", "[1,2")], {})).toThrow(
      /not a JSON object/,
    );
  });

  it("returns null for --help", () => {
    expect(loadConfig(["--help"], {})).toBeNull();
  });
});

describe("the health log", () => {
  const env = { WARBLE_SECRET: "s" };
  it("is off by default, on every N seconds from the file or WARBLE_HEALTH_LOG_SECONDS", () => {
    expect(loadConfig(base, env)?.healthLogSeconds).toBe(0);
    const cfg = file("h.json", JSON.stringify({ healthLogSeconds: 30 }));
    expect(loadConfig([...base, "--config", cfg], env)?.healthLogSeconds).toBe(30);
    expect(loadConfig(base, { ...env, WARBLE_HEALTH_LOG_SECONDS: "5" })?.healthLogSeconds).toBe(5);
    expect(() => loadConfig(base, { ...env, WARBLE_HEALTH_LOG_SECONDS: "-1" })).toThrow(
      new ConfigError('invalid healthLogSeconds: "-1" is not a positive integer'),
    );
  });
});
