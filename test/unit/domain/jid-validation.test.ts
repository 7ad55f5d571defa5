/** acceptJid: every JID that enters the domain is an RFC 7622 JID, or jid-malformed. */
import { describe, expect, it } from "vitest";
import { acceptJid, jidProblem } from "../../../component/src/domain/jid.js";
import { ALICE, expectError, NODE, read, withPosts } from "./fixture.js";

describe("jidProblem", () => {
  it.each([
    "alice@example.org",
    "alice@example.org/phone",
    "example.org",
    "rogue.example",
    "dartagnan@x.example",
    "bob@[::1]",
    "bob@127.0.0.1/a b c",
    "jürgen@münchen.example/Gerät",
    "a@b/r/with/slashes@and:colons",
    `${"x".repeat(1023)}@example.org`,
    "example.org.",
  ])("accepts %s", (jid) => {
    expect(jidProblem(jid)).toBeUndefined();
  });

  it.each([
    ["a@@b", "character"],
    ["@", "local part is empty"],
    ["@example.org", "local part is empty"],
    ["a@", "domain part is empty"],
    ["", "domain part is empty"],
    ["a@b/", "resource part is empty"],
    [`${"x".repeat(1024)}@example.org`, "longer than 1023 bytes"],
    [`${"é".repeat(512)}@example.org`, "longer than 1023 bytes"],
    [`a@${"x".repeat(1024)}`, "longer than 1023 bytes"],
    [`a@b/${"r".repeat(1024)}`, "longer than 1023 bytes"],
    ["a b@example.org", "character"],
    ["a<b@example.org", "character"],
    ["a@exa mple.org", "character"],
    ["a@example..org", "label"],
    [`a@${"l".repeat(64)}.org`, "label"],
    ["a@[not-ip]", "IP literal"],
    ["a@b/r\u0001", "control"],
    ["a\u0000@b", "character"],
  ])("refuses %s (%s)", (jid, problem) => {
    expect(jidProblem(jid)).toContain(problem);
  });
});

describe("acceptJid", () => {
  it("normalises what it accepts, dropping a trailing dot of the domain", () => {
    expect(acceptJid("Bob@Example.ORG./Phone")).toBe("bob@example.org/Phone");
    expect(acceptJid("Rogue.Example.")).toBe("rogue.example");
  });

  it("refuses with jid-malformed and a short text", async () => {
    const err = await expectError(() => acceptJid(`${"x".repeat(3000)}@example.org`), {
      condition: "jid-malformed",
    });
    expect(err.text?.length).toBeLessThan(200);
  });

  it("stores nothing when an owner's affiliation change names a malformed JID", async () => {
    const h = await withPosts(["a"]);
    for (const entity of ["a@@b", "@", `${"x".repeat(3000)}@example.org`]) {
      await expectError(
        () => h.service.setNodeAffiliations(ALICE, NODE, [{ entity, affiliation: "outcast" }]),
        { condition: "jid-malformed" },
      );
    }
    expect(await read(h, (tx) => tx.listNodeAffiliations(NODE))).toEqual([]);
  });

  it("creates no node when blocking a malformed JID before the first post", async () => {
    const h = await withPosts([]);
    await expectError(
      () =>
        h.service.setNodeAffiliations(
          ALICE,
          NODE,
          [{ entity: "a@@b", affiliation: "outcast" }],
          true,
        ),
      { condition: "jid-malformed" },
    );
    expect(await read(h, (tx) => tx.getNode(NODE))).toBeUndefined();
    await h.service.setNodeAffiliations(
      ALICE,
      NODE,
      [{ entity: "rogue.example", affiliation: "outcast" }],
      true,
    );
    expect((await read(h, (tx) => tx.listNodeAffiliations(NODE))).map((e) => e.entity)).toEqual([
      "rogue.example",
    ]);
  });

  it("refuses malformed JIDs in subscribe, unsubscribe, options and approvals", async () => {
    const h = await withPosts(["a"]);
    await expectError(() => h.service.subscribe("a@@b", NODE, { jid: "a@@b" }), {
      condition: "jid-malformed",
    });
    await expectError(() => h.service.unsubscribe(ALICE, NODE, { jid: "@" }), {
      condition: "jid-malformed",
    });
    await expectError(() => h.service.getSubscriptionOptions(ALICE, NODE, { jid: "a@b/" }), {
      condition: "jid-malformed",
    });
    await expectError(() => h.service.approveSubscription(ALICE, NODE, "a@@b", true), {
      condition: "jid-malformed",
    });
    await expectError(
      () => h.service.setNodeSubscriptions(ALICE, NODE, [{ jid: "a@@b", state: "none" }]),
      { condition: "jid-malformed" },
    );
  });
});
