import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  type Action,
  CAPABILITIES,
  may,
  mayGrantAffiliation,
  maySetSubscription,
  type PolicyContext,
  type ServicePolicy,
  type Standing,
} from "../../../component/src/domain/capabilities.js";
import type {
  AccessModel,
  Affiliation,
  SubscriptionState,
} from "../../../component/src/domain/types.js";

/** The expected table, written as sets (independently of the positional table in the source). */
const EXPECTED: Record<Affiliation, readonly Action[]> = {
  owner: ACTIONS,
  publisher: [
    "purge",
    "publish",
    "retract-own",
    "retract-any",
    "retrieve-items",
    "subscribe",
    "unsubscribe",
    "configure-subscription",
    "be-notified",
    "discover",
  ],
  "publish-only": ["publish", "retract-own", "unsubscribe", "configure-subscription", "discover"],
  member: [
    "retrieve-items",
    "subscribe",
    "unsubscribe",
    "configure-subscription",
    "be-notified",
    "discover",
  ],
  none: [
    "retrieve-items",
    "subscribe",
    "unsubscribe",
    "configure-subscription",
    "be-notified",
    "discover",
  ],
  // A banned JID or domain does not even see the node in disco.
  outcast: [],
};

const AFFS = Object.keys(EXPECTED) as Affiliation[];
const cells = AFFS.flatMap((aff) => ACTIONS.map((action) => [aff, action] as const));

function ctx(
  affiliation: Affiliation,
  accessModel: AccessModel = "open",
  extra: Partial<PolicyContext> = {},
): PolicyContext {
  return {
    standing: { affiliation, source: affiliation === "owner" ? "service-owner" : "jid" },
    accessModel,
    publishModel: "publishers",
    subscription: "none",
    ...extra,
  };
}

describe("the capability table", () => {
  it.each(cells)("%s may %s: as XEP-0060 §4.1 and Warble decide", (aff, action) => {
    expect(CAPABILITIES[aff][action]).toBe(EXPECTED[aff].includes(action));
  });

  it.each(cells)("may() follows the table for %s × %s under the open model", (aff, action) => {
    const verdict = may(action, ctx(aff));
    expect(verdict.kind === "refuse").toBe(!EXPECTED[aff].includes(action));
  });

  it("refuses by the table with forbidden and reason insufficient-privileges", () => {
    const verdict = may("configure", ctx("member"));
    expect(verdict).toMatchObject({
      kind: "refuse",
      error: { condition: "forbidden", reason: "insufficient-privileges" },
    });
  });
});

function refusal(action: Action, c: PolicyContext) {
  const v = may(action, c);
  if (v.kind !== "refuse") throw new Error(`expected a refusal, got ${v.kind}`);
  return { condition: v.error.condition, pubsub: v.error.pubsubCondition, reason: v.error.reason };
}

describe("access models", () => {
  it("open: anyone not banned subscribes at once and reads", () => {
    expect(may("subscribe", ctx("none"))).toEqual({ kind: "allow" });
    expect(may("retrieve-items", ctx("none"))).toEqual({ kind: "allow" });
  });

  it("authorize: a stranger's subscription becomes pending; members and publishers subscribe at once", () => {
    expect(may("subscribe", ctx("none", "authorize"))).toEqual({ kind: "pending" });
    expect(may("subscribe", ctx("member", "authorize"))).toEqual({ kind: "allow" });
    expect(may("subscribe", ctx("publisher", "authorize"))).toEqual({ kind: "allow" });
    expect(may("subscribe", ctx("owner", "authorize"))).toEqual({ kind: "allow" });
  });

  it("authorize: only subscribers and members read; others get not-authorized + not-subscribed", () => {
    expect(refusal("retrieve-items", ctx("none", "authorize"))).toEqual({
      condition: "not-authorized",
      pubsub: "not-subscribed",
      reason: "not-subscribed",
    });
    expect(
      refusal("retrieve-items", ctx("none", "authorize", { subscription: "pending" })).pubsub,
    ).toBe("not-subscribed");
    expect(may("retrieve-items", ctx("none", "authorize", { subscription: "subscribed" }))).toEqual(
      { kind: "allow" },
    );
    expect(may("retrieve-items", ctx("member", "authorize"))).toEqual({ kind: "allow" });
  });

  it("whitelist: non-members get not-allowed + closed-node for subscribe, read and notify", () => {
    for (const action of ["subscribe", "retrieve-items", "be-notified"] as const) {
      expect(refusal(action, ctx("none", "whitelist"))).toEqual({
        condition: "not-allowed",
        pubsub: "closed-node",
        reason: "not-on-whitelist",
      });
      expect(may(action, ctx("member", "whitelist"))).toEqual({ kind: "allow" });
      expect(may(action, ctx("owner", "whitelist"))).toEqual({ kind: "allow" });
    }
  });

  it("a second request while pending is not-authorized + pending-subscription", () => {
    expect(refusal("subscribe", ctx("none", "authorize", { subscription: "pending" }))).toEqual({
      condition: "not-authorized",
      pubsub: "pending-subscription",
      reason: "pending-subscription",
    });
  });

  it("an existing subscriber re-subscribing under authorize is allowed, not made pending", () => {
    expect(may("subscribe", ctx("none", "authorize", { subscription: "subscribed" }))).toEqual({
      kind: "allow",
    });
  });
});

describe("publish model", () => {
  it("publishers: only owner, publisher and publish-only", () => {
    expect(refusal("publish", ctx("member")).condition).toBe("forbidden");
    expect(may("publish", ctx("publish-only")).kind).toBe("allow");
  });
  it("subscribers: subscribed entities may publish too", () => {
    const c = { publishModel: "subscribers" as const };
    expect(may("publish", ctx("none", "open", { ...c, subscription: "subscribed" })).kind).toBe(
      "allow",
    );
    expect(refusal("publish", ctx("none", "open", { ...c, subscription: "pending" })).reason).toBe(
      "insufficient-privileges",
    );
  });
  it("open: anyone but outcasts", () => {
    expect(may("publish", ctx("none", "open", { publishModel: "open" })).kind).toBe("allow");
    expect(refusal("publish", ctx("outcast", "open", { publishModel: "open" })).condition).toBe(
      "forbidden",
    );
  });
});

describe("bans", () => {
  const banned = (source: Standing["source"]): PolicyContext => ({
    ...ctx("outcast"),
    standing: { affiliation: "outcast", source },
  });
  it.each([
    ["jid", "outcast-jid"],
    ["domain", "outcast-domain"],
    ["service-deny", "service-denied-domain"],
    ["service-allow", "service-not-allowed-domain"],
  ] as const)("an outcast by %s is forbidden everything, counted as %s", (source, reason) => {
    for (const action of ACTIONS) {
      expect(refusal(action, banned(source))).toEqual({
        condition: "forbidden",
        pubsub: undefined,
        reason,
      });
    }
  });
});

describe("§8.8.2 the owner sets a subscription: nobody is subscribed without asking", () => {
  /** Current state → the states the owner may set (approve a request, keep, or end). */
  const SETTABLE: Record<SubscriptionState, readonly SubscriptionState[]> = {
    none: ["none"],
    pending: ["none", "subscribed"],
    unconfigured: ["none"],
    subscribed: ["none", "subscribed"],
  };
  const STATES = Object.keys(SETTABLE) as SubscriptionState[];
  const pairs = STATES.flatMap((current) => STATES.map((wanted) => [current, wanted] as const));

  it.each(pairs)("a JID in state %s set to %s", (current, wanted) => {
    const verdict = maySetSubscription(current, wanted);
    if (SETTABLE[current].includes(wanted)) {
      expect(verdict).toEqual({ kind: "allow" });
    } else {
      expect(verdict).toMatchObject({
        kind: "refuse",
        error: { condition: "not-acceptable", reason: "unrequested-subscription" },
      });
    }
  });
});

describe("§8.9.2 the owner grants an affiliation: only users act as the user", () => {
  const policy: ServicePolicy = {
    usersDomains: ["example.org"],
    deniedDomains: [],
    allowedDomains: [],
  };
  const ALL: readonly Affiliation[] = AFFS;
  const LOW: readonly Affiliation[] = ["member", "none", "outcast"];
  /** Entity → the affiliations it may be given. */
  const GRANTABLE: Record<string, readonly Affiliation[]> = {
    "bob@example.org": ALL,
    "carol@remote.example": LOW,
    "dave@sub.example.org": LOW,
    "example.org": LOW,
    "rogue.example": LOW,
  };
  const grants = Object.keys(GRANTABLE).flatMap((entity) =>
    ALL.map((affiliation) => [entity, affiliation] as const),
  );

  it.each(grants)("%s may be made %s", (entity, affiliation) => {
    const verdict = mayGrantAffiliation(entity, affiliation, policy);
    if (GRANTABLE[entity]?.includes(affiliation)) {
      expect(verdict).toEqual({ kind: "allow" });
    } else {
      expect(verdict).toMatchObject({
        kind: "refuse",
        error: { condition: "not-acceptable", reason: "affiliation-not-grantable" },
      });
    }
  });
});
