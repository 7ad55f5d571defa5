/** The XEP-0060 error tables at u@C: each error as the XEP's example stanza shows it. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_RSM } from "../../schemas/src/ns.js";
import {
  C,
  D,
  entryXml,
  expectError,
  getItems,
  NODE,
  ownerIq,
  publishIq,
  publishPost,
  pubsubIq,
  startWorld,
  svc,
  type World,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const BAD_REQUEST = { type: "modify", condition: "bad-request" } as const;
const FORBIDDEN = { type: "auth", condition: "forbidden" } as const;
const NOT_FOUND = { type: "cancel", condition: "item-not-found" } as const;

describe.each(WORLDS)("XEP-0060 errors on %s with %s", (kind, store) => {
  let w: World;
  let postId: string;
  const alice = () => w.clients.alice!;
  const bob = () => w.clients.bob!;
  const A = svc("alice");

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "bob"], store);
    postId = await publishPost(alice(), "the only post");
  });
  afterAll(async () => {
    await w?.dispose();
  });

  describe("publish (§7.1.3)", () => {
    it("by a non-owner: forbidden", async () => {
      expectError(await bob().iq(publishIq(A, entryXml("not mine"))), FORBIDDEN);
    });

    it("to a node that does not exist: item-not-found", async () => {
      const reply = await alice().iq(
        pubsubIq(
          "set",
          A,
          `<publish node='princely_musings'><item>${entryXml("x")}</item></publish>`,
        ),
      );
      expectError(reply, NOT_FOUND);
    });

    it("without a node attribute: bad-request + nodeid-required", async () => {
      const reply = await alice().iq(
        pubsubIq("set", A, `<publish><item>${entryXml("x")}</item></publish>`),
      );
      expectError(reply, { ...BAD_REQUEST, pubsub: "nodeid-required" });
    });

    it("a payload that is not an Atom entry: bad-request + invalid-payload", async () => {
      const reply = await alice().iq(
        publishIq(A, "<book xmlns='urn:example:books'><title>Hamlet</title></book>"),
      );
      expectError(reply, { ...BAD_REQUEST, pubsub: "invalid-payload" });
    });

    it("two payloads, or none: bad-request + invalid-payload", async () => {
      const two = await alice().iq(publishIq(A, entryXml("one") + entryXml("two")));
      expectError(two, { ...BAD_REQUEST, pubsub: "invalid-payload" });
      const none = await alice().iq(publishIq(A, ""));
      expectError(none, { ...BAD_REQUEST, pubsub: "invalid-payload" });
    });

    it("two items: bad-request + invalid-payload; no item: bad-request + item-required", async () => {
      const two = await alice().iq(
        pubsubIq(
          "set",
          A,
          `<publish node='${NODE}'><item>${entryXml("a")}</item><item>${entryXml("b")}</item></publish>`,
        ),
      );
      expectError(two, { ...BAD_REQUEST, pubsub: "invalid-payload" });
      const none = await alice().iq(pubsubIq("set", A, `<publish node='${NODE}'/>`));
      expectError(none, { ...BAD_REQUEST, pubsub: "item-required" });
    });

    it("a payload over 64 KiB: not-acceptable + payload-too-big", async () => {
      const big = `<entry xmlns='http://www.w3.org/2005/Atom'><title>big</title><summary>${"x".repeat(70_000)}</summary></entry>`;
      expectError(await alice().iq(publishIq(A, big)), {
        type: "modify",
        condition: "not-acceptable",
        pubsub: "payload-too-big",
      });
    });

    it("a text over 500 characters: not-acceptable, and the text names the limit", async () => {
      const err = expectError(await alice().iq(publishIq(A, entryXml("y".repeat(501)))), {
        type: "modify",
        condition: "not-acceptable",
        pubsub: "payload-too-big",
      });
      expect(err.text).toMatch(/limit is 500/);
    });

    it("an empty entry: bad-request + invalid-payload", async () => {
      const reply = await alice().iq(publishIq(A, "<entry xmlns='http://www.w3.org/2005/Atom'/>"));
      expectError(reply, { ...BAD_REQUEST, pubsub: "invalid-payload" });
    });

    it("publish-options with an unknown field: conflict + precondition-not-met", async () => {
      const form =
        "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>" +
        "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
        "<field var='pubsub#frobnicate'><value>1</value></field></x></publish-options>";
      const reply = await alice().iq(publishIq(A, entryXml("x"), undefined, form));
      expectError(reply, { type: "cancel", condition: "conflict", pubsub: "precondition-not-met" });
    });

    it("a publish in an IQ get: bad-request", async () => {
      const reply = await alice().iq(
        pubsubIq("get", A, `<publish node='${NODE}'><item>${entryXml("x")}</item></publish>`),
      );
      expectError(reply, BAD_REQUEST);
    });
  });

  describe("retract (§7.2.3)", () => {
    it("by a non-owner: forbidden", async () => {
      const reply = await bob().iq(
        pubsubIq("set", A, `<retract node='${NODE}'><item id='${postId}'/></retract>`),
      );
      expectError(reply, FORBIDDEN);
    });

    it("of an item that does not exist: item-not-found", async () => {
      const reply = await alice().iq(
        pubsubIq("set", A, `<retract node='${NODE}'><item id='no-such-item'/></retract>`),
      );
      expectError(reply, NOT_FOUND);
    });

    it("without a node: bad-request + nodeid-required", async () => {
      const reply = await alice().iq(
        pubsubIq("set", A, `<retract><item id='${postId}'/></retract>`),
      );
      expectError(reply, { ...BAD_REQUEST, pubsub: "nodeid-required" });
    });

    it("without an item id: bad-request + item-required", async () => {
      const reply = await alice().iq(
        pubsubIq("set", A, `<retract node='${NODE}'><item/></retract>`),
      );
      expectError(reply, { ...BAD_REQUEST, pubsub: "item-required" });
    });
  });

  describe("subscribe, unsubscribe, items (§6)", () => {
    it("subscribe with another's JID: bad-request + invalid-jid", async () => {
      const reply = await bob().iq(
        pubsubIq("set", A, `<subscribe node='${NODE}' jid='alice@${D}'/>`),
      );
      expectError(reply, { ...BAD_REQUEST, pubsub: "invalid-jid" });
    });

    it("subscribe without a jid: bad-request + jid-required", async () => {
      const reply = await bob().iq(pubsubIq("set", A, `<subscribe node='${NODE}'/>`));
      expectError(reply, { ...BAD_REQUEST, pubsub: "jid-required" });
    });

    it("subscribe to a node that does not exist: item-not-found", async () => {
      // (bob's microblog node itself exists for every user: it is created on subscription.)
      const reply = await alice().iq(
        pubsubIq("set", svc("bob"), `<subscribe node='urn:example:other' jid='alice@${D}'/>`),
      );
      expectError(reply, NOT_FOUND);
    });

    it("anything at an address that is no user's: item-not-found", async () => {
      const reply = await bob().iq(
        pubsubIq(
          "set",
          `nobody\\40elsewhere.example@${C}`,
          `<subscribe node='${NODE}' jid='bob@${D}'/>`,
        ),
      );
      expectError(reply, NOT_FOUND);
    });

    it("unsubscribe when not subscribed: unexpected-request + not-subscribed", async () => {
      const reply = await bob().iq(
        pubsubIq("set", A, `<unsubscribe node='${NODE}' jid='bob@${D}'/>`),
      );
      expectError(reply, {
        type: "cancel",
        condition: "unexpected-request",
        pubsub: "not-subscribed",
      });
    });

    it("unsubscribe someone else: forbidden", async () => {
      const reply = await bob().iq(
        pubsubIq("set", A, `<unsubscribe node='${NODE}' jid='alice@${D}'/>`),
      );
      expectError(reply, FORBIDDEN);
    });

    it("subscription options when not subscribed: unexpected-request (modify) + not-subscribed", async () => {
      const reply = await bob().iq(pubsubIq("get", A, `<options node='${NODE}' jid='bob@${D}'/>`));
      expectError(reply, {
        type: "modify",
        condition: "unexpected-request",
        pubsub: "not-subscribed",
      });
    });

    it("items of a node that does not exist: item-not-found; without a node: nodeid-required", async () => {
      expectError(await getItems(alice(), "bob"), NOT_FOUND);
      expectError(await bob().iq(pubsubIq("get", A, "<items/>")), {
        ...BAD_REQUEST,
        pubsub: "nodeid-required",
      });
    });

    it("an RSM page after an unknown item: item-not-found", async () => {
      const set = `<set xmlns='${NS_RSM}'><max>2</max><after>no-such-item</after></set>`;
      expectError(await getItems(bob(), "alice", "", "", set), NOT_FOUND);
    });

    it("an unknown action: feature-not-implemented + unsupported", async () => {
      const reply = await bob().iq(pubsubIq("set", A, `<frobnicate node='${NODE}'/>`));
      expectError(reply, {
        type: "cancel",
        condition: "feature-not-implemented",
        pubsub: "unsupported",
        feature: "frobnicate",
      });
    });
  });

  describe("owner use cases (§8)", () => {
    it("create without a node (instant node): not-acceptable + nodeid-required", async () => {
      const reply = await alice().iq(pubsubIq("set", A, "<create/>"));
      expectError(reply, {
        type: "modify",
        condition: "not-acceptable",
        pubsub: "nodeid-required",
      });
    });

    it("create of another node name: not-acceptable; at another's address: forbidden", async () => {
      const other = await alice().iq(pubsubIq("set", A, "<create node='princely_musings'/>"));
      expectError(other, { type: "modify", condition: "not-acceptable" });
      const notMine = await alice().iq(pubsubIq("set", svc("bob"), `<create node='${NODE}'/>`));
      expectError(notMine, FORBIDDEN);
    });

    it("configure by a non-owner: forbidden; without a node: bad-request + nodeid-required", async () => {
      expectError(await bob().iq(ownerIq("get", A, `<configure node='${NODE}'/>`)), FORBIDDEN);
      expectError(await alice().iq(ownerIq("get", A, "<configure/>")), {
        ...BAD_REQUEST,
        pubsub: "nodeid-required",
      });
    });

    it("configure of a node that does not exist: item-not-found", async () => {
      expectError(
        await alice().iq(ownerIq("get", A, "<configure node='princely_musings'/>")),
        NOT_FOUND,
      );
    });

    it("the XEP's roster access model: not-acceptable + unsupported-access-model", async () => {
      const form =
        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>" +
        "<value>http://jabber.org/protocol/pubsub#node_config</value></field>" +
        "<field var='pubsub#access_model'><value>roster</value></field></x>";
      const reply = await alice().iq(
        ownerIq("set", A, `<configure node='${NODE}'>${form}</configure>`),
      );
      expectError(reply, {
        type: "modify",
        condition: "not-acceptable",
        pubsub: "unsupported-access-model",
      });
    });

    it("a max_items out of range: not-acceptable", async () => {
      const form =
        "<x xmlns='jabber:x:data' type='submit'>" +
        "<field var='pubsub#max_items'><value>0</value></field></x>";
      const reply = await alice().iq(
        ownerIq("set", A, `<configure node='${NODE}'>${form}</configure>`),
      );
      expectError(reply, { type: "modify", condition: "not-acceptable" });
    });

    it("subscriptions, affiliations, purge, delete by a non-owner: forbidden", async () => {
      for (const [type, inner] of [
        ["get", `<subscriptions node='${NODE}'/>`],
        [
          "set",
          `<subscriptions node='${NODE}'><subscription jid='bob@${D}' subscription='subscribed'/></subscriptions>`,
        ],
        ["get", `<affiliations node='${NODE}'/>`],
        [
          "set",
          `<affiliations node='${NODE}'><affiliation jid='bob@${D}' affiliation='owner'/></affiliations>`,
        ],
        ["set", `<purge node='${NODE}'/>`],
        ["set", `<delete node='${NODE}'/>`],
      ] as const) {
        expectError(await bob().iq(ownerIq(type, A, inner)), FORBIDDEN);
      }
    });

    it("purge or delete of a node that does not exist: item-not-found", async () => {
      expectError(await bob().iq(ownerIq("set", svc("bob"), `<purge node='${NODE}'/>`)), NOT_FOUND);
      expectError(
        await bob().iq(ownerIq("set", svc("bob"), `<delete node='${NODE}'/>`)),
        NOT_FOUND,
      );
    });

    it("an affiliation listed twice: bad-request", async () => {
      const reply = await alice().iq(
        ownerIq(
          "set",
          A,
          `<affiliations node='${NODE}'><affiliation jid='bob@${D}' affiliation='member'/>` +
            `<affiliation jid='bob@${D}' affiliation='outcast'/></affiliations>`,
        ),
      );
      expectError(reply, BAD_REQUEST);
    });
  });
});
