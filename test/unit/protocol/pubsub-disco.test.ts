/**
 * The pubsub disco contributor asks the domain policy for each asker: a banned JID or denied
 * domain gets no item ids, no node meta-data and no node in u@C's disco#items.
 */
import { describe, expect, it } from "vitest";
import { pubsubDisco } from "../../../component/src/protocol/pubsub/pubsub-disco.js";
import { ALICE, BOB, CAROL, EVE, NODE, USERS, withPosts } from "../domain/fixture.js";

async function setup() {
  const h = await withPosts(["a", "b"], {
    policy: { usersDomains: [USERS], deniedDomains: ["rogue.example"] },
  });
  await h.service.setNodeAffiliations(ALICE, NODE, [{ entity: CAROL, affiliation: "outcast" }]);
  return { h, disco: pubsubDisco(h.service) };
}

const names = (els: { attrs: Record<string, string | undefined> }[] | undefined) =>
  els?.map((e) => e.attrs.name);

describe("pubsubDisco", () => {
  it("lists the item ids of an open node to a reader", async () => {
    const { disco } = await setup();
    expect(names(await disco.nodeItems?.(NODE.service, NODE.node, ALICE, `${BOB}/phone`))).toEqual([
      "b",
      "a",
    ]);
    expect(await disco.nodeInfo?.(NODE.service, NODE.node, ALICE, BOB)).toHaveLength(3);
    expect(await disco.userItems?.(NODE.service, ALICE, BOB)).toHaveLength(1);
  });

  it("shows a banned JID and a denied domain nothing of the node", async () => {
    const { disco } = await setup();
    for (const from of [`${CAROL}/laptop`, EVE]) {
      expect(await disco.nodeItems?.(NODE.service, NODE.node, ALICE, from), from).toBeUndefined();
      expect(await disco.nodeInfo?.(NODE.service, NODE.node, ALICE, from), from).toBeUndefined();
      expect(await disco.userItems?.(NODE.service, ALICE, from), from).toEqual([]);
    }
  });

  it("lists no item ids of an authorize node to a non-subscriber", async () => {
    const { h, disco } = await setup();
    await h.service.configureNode(ALICE, NODE, { accessModel: "authorize" });
    expect(await disco.nodeItems?.(NODE.service, NODE.node, ALICE, BOB)).toEqual([]);
    expect(names(await disco.nodeItems?.(NODE.service, NODE.node, ALICE, ALICE))).toEqual([
      "b",
      "a",
    ]);
  });
});
