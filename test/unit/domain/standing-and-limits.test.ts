import { describe, expect, it } from "vitest";
import {
  checkRequestLimits,
  DEFAULT_LIMITS,
  domainAndParents,
  isPendingExpired,
  type RequestCounts,
  resolveStanding,
  type ServicePolicy,
} from "../../../component/src/domain/capabilities.js";
import type { Affiliation } from "../../../component/src/domain/types.js";

const POLICY: ServicePolicy = {
  usersDomains: ["example.org"],
  deniedDomains: [],
  allowedDomains: [],
};
const table =
  (entries: Record<string, Affiliation>) =>
  (entity: string): Affiliation =>
    entries[entity] ?? "none";

describe("resolveStanding", () => {
  it("makes the service owner owner whatever the lists say", () => {
    const policy = { ...POLICY, deniedDomains: ["example.org"] };
    expect(
      resolveStanding(
        "alice@example.org/phone",
        "alice@example.org",
        policy,
        table({ "alice@example.org": "outcast" }),
      ),
    ).toEqual({
      affiliation: "owner",
      source: "service-owner",
    });
  });

  it("bans a JID entry and a domain entry, also for subdomains and full JIDs", () => {
    const lookup = table({ "eve@good.example": "outcast", "rogue.example": "outcast" });
    expect(resolveStanding("eve@good.example/x", "a@example.org", POLICY, lookup)).toEqual({
      affiliation: "outcast",
      source: "jid",
    });
    expect(resolveStanding("mallory@rogue.example", "a@example.org", POLICY, lookup)).toEqual({
      affiliation: "outcast",
      source: "domain",
    });
    expect(resolveStanding("m@chat.rogue.example", "a@example.org", POLICY, lookup).source).toBe(
      "domain",
    );
    expect(resolveStanding("bob@good.example", "a@example.org", POLICY, lookup)).toEqual({
      affiliation: "none",
      source: "default",
    });
  });

  it("lets a JID entry win over its domain's entry", () => {
    const lookup = table({ "friend@rogue.example": "member", "rogue.example": "outcast" });
    expect(resolveStanding("friend@rogue.example", "a@example.org", POLICY, lookup)).toEqual({
      affiliation: "member",
      source: "jid",
    });
  });

  it("applies the operator deny list before the owner's entries", () => {
    const policy = { ...POLICY, deniedDomains: ["spam.example"] };
    const lookup = table({ "x@spam.example": "member" });
    expect(resolveStanding("x@spam.example", "a@example.org", policy, lookup)).toEqual({
      affiliation: "outcast",
      source: "service-deny",
    });
    expect(resolveStanding("x@a.spam.example", "a@example.org", policy, lookup).source).toBe(
      "service-deny",
    );
  });

  it("with an allow list, admits only listed domains and the users domains", () => {
    const policy = { ...POLICY, allowedDomains: ["friends.example"] };
    const none = table({});
    expect(resolveStanding("x@friends.example", "a@example.org", policy, none).source).toBe(
      "default",
    );
    expect(resolveStanding("y@example.org", "a@example.org", policy, none).source).toBe("default");
    expect(resolveStanding("z@elsewhere.example", "a@example.org", policy, none)).toEqual({
      affiliation: "outcast",
      source: "service-allow",
    });
  });

  it("lists a domain and its parents, most specific first", () => {
    expect(domainAndParents("a.b.example")).toEqual(["a.b.example", "b.example", "example"]);
  });
});

describe("abuse limits", () => {
  const limits = {
    ...DEFAULT_LIMITS,
    maxPendingPerDomainPerNode: 2,
    maxRequestsPerDomainPerMinute: 3,
    maxPendingPerNode: 4,
  };
  const counts = (c: Partial<RequestCounts>): RequestCounts => ({
    remote: true,
    pending: true,
    pendingFromDomainOnNode: 0,
    requestsFromDomainLastMinute: 0,
    requestsFromRequesterLastMinute: 0,
    pendingOnNode: 0,
    ...c,
  });
  const reasonOf = (c: Partial<RequestCounts>) => checkRequestLimits(counts(c), limits)?.reason;

  it("passes under every limit", () => {
    expect(
      checkRequestLimits(
        counts({ pendingFromDomainOnNode: 1, requestsFromDomainLastMinute: 2, pendingOnNode: 3 }),
        limits,
      ),
    ).toBeUndefined();
  });
  it("refuses with policy-violation at the per-minute limit of a remote domain, pending or not", () => {
    expect(checkRequestLimits(counts({ requestsFromDomainLastMinute: 3 }), limits)?.condition).toBe(
      "policy-violation",
    );
    expect(reasonOf({ requestsFromDomainLastMinute: 3, pending: false })).toBe(
      "limit-requests-per-minute",
    );
  });
  it("refuses at the pending limit per domain per node", () => {
    expect(reasonOf({ pendingFromDomainOnNode: 2 })).toBe("limit-pending-per-domain");
    expect(reasonOf({ pendingFromDomainOnNode: 2, pending: false })).toBeUndefined();
  });
  it("refuses at the total pending limit per node, for local domains too", () => {
    expect(reasonOf({ pendingOnNode: 4 })).toBe("limit-pending-per-node");
    expect(reasonOf({ pendingOnNode: 4, remote: false })).toBe("limit-pending-per-node");
  });
  it("exempts local domains from the per-domain limits", () => {
    expect(
      reasonOf({ remote: false, requestsFromDomainLastMinute: 99, pendingFromDomainOnNode: 99 }),
    ).toBeUndefined();
  });
  it("expires a pending request after the TTL (default 7 days)", () => {
    const week = 7 * 24 * 3600 * 1000;
    expect(DEFAULT_LIMITS.pendingTtlMs).toBe(week);
    expect(isPendingExpired(0, week - 1, DEFAULT_LIMITS)).toBe(false);
    expect(isPendingExpired(0, week, DEFAULT_LIMITS)).toBe(true);
  });
});
