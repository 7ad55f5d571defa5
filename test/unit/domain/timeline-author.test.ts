import { describe, expect, it } from "vitest";
import type { Follow } from "../../../component/src/domain/timeline-types.js";
import { authorFor } from "../../../component/src/domain/timeline-use-cases.js";

const follow = (service: string, target: string): Follow => ({
  user: "u@example.org",
  service,
  node: "urn:xmpp:microblog:0",
  domain: service.split("@")[1] ?? "",
  target,
  state: "subscribed",
  createdAt: 0,
  updatedAt: 0,
});

describe("authorFor: who a post is shown as", () => {
  const ref = (service: string) => ({ service, node: "urn:xmpp:microblog:0" });

  it("accepts the service itself and the JID the user followed", () => {
    const f = follow("alice@mb.example.org", "alice@example.org");
    expect(authorFor("alice@mb.example.org", ref(f.service), f)).toBe("alice@mb.example.org");
    expect(authorFor("Alice@Example.org", ref(f.service), f)).toBe("alice@example.org");
  });

  it("accepts the owner of a Warble address: u@D for u@C (C under D) and u\\40D@C", () => {
    const f = follow("alice@mb.example.org", "xmpp:alice@mb.example.org");
    expect(authorFor("alice@example.org", ref(f.service), f)).toBe("alice@example.org");
    const g = follow("bob\\40other.example@mb.example.org", "xmpp:x");
    expect(authorFor("bob@other.example", ref(g.service), g)).toBe("bob@other.example");
  });

  it("shows anyone else's name as the service", () => {
    const f = follow("mallory@evil.example", "mallory@evil.example");
    for (const claimed of ["ceo@bank.example", "mallory@bank.example", "alice@example.org"]) {
      expect(authorFor(claimed, ref(f.service), f)).toBe("mallory@evil.example");
    }
    // Same local part, but the service is not under the claimed domain.
    const g = follow("alice@mb.evil.example", "xmpp:y");
    expect(authorFor("alice@example.org", ref(g.service), g)).toBe("alice@mb.evil.example");
  });
});
