import { describe, expect, it } from "vitest";
import { DataFormError } from "../../../schemas/src/data-form.js";
import {
  NS_DATA_FORMS,
  NS_PUBSUB_EVENT,
  NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
} from "../../../schemas/src/ns.js";
import {
  buildAffiliationsResult,
  buildConfigureResult,
  buildCreateResult,
  buildEvent,
  buildItemsResult,
  buildPublishResult,
  buildSubscribeAuthorizationForm,
  buildSubscriptionResult,
  buildSubscriptionsResult,
  parseAffiliationsResult,
  parseEvent,
  parseFormResult,
  parseItemsResult,
  parsePublishResult,
  parseSubscribeAuthorizationAnswer,
  parseSubscriptionResult,
  parseSubscriptionsResult,
} from "../../../schemas/src/pubsub.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza, loadStanzas } from "./fixtures.js";

function pubsubIn(fixture: string): Element {
  const el = loadStanza(`pubsub/${fixture}`).getChild("pubsub");
  if (!el) throw new Error(`no pubsub in ${fixture}`);
  return el;
}

function eventIn(fixture: string): Element {
  const el = loadStanza(`pubsub/${fixture}`).getChild("event", NS_PUBSUB_EVENT);
  if (!el) throw new Error(`no event in ${fixture}`);
  return el;
}

function formIn(fixture: string): Element {
  const el = loadStanza(`pubsub/${fixture}`).getChild("x", NS_DATA_FORMS);
  if (!el) throw new Error(`no form in ${fixture}`);
  return el;
}

const node = "princely_musings";

describe("pubsub results (XEP-0060 examples)", () => {
  it("items, with payloads and with an RSM set", () => {
    for (const name of ["result-items", "result-items-rsm", "result-items-empty"]) {
      const pubsub = pubsubIn(name);
      const parsed = parseItemsResult(pubsub);
      expect(parsed.node).toBe(node);
      expect(canonical(buildItemsResult(parsed))).toBe(canonical(pubsub));
    }
    const rsm = parseItemsResult(pubsubIn("result-items-rsm"));
    expect(rsm.items.map((i) => i.id)).toEqual([
      "368866411b877c30064a5f62b917cffe",
      "3300659945416e274474e469a1f0154c",
      "4e30f35051b7b8b42abe083742187228",
    ]);
    expect(rsm.items[0]?.payload?.getChildText("title")).toBe("The Uses of This World");
    expect(rsm.rsm).toEqual({
      first: "368866411b877c30064a5f62b917cffe",
      firstIndex: 0,
      last: "4e30f35051b7b8b42abe083742187228",
      count: 19,
    });
  });

  it("building a result copies payloads, leaving the stored tree intact", () => {
    const parsed = parseItemsResult(pubsubIn("result-items"));
    const payload = parsed.items[0]?.payload;
    const parent = payload?.parent;
    buildItemsResult(parsed);
    expect(payload?.parent).toBe(parent);
  });

  it("publish", () => {
    const pubsub = pubsubIn("result-publish");
    expect(parsePublishResult(pubsub)).toEqual({
      node,
      itemId: "ae890ac52d0df67ed7cfdf51b644e901",
    });
    expect(canonical(buildPublishResult(node, "ae890ac52d0df67ed7cfdf51b644e901"))).toBe(
      canonical(pubsub),
    );
  });

  it("subscription: subscribed, pending, configuration required", () => {
    for (const name of [
      "result-subscribe",
      "result-subscribe-pending",
      "result-subscribe-config-required",
    ]) {
      const pubsub = pubsubIn(name);
      expect(canonical(buildSubscriptionResult(parseSubscriptionResult(pubsub)))).toBe(
        canonical(pubsub),
      );
    }
    expect(parseSubscriptionResult(pubsubIn("result-subscribe-pending")).subscription).toBe(
      "pending",
    );
    expect(parseSubscriptionResult(pubsubIn("result-subscribe-config-required"))).toEqual({
      node,
      jid: "francisco@denmark.lit",
      subscription: "unconfigured",
      subscribeOptions: { required: true },
    });
  });

  it("subscriptions, the user's own and the owner's", () => {
    const mine = parseSubscriptionsResult(pubsubIn("result-subscriptions"));
    expect(mine.owner).toBe(false);
    expect(mine.subscriptions[4]).toEqual({
      node: "node6",
      jid: "francisco@denmark.lit",
      subscription: "subscribed",
      subid: "004-yyy",
    });
    const owners = parseSubscriptionsResult(pubsubIn("result-owner-subscriptions"));
    expect(owners).toMatchObject({ owner: true, node });
    expect(owners.subscriptions).toHaveLength(4);
    for (const name of ["result-subscriptions", "result-owner-subscriptions"]) {
      const pubsub = pubsubIn(name);
      expect(canonical(buildSubscriptionsResult(parseSubscriptionsResult(pubsub)))).toBe(
        canonical(pubsub),
      );
    }
  });

  it("affiliations, the user's own and the owner's", () => {
    expect(parseAffiliationsResult(pubsubIn("result-affiliations")).affiliations[2]).toEqual({
      node: "node5",
      affiliation: "outcast",
    });
    expect(parseAffiliationsResult(pubsubIn("result-owner-affiliations"))).toEqual({
      owner: true,
      node,
      affiliations: [
        { jid: "hamlet@denmark.lit", affiliation: "owner" },
        { jid: "polonius@denmark.lit", affiliation: "outcast" },
      ],
    });
    for (const name of ["result-affiliations", "result-owner-affiliations"]) {
      const pubsub = pubsubIn(name);
      expect(canonical(buildAffiliationsResult(parseAffiliationsResult(pubsub)))).toBe(
        canonical(pubsub),
      );
    }
  });

  it("create (instant node) and configure form results", () => {
    const pubsub = pubsubIn("result-create-instant");
    expect(canonical(buildCreateResult("25e3d37dabbab9541f7523321421edc5bfeb2dae"))).toBe(
      canonical(pubsub),
    );
    const form = {
      type: "form" as const,
      formType: "http://jabber.org/protocol/pubsub#node_config",
      fields: [],
    };
    const configure = buildConfigureResult(node, form);
    expect(parseFormResult(configure)).toMatchObject({
      node,
      form: { type: "form", formType: form.formType },
    });
  });
});

describe("pubsub events (XEP-0060 examples)", () => {
  const roundTrips = [
    "event-items",
    "event-items-no-payload",
    "event-retract",
    "event-purge",
    "event-delete",
    "event-configuration",
    "event-configuration-full",
    "event-subscription",
    "event-subscription-none",
  ];
  for (const name of roundTrips) {
    it(`${name}: parse then build gives the spec's XML`, () => {
      const event = eventIn(name);
      expect(canonical(buildEvent(parseEvent(event)))).toBe(canonical(event));
    });
  }

  it("reads each kind", () => {
    expect(parseEvent(eventIn("event-retract"))).toEqual({
      kind: "items",
      node,
      items: [],
      retracts: ["ae890ac52d0df67ed7cfdf51b644e901"],
    });
    expect(parseEvent(eventIn("event-purge"))).toEqual({ kind: "purge", node });
    expect(parseEvent(eventIn("event-delete"))).toEqual({
      kind: "delete",
      node,
      redirect: "xmpp:hamlet@denmark.lit?;node=blog",
    });
    expect(parseEvent(eventIn("event-configuration"))).toEqual({ kind: "configuration", node });
    expect(parseEvent(loadStanza("pubsub/event-subscription"))).toEqual({
      kind: "subscription",
      subscription: { node, jid: "horatio@denmark.lit", subscription: "subscribed" },
    });
    expect(loadStanzas("pubsub/event-items")).toHaveLength(4);
  });

  it("drops payloads when deliver_payloads is false", () => {
    const withPayload = parseEvent(eventIn("event-items"));
    const built = buildEvent(withPayload, { deliverPayloads: false });
    expect(canonical(built)).toBe(canonical(eventIn("event-items-no-payload")));
  });

  it("refuses an empty event or one without node", () => {
    expect(() => parseEvent(xml("event", { xmlns: NS_PUBSUB_EVENT }))).toThrow(
      /No pubsub <event\/>/,
    );
    expect(() => parseEvent(xml("event", { xmlns: NS_PUBSUB_EVENT }, xml("purge")))).toThrow(
      expect.objectContaining({ pubsubCondition: "nodeid-required" }),
    );
  });
});

describe("subscription authorization (XEP-0060 §8.6)", () => {
  it("builds the spec's approval form", () => {
    const built = buildSubscribeAuthorizationForm({
      node,
      subscriberJid: "horatio@denmark.lit",
      subid: "123-abc",
    });
    expect(canonical(built)).toBe(canonical(formIn("authorization-request")));
  });

  it("reads approval, denial and cancel", () => {
    const answer = {
      node,
      subscriberJid: "horatio@denmark.lit",
      subid: "123-abc",
      cancelled: false,
    };
    expect(parseSubscribeAuthorizationAnswer(formIn("authorization-approve"))).toEqual({
      ...answer,
      allow: true,
    });
    expect(parseSubscribeAuthorizationAnswer(formIn("authorization-deny"))).toEqual({
      ...answer,
      allow: false,
    });
    expect(parseSubscribeAuthorizationAnswer(formIn("authorization-cancel"))).toEqual({
      cancelled: true,
    });
  });

  it("refuses answers with another FORM_TYPE or a missing field", () => {
    const submit = (...fields: Array<[string, string]>) =>
      xml(
        "x",
        { xmlns: NS_DATA_FORMS, type: "submit" },
        fields.map(([v, value]) => xml("field", { var: v }, xml("value", null, value))),
      );
    expect(() => parseSubscribeAuthorizationAnswer(submit(["FORM_TYPE", "urn:x"]))).toThrow(
      DataFormError,
    );
    expect(() =>
      parseSubscribeAuthorizationAnswer(
        submit(
          ["FORM_TYPE", NS_PUBSUB_SUBSCRIBE_AUTHORIZATION],
          ["pubsub#node", "n"],
          ["pubsub#subscriber_jid", "a@b"],
        ),
      ),
    ).toThrow("The answer has no pubsub#allow.");
    expect(() =>
      parseSubscribeAuthorizationAnswer(
        submit(
          ["FORM_TYPE", NS_PUBSUB_SUBSCRIBE_AUTHORIZATION],
          ["pubsub#node", "n"],
          ["pubsub#subscriber_jid", "a@b"],
          ["pubsub#allow", "yes"],
        ),
      ),
    ).toThrow(/must be a boolean/);
  });
});
