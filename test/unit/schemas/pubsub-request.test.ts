import { describe, expect, it } from "vitest";
import { NS_PUBSUB, NS_PUBSUB_OWNER } from "../../../schemas/src/ns.js";
import {
  buildPubsubRequest,
  type IqRequestType,
  type PubsubRequest,
  PubsubRequestError,
  parsePubsubRequest,
  requestIqType,
} from "../../../schemas/src/pubsub.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { canonical, loadStanza } from "./fixtures.js";

function request(fixture: string): { pubsub: Element; type: IqRequestType } {
  const iq = loadStanza(`pubsub/${fixture}`);
  const pubsub = iq.getChild("pubsub");
  if (!pubsub) throw new Error(`no pubsub in ${fixture}`);
  return { pubsub, type: iq.attrs.type };
}

const node = "princely_musings";

const cases: Array<[string, Partial<PubsubRequest> & { kind: PubsubRequest["kind"] }]> = [
  ["request-publish", { kind: "publish", node, itemId: "bnd81g37d61f49fgn581" }],
  ["request-publish-noid", { kind: "publish", node }],
  ["request-publish-options", { kind: "publish", node }],
  [
    "request-retract",
    { kind: "retract", node, itemIds: ["ae890ac52d0df67ed7cfdf51b644e901"], notify: false },
  ],
  ["request-items-all", { kind: "items", node, itemIds: [] }],
  [
    "request-items-ids",
    {
      kind: "items",
      node,
      itemIds: ["368866411b877c30064a5f62b917cffe", "4e30f35051b7b8b42abe083742187228"],
    },
  ],
  ["request-items-max", { kind: "items", node, itemIds: [], maxItems: 2 }],
  ["request-subscribe", { kind: "subscribe", node, jid: "francisco@denmark.lit" }],
  ["request-subscribe-options", { kind: "subscribe", node, jid: "francisco@denmark.lit" }],
  ["request-unsubscribe", { kind: "unsubscribe", node, jid: "francisco@denmark.lit" }],
  ["request-subscriptions", { kind: "subscriptions" }],
  ["request-subscriptions-node", { kind: "subscriptions", node }],
  ["request-affiliations", { kind: "affiliations" }],
  ["request-options-get", { kind: "options-get", node, jid: "francisco@denmark.lit" }],
  ["request-options-set", { kind: "options-set", node, jid: "francisco@denmark.lit" }],
  ["request-default-options", { kind: "default", scope: "subscribe-options", node }],
  ["request-default-config", { kind: "default", scope: "node-config" }],
  ["request-create", { kind: "create", node }],
  ["request-create-instant", { kind: "create" }],
  ["request-create-configure", { kind: "create", node }],
  ["request-configure-get", { kind: "configure-get", node }],
  ["request-configure-set", { kind: "configure-set", node }],
  ["request-delete", { kind: "delete", node }],
  [
    "request-delete-redirect",
    { kind: "delete", node, redirect: "xmpp:hamlet@denmark.lit?;node=blog" },
  ],
  ["request-purge", { kind: "purge", node }],
  ["request-owner-subscriptions-get", { kind: "owner-subscriptions-get", node }],
  [
    "request-owner-subscriptions-set",
    {
      kind: "owner-subscriptions-set",
      node,
      subscriptions: [{ jid: "bard@shakespeare.lit", subscription: "subscribed" }],
    },
  ],
  ["request-owner-affiliations-get", { kind: "owner-affiliations-get", node }],
  [
    "request-owner-affiliations-set",
    {
      kind: "owner-affiliations-set",
      node,
      affiliations: [{ jid: "bard@shakespeare.lit", affiliation: "publisher" }],
    },
  ],
];

describe("pubsub requests (XEP-0060 examples)", () => {
  for (const [fixture, expected] of cases) {
    it(`${fixture}: parse, IQ type, and build back to the spec's XML`, () => {
      const { pubsub, type } = request(fixture);
      const parsed = parsePubsubRequest(pubsub, type);
      expect(parsed).toMatchObject(expected);
      expect(requestIqType(parsed)).toBe(type);
      expect(canonical(buildPubsubRequest(parsed))).toBe(canonical(pubsub));
    });
  }

  it("keeps every payload and the forms", () => {
    const publish = parsePubsubRequest(request("request-publish-options").pubsub, "set");
    if (publish.kind !== "publish") throw new Error(publish.kind);
    expect(publish.payloads.map((p) => p.getName())).toEqual(["entry"]);
    expect(publish.publishOptions?.formType).toBe(
      "http://jabber.org/protocol/pubsub#publish-options",
    );
    const sub = parsePubsubRequest(request("request-subscribe-options").pubsub, "set");
    expect(sub.kind === "subscribe" && sub.options?.fields).toHaveLength(5);
    const create = parsePubsubRequest(request("request-create-configure").pubsub, "set");
    expect(create.kind === "create" && create.configure?.formType).toBe(
      "http://jabber.org/protocol/pubsub#node_config",
    );
  });

  it("reads RSM, subid and retract notify; builds them back", () => {
    const pubsub = xml(
      "pubsub",
      { xmlns: NS_PUBSUB },
      xml("items", { node: "n", subid: "s1" }),
      xml(
        "set",
        { xmlns: "http://jabber.org/protocol/rsm" },
        xml("max", null, "20"),
        xml("before"),
      ),
    );
    const parsed = parsePubsubRequest(pubsub, "get");
    expect(parsed).toEqual({
      kind: "items",
      node: "n",
      itemIds: [],
      subid: "s1",
      rsm: { max: 20, before: "" },
    });
    expect(canonical(buildPubsubRequest(parsed))).toBe(canonical(pubsub));
    const retract = xml(
      "pubsub",
      { xmlns: NS_PUBSUB },
      xml(
        "retract",
        { node: "n", notify: "1" },
        xml("item", { id: "a" }),
        xml("item", { id: "b" }),
      ),
    );
    expect(parsePubsubRequest(retract, "set")).toEqual({
      kind: "retract",
      node: "n",
      itemIds: ["a", "b"],
      notify: true,
    });
  });

  it("lets the caller reject zero or several payloads", () => {
    const publish = (...payloads: Element[]) =>
      parsePubsubRequest(
        xml(
          "pubsub",
          { xmlns: NS_PUBSUB },
          xml("publish", { node: "n" }, xml("item", { id: "1" }, ...payloads)),
        ),
        "set",
      );
    expect(publish()).toMatchObject({ payloads: [] });
    expect(publish(xml("a", { xmlns: "urn:a" }), xml("b", { xmlns: "urn:b" }))).toMatchObject({
      payloads: [{ name: "a" }, { name: "b" }],
    });
  });
});

describe("pubsub request errors", () => {
  function error(pubsub: Element, type: IqRequestType = "set"): PubsubRequestError {
    try {
      parsePubsubRequest(pubsub, type);
    } catch (err) {
      expect(err).toBeInstanceOf(PubsubRequestError);
      return err as PubsubRequestError;
    }
    throw new Error("no error");
  }
  const user = (...children: Element[]) => xml("pubsub", { xmlns: NS_PUBSUB }, ...children);
  const owner = (...children: Element[]) => xml("pubsub", { xmlns: NS_PUBSUB_OWNER }, ...children);

  it("a missing node is bad-request + nodeid-required", () => {
    for (const [pubsub, type] of [
      [user(xml("retract", null, xml("item", { id: "1" }))), "set"],
      [user(xml("items")), "get"],
      [user(xml("publish", null, xml("item"))), "set"],
      [user(xml("subscribe", { jid: "a@b" })), "set"],
      [owner(xml("configure")), "get"],
      [owner(xml("purge")), "set"],
      [owner(xml("delete")), "set"],
      [owner(xml("subscriptions")), "get"],
    ] as const) {
      expect(error(pubsub, type)).toMatchObject({
        condition: "bad-request",
        pubsubCondition: "nodeid-required",
      });
    }
  });

  it("an unknown action is feature-not-implemented + unsupported naming it", () => {
    expect(error(user(xml("frobnicate", { node: "n" })))).toMatchObject({
      condition: "feature-not-implemented",
      pubsubCondition: "unsupported",
      feature: "frobnicate",
      message: "<frobnicate/> is not supported.",
    });
    expect(error(owner(xml("publish", { node: "n" })))).toMatchObject({ feature: "publish" });
  });

  it("refuses other malformed requests", () => {
    expect(error(user(xml("subscribe", { node: "n" })))).toMatchObject({
      pubsubCondition: "jid-required",
    });
    expect(error(user(xml("retract", { node: "n" })))).toMatchObject({
      pubsubCondition: "item-required",
    });
    expect(error(user(xml("publish", { node: "n" })))).toMatchObject({
      pubsubCondition: "item-required",
    });
    expect(error(user(xml("items", { node: "n", max_items: "-1" })), "get").message).toBe(
      "max_items must be a non-negative integer, not '-1'.",
    );
    expect(error(user(xml("items", { node: "n" })), "set").condition).toBe("bad-request");
    expect(error(user()).message).toBe("The <pubsub/> element is empty.");
    expect(error(xml("pubsub", { xmlns: "urn:other" }, xml("items"))).condition).toBe(
      "bad-request",
    );
    expect(() =>
      parsePubsubRequest(
        user(
          xml("items", { node: "n" }),
          xml("set", { xmlns: "http://jabber.org/protocol/rsm" }, xml("max", null, "x")),
        ),
        "get",
      ),
    ).toThrow("RSM max must be a non-negative integer, not 'x'.");
  });
});
