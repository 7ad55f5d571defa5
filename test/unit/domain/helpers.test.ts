import { describe, expect, it } from "vitest";
import { createItemIdGenerator } from "../../../component/src/domain/item-id.js";
import { bareJid, domainOf, isDomainJid, localOf } from "../../../component/src/domain/jid.js";
import {
  formatConfigFields,
  parseConfigFields,
  unmetPreconditions,
} from "../../../component/src/domain/node-config.js";
import { defaultNodeConfig } from "../../../component/src/domain/types.js";
import { expectError } from "./fixture.js";

describe("JID helpers", () => {
  it("takes the bare JID, domain and local part", () => {
    expect(bareJid("Alice@Example.org/Phone")).toBe("alice@example.org");
    expect(bareJid("example.org/r")).toBe("example.org");
    expect(domainOf("alice@example.org/phone")).toBe("example.org");
    expect(domainOf("example.org")).toBe("example.org");
    expect(localOf("alice@example.org/x")).toBe("alice");
    expect(localOf("example.org")).toBeUndefined();
  });
  it("tells a domain from a JID", () => {
    expect(isDomainJid("rogue.example")).toBe(true);
    expect(isDomainJid("eve@rogue.example")).toBe(false);
    expect(isDomainJid("rogue.example/r")).toBe(false);
  });
});

describe("item ids", () => {
  it("are 26 Crockford base32 characters starting with the time", () => {
    const at = (ms: number) =>
      createItemIdGenerator(
        () => ms,
        () => 0,
      )();
    expect(at(0)).toBe("0".repeat(26));
    expect(at(1).slice(0, 10)).toBe("0000000001");
    expect(at(32).slice(0, 10)).toBe("0000000010");
  });
  it("sort in creation order: by time, within one millisecond, when the clock steps back", () => {
    let now = 1_700_000_000_000;
    const next = createItemIdGenerator(
      () => now,
      () => 0.999,
    );
    const ids = [next(), next(), next()];
    now += 1;
    ids.push(next());
    now -= 5;
    ids.push(next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });
});

describe("configuration fields", () => {
  const CEILING = 100;
  it("parses the submitted pubsub# fields, skipping FORM_TYPE and unknown fields", () => {
    const changes = parseConfigFields(
      {
        FORM_TYPE: "http://jabber.org/protocol/pubsub#node_config",
        "pubsub#access_model": "authorize",
        "pubsub#max_items": "20",
        "pubsub#notify_retract": "0",
        "pubsub#include_body": ["true"],
        "pubsub#persist_items": "1",
        "pubsub#itemreply": "owner",
      },
      "configure",
      CEILING,
    );
    expect(changes).toEqual({
      accessModel: "authorize",
      maxItems: 20,
      notifyRetract: false,
      includeBody: true,
    });
    expect(parseConfigFields({ "pubsub#max_items": "max" }, "configure", CEILING)).toEqual({
      maxItems: CEILING,
    });
  });

  it("refuses bad values with not-acceptable when configuring", async () => {
    for (const [field, value] of [
      ["pubsub#access_model", "presence"],
      ["pubsub#max_items", "ten"],
      ["pubsub#max_items", "101"],
      ["pubsub#notify_delete", "yes"],
      ["pubsub#persist_items", "0"],
    ]) {
      await expectError(
        () => parseConfigFields({ [field as string]: value as string }, "configure", CEILING),
        { condition: "not-acceptable" },
      );
    }
  });

  it("refuses unknown fields and bad values as publish-options with conflict + precondition-not-met", async () => {
    const pre = (fields: Record<string, string>) => () =>
      parseConfigFields(fields, "publish-options", CEILING);
    await expectError(pre({ "pubsub#itemreply": "owner" }), {
      condition: "conflict",
      pubsubCondition: "precondition-not-met",
    });
    await expectError(pre({ "pubsub#access_model": "nope" }), {
      condition: "conflict",
      pubsubCondition: "precondition-not-met",
    });
    expect(pre({ "pubsub#access_model": "open" })()).toEqual({ accessModel: "open" });
  });

  it("formats a configuration as fields that parse back to it", () => {
    const config = {
      ...defaultNodeConfig("alice@example.org"),
      accessModel: "whitelist" as const,
      maxItems: 7,
    };
    const fields = formatConfigFields(config);
    expect(fields["pubsub#access_model"]).toEqual(["whitelist"]);
    expect(fields["pubsub#notify_retract"]).toEqual(["1"]);
    expect(parseConfigFields(fields, "configure", CEILING)).toEqual(config);
  });

  it("names the preconditions a configuration does not meet", () => {
    const config = defaultNodeConfig("alice@example.org");
    expect(
      unmetPreconditions(config, { accessModel: "open", maxItems: 5, title: "alice's microblog" }),
    ).toEqual(["maxItems"]);
  });
});
