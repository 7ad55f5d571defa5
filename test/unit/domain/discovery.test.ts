/**
 * discoverNode: what XEP-0030 shows one asker of a node is the policy's decision. Banned JIDs
 * and domains (by the owner or the operator) do not see the node; item ids only for those who
 * may retrieve items; ids are read without payloads; nothing is counted as a refusal.
 */
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  CAROL,
  CountingStore,
  EVE,
  type Harness,
  NODE,
  USERS,
  withPosts,
} from "./fixture.js";

const POSTS = ["a", "b", "c"];
const idsSeenBy = async (h: Harness, jid: string, max = 10) =>
  (await h.service.discoverNode(jid, NODE, max)).result?.itemIds;

describe("discoverNode", () => {
  it("open node: anyone sees the newest item ids, at most max, without payloads", async () => {
    const store = new CountingStore();
    const h = await withPosts(POSTS, { store });
    store.reset();
    expect(await idsSeenBy(h, `${CAROL}/laptop`)).toEqual(["c", "b", "a"]);
    expect(await idsSeenBy(h, CAROL, 2)).toEqual(["c", "b"]);
    expect((await h.service.discoverNode(CAROL, NODE)).result).toMatchObject({
      node: NODE,
      itemIds: [],
    });
    expect(store.calls).toContain("listItemIds");
    expect(store.calls).not.toContain("listItems");
    expect(store.calls).not.toContain("getItems");
  });

  it("a JID or domain banned by the owner does not see the node", async () => {
    const h = await withPosts(POSTS);
    await h.service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "outcast" },
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    expect((await h.service.discoverNode(`${CAROL}/laptop`, NODE, 10)).result).toBeUndefined();
    expect((await h.service.discoverNode(EVE, NODE, 10)).result).toBeUndefined();
    expect(await idsSeenBy(h, BOB)).toEqual(["c", "b", "a"]);
  });

  it("a domain the operator denies, or leaves off its allow list, does not see the node", async () => {
    const denied = await withPosts(POSTS, {
      policy: { usersDomains: [USERS], deniedDomains: ["rogue.example"] },
    });
    expect((await denied.service.discoverNode(EVE, NODE, 10)).result).toBeUndefined();
    expect(await idsSeenBy(denied, CAROL)).toEqual(["c", "b", "a"]);
    const allowList = await withPosts(POSTS, {
      policy: { usersDomains: [USERS], allowedDomains: ["remote.example"] },
    });
    expect((await allowList.service.discoverNode(EVE, NODE, 10)).result).toBeUndefined();
    expect(await idsSeenBy(allowList, CAROL)).toEqual(["c", "b", "a"]);
    expect(await idsSeenBy(allowList, BOB)).toEqual(["c", "b", "a"]);
  });

  it("authorize: the node is seen, its item ids only by subscribers, members and the owner", async () => {
    const h = await withPosts(POSTS);
    await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(await idsSeenBy(h, CAROL)).toEqual([]);
    await h.service.subscribe(CAROL, NODE, { jid: CAROL });
    expect(await idsSeenBy(h, CAROL)).toEqual([]);
    await h.service.approveSubscription(ALICE, NODE, CAROL, true);
    expect(await idsSeenBy(h, CAROL)).toEqual(["c", "b", "a"]);
    await h.service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    expect(await idsSeenBy(h, BOB)).toEqual(["c", "b", "a"]);
    expect(await idsSeenBy(h, ALICE)).toEqual(["c", "b", "a"]);
  });

  it("whitelist: non-members see the node's meta-data but no item ids", async () => {
    const h = await withPosts(POSTS);
    await h.service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    expect((await h.service.discoverNode(CAROL, NODE, 10)).result).toMatchObject({ itemIds: [] });
    await h.service.setNodeAffiliations(ALICE, NODE, [{ entity: CAROL, affiliation: "member" }]);
    expect(await idsSeenBy(h, CAROL)).toEqual(["c", "b", "a"]);
  });

  it("an unknown node is undefined; nothing is counted as a refusal", async () => {
    const h = await withPosts(POSTS);
    await h.service.setNodeAffiliations(ALICE, NODE, [{ entity: EVE, affiliation: "outcast" }]);
    await h.service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    const before = await h.service.getCounters();
    expect(
      (await h.service.discoverNode(CAROL, { ...NODE, node: "other" }, 10)).result,
    ).toBeUndefined();
    await h.service.discoverNode(EVE, NODE, 10);
    await h.service.discoverNode(CAROL, NODE, 10);
    expect(await h.service.getCounters()).toEqual(before);
  });
});
