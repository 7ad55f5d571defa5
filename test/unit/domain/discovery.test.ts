/**
 * discoverNode: what XEP-0030 shows one asker of a node is the policy's decision. Banned JIDs
 * and domains (by the owner or the operator) do not see the node; item ids only for those who
 * may retrieve items; ids are read without payloads; nothing is counted as a refusal.
 */
import { describe, expect, it, vi } from "vitest";
import { ALICE, BOB, CAROL, EVE, NODE, USERS, withPosts } from "./fixture.js";

const POSTS = ["a", "b", "c"];
const idsSeenBy = (h: ReturnType<typeof withPosts>, jid: string, max = 10) =>
  h.service.discoverNode(jid, NODE, max).result?.itemIds;

describe("discoverNode", () => {
  it("open node: anyone sees the newest item ids, at most max, without payloads", () => {
    const h = withPosts(POSTS);
    const listItems = vi.spyOn(h.store, "listItems");
    const getItems = vi.spyOn(h.store, "getItems");
    expect(idsSeenBy(h, `${CAROL}/laptop`)).toEqual(["c", "b", "a"]);
    expect(idsSeenBy(h, CAROL, 2)).toEqual(["c", "b"]);
    expect(h.service.discoverNode(CAROL, NODE).result).toMatchObject({ node: NODE, itemIds: [] });
    expect(listItems).not.toHaveBeenCalled();
    expect(getItems).not.toHaveBeenCalled();
  });

  it("a JID or domain banned by the owner does not see the node", () => {
    const h = withPosts(POSTS);
    h.service.setNodeAffiliations(ALICE, NODE, [
      { entity: CAROL, affiliation: "outcast" },
      { entity: "rogue.example", affiliation: "outcast" },
    ]);
    expect(h.service.discoverNode(`${CAROL}/laptop`, NODE, 10).result).toBeUndefined();
    expect(h.service.discoverNode(EVE, NODE, 10).result).toBeUndefined();
    expect(idsSeenBy(h, BOB)).toEqual(["c", "b", "a"]);
  });

  it("a domain the operator denies, or leaves off its allow list, does not see the node", () => {
    const denied = withPosts(POSTS, {
      policy: { usersDomains: [USERS], deniedDomains: ["rogue.example"] },
    });
    expect(denied.service.discoverNode(EVE, NODE, 10).result).toBeUndefined();
    expect(idsSeenBy(denied, CAROL)).toEqual(["c", "b", "a"]);
    const allowList = withPosts(POSTS, {
      policy: { usersDomains: [USERS], allowedDomains: ["remote.example"] },
    });
    expect(allowList.service.discoverNode(EVE, NODE, 10).result).toBeUndefined();
    expect(idsSeenBy(allowList, CAROL)).toEqual(["c", "b", "a"]);
    expect(idsSeenBy(allowList, BOB)).toEqual(["c", "b", "a"]);
  });

  it("authorize: the node is seen, its item ids only by subscribers, members and the owner", () => {
    const h = withPosts(POSTS);
    h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(idsSeenBy(h, CAROL)).toEqual([]);
    h.service.subscribe(CAROL, NODE, { jid: CAROL });
    expect(idsSeenBy(h, CAROL)).toEqual([]);
    h.service.approveSubscription(ALICE, NODE, CAROL, true);
    expect(idsSeenBy(h, CAROL)).toEqual(["c", "b", "a"]);
    h.service.setNodeAffiliations(ALICE, NODE, [{ entity: BOB, affiliation: "member" }]);
    expect(idsSeenBy(h, BOB)).toEqual(["c", "b", "a"]);
    expect(idsSeenBy(h, ALICE)).toEqual(["c", "b", "a"]);
  });

  it("whitelist: non-members see the node's meta-data but no item ids", () => {
    const h = withPosts(POSTS);
    h.service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    expect(h.service.discoverNode(CAROL, NODE, 10).result).toMatchObject({ itemIds: [] });
    h.service.setNodeAffiliations(ALICE, NODE, [{ entity: CAROL, affiliation: "member" }]);
    expect(idsSeenBy(h, CAROL)).toEqual(["c", "b", "a"]);
  });

  it("an unknown node is undefined; nothing is counted as a refusal", () => {
    const h = withPosts(POSTS);
    h.service.setNodeAffiliations(ALICE, NODE, [{ entity: EVE, affiliation: "outcast" }]);
    h.service.configureNode(ALICE, NODE, { accessModel: "whitelist" });
    const before = h.service.getCounters();
    expect(h.service.discoverNode(CAROL, { ...NODE, node: "other" }, 10).result).toBeUndefined();
    h.service.discoverNode(EVE, NODE, 10);
    h.service.discoverNode(CAROL, NODE, 10);
    expect(h.service.getCounters()).toEqual(before);
  });
});
