/** XEP-0060 §7 publish / retract and §6.5 items at u@C, the completed XEP-0277 entry, disco, restart. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_DATA_FORMS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_RSM } from "../../schemas/src/ns.js";
import {
  C,
  configure,
  D,
  entryXml,
  eventFrom,
  expectError,
  expectResult,
  forget,
  getItems,
  hasRetract,
  idsOf,
  itemsOf,
  NODE,
  NS_ATOM,
  NS_PUBSUB,
  publishIq,
  publishPost,
  pubsubIq,
  stanza,
  startWorld,
  submitForm,
  subscribe,
  svc,
  titleOf,
  type World,
} from "../harness/pubsub.js";
import { WORLDS } from "../harness/stores.js";

const SOLILOQUY = `
<entry xmlns='http://www.w3.org/2005/Atom'>
  <title>Soliloquy</title>
  <summary>
To be, or not to be: that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take arms against a sea of troubles,
And by opposing end them?
  </summary>
  <link rel='alternate' type='text/html'
        href='http://denmark.lit/2003/12/13/atom03'/>
  <id>tag:denmark.lit,2003:entry-32397</id>
  <published>2003-12-13T18:30:02Z</published>
  <updated>2003-12-13T18:30:02Z</updated>
</entry>`;

const PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options";

describe.each(WORLDS)("publish, retract and items on %s with %s", (kind, store) => {
  let w: World;
  const alice = () => w.clients.alice!;
  const bob = () => w.clients.bob!;
  const carol = () => w.clients.carol!;

  beforeAll(async () => {
    w = await startWorld(kind, ["alice", "bob", "carol"], store);
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("auto-creates the node on the owner's first publish and returns the new item id (§7.1.2)", async () => {
    const before = await alice().iq(
      stanza(`<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_ITEMS}'/></iq>`),
    );
    expect(before.getChild("query", NS_DISCO_ITEMS)!.getChildren("item")).toHaveLength(0);
    const reply = await alice().iq(publishIq(svc("alice"), SOLILOQUY));
    expectResult(reply);
    expect(reply.attrs.from).toBe(svc("alice"));
    const publish = reply.getChild("pubsub", NS_PUBSUB)!.getChild("publish")!;
    expect(publish.attrs.node).toBe(NODE);
    expect(publish.getChild("item")!.attrs.id).toMatch(/^[0-9A-Z]{26}$/);
    const after = await alice().iq(
      stanza(`<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_ITEMS}'/></iq>`),
    );
    const item = after.getChild("query", NS_DISCO_ITEMS)!.getChild("item")!;
    expect(item.attrs).toMatchObject({ jid: svc("alice"), node: NODE });
  });

  it("stores the completed entry: id, published, updated, author, alternate link", async () => {
    const id = await publishPost(alice(), "Hello from Warble");
    const [item] = itemsOf(await getItems(bob(), "alice", `<item id='${id}'/>`));
    const entry = item!.getChild("entry", NS_ATOM)!;
    expect(entry.getChildText("title", NS_ATOM)).toBe("Hello from Warble");
    expect(entry.getChildText("id", NS_ATOM)).toMatch(
      new RegExp(`^tag:${C},\\d{4}-\\d{2}-\\d{2}:alice/posts/${id}$`),
    );
    expect(entry.getChildText("published", NS_ATOM)).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/,
    );
    expect(entry.getChildText("updated", NS_ATOM)).toMatch(/Z$/);
    const author = entry.getChild("author", NS_ATOM)!;
    expect(author.getChildText("name", NS_ATOM)).toBe("alice");
    expect(author.getChildText("uri", NS_ATOM)).toBe(`xmpp:alice@${D}`);
    const alternate = entry
      .getChildren("link", NS_ATOM)
      .find((l) => l.attrs.rel === "alternate" && l.attrs.href.startsWith("xmpp:"));
    expect(alternate?.attrs.href).toBe(
      `xmpp:${svc("alice")}?;node=urn%3Axmpp%3Amicroblog%3A0;item=${id}`,
    );
  });

  it("publishes with an ItemID (§7.1.1) and republishing replaces the item, keeping <published>", async () => {
    const id = "bnd81g37d61f49fgn581";
    const reply = await alice().iq(publishIq(svc("alice"), SOLILOQUY, id));
    expectResult(reply);
    await publishPost(alice(), "Soliloquy, revised", id);
    const items = itemsOf(await getItems(bob(), "alice", `<item id='${id}'/>`));
    expect(items).toHaveLength(1);
    expect(titleOf(items[0]!)).toBe("Soliloquy, revised");
    expect(items[0]!.getChild("entry", NS_ATOM)!.getChildText("published", NS_ATOM)).toBe(
      "2003-12-13T18:30:02Z",
    );
  });

  it("keeps replies (thr:in-reply-to) and reposts (link rel=via)", async () => {
    const original = await publishPost(alice(), "An original thought");
    const href = `xmpp:${svc("alice")}?;node=urn%3Axmpp%3Amicroblog%3A0;item=${original}`;
    const ref = `tag:${C},2026-01-01:alice/posts/${original}`;
    const reply = await publishPost(
      bob(),
      "I agree",
      undefined,
      `<thr:in-reply-to xmlns:thr='http://purl.org/syndication/thread/1.0' ref='${ref}' href='${href}'/>`,
    );
    const repost = await publishPost(
      bob(),
      "An original thought",
      undefined,
      `<link rel='via' href='${href}' ref='${ref}'/>`,
    );
    const items = itemsOf(await getItems(carol(), "bob"));
    const byId = new Map(items.map((i) => [i.attrs.id, i.getChild("entry", NS_ATOM)!]));
    const thr = byId.get(reply)!.getChild("in-reply-to", "http://purl.org/syndication/thread/1.0");
    expect(thr?.attrs).toMatchObject({ ref, href });
    const via = byId
      .get(repost)!
      .getChildren("link", NS_ATOM)
      .find((l) => l.attrs.rel === "via");
    expect(via?.attrs).toMatchObject({ href, ref });
  });

  it("a prefix declared on the <iq>, not the entry, still names its namespace in what is stored", async () => {
    const THR = "http://purl.org/syndication/thread/1.0";
    const entry = `<entry xmlns='${NS_ATOM}'><title>prefix on the iq</title><thr:in-reply-to ref='r1'/></entry>`;
    const reply = await bob().iq(
      stanza(
        `<iq type='set' to='${svc("bob")}' xmlns:thr='${THR}'><pubsub xmlns='${NS_PUBSUB}'>` +
          `<publish node='${NODE}'><item>${entry}</item></publish></pubsub></iq>`,
      ),
    );
    expectResult(reply);
    const id = reply.getChild("pubsub")?.getChild("publish")?.getChild("item")?.attrs.id;
    const item = itemsOf(await getItems(carol(), "bob")).find((i) => i.attrs.id === id);
    expect(item?.getChild("entry", NS_ATOM)?.getChild("in-reply-to", THR)?.attrs.ref).toBe("r1");
  });

  it("publish-options: the XEP's unmet precondition is conflict + precondition-not-met (§7.1.5)", async () => {
    const options = submitForm(PUBLISH_OPTIONS, { "pubsub#access_model": "presence" });
    const reply = await alice().iq(
      publishIq(
        svc("alice"),
        SOLILOQUY,
        "ae890ac52d0df67ed7cfdf51b644e901",
        `<publish-options>${options}</publish-options>`,
      ),
    );
    expectError(reply, { type: "cancel", condition: "conflict", pubsub: "precondition-not-met" });
    const met = submitForm(PUBLISH_OPTIONS, { "pubsub#access_model": "open" });
    expectResult(
      await alice().iq(
        publishIq(
          svc("alice"),
          entryXml("met"),
          undefined,
          `<publish-options>${met}</publish-options>`,
        ),
      ),
    );
  });

  it("publish-options on the first publish configure the new node", async () => {
    const options = submitForm(PUBLISH_OPTIONS, {
      "pubsub#access_model": "whitelist",
      "pubsub#max_items": "5",
    });
    expectResult(
      await carol().iq(
        publishIq(
          svc("carol"),
          entryXml("private"),
          undefined,
          `<publish-options>${options}</publish-options>`,
        ),
      ),
    );
    const reply = await carol().iq(
      pubsubIq(
        "get",
        svc("carol"),
        `<configure node='${NODE}'/>`,
        "http://jabber.org/protocol/pubsub#owner",
      ),
    );
    const x = reply.getChild("pubsub")!.getChild("configure")!.getChild("x", NS_DATA_FORMS)!;
    const value = (v: string) =>
      x
        .getChildren("field")
        .find((f) => f.attrs.var === v)
        ?.getChildText("value");
    expect(value("pubsub#access_model")).toBe("whitelist");
    expect(value("pubsub#max_items")).toBe("5");
    await configure(carol(), "carol", { "pubsub#access_model": "open", "pubsub#max_items": "100" });
  });

  it("returns all items newest first, by id, and the newest max_items (§6.5)", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) ids.push(await publishPost(carol(), `post ${n}`));
    const all = idsOf(itemsOf(await getItems(bob(), "carol")));
    expect(all.slice(0, 5)).toEqual([...ids].reverse());
    const two = itemsOf(
      await getItems(bob(), "carol", `<item id='${ids[0]}'/><item id='${ids[3]}'/>`),
    );
    expect(idsOf(two).sort()).toEqual([ids[0], ids[3]].sort());
    const newest = await getItems(bob(), "carol", "", " max_items='2'");
    expect(idsOf(itemsOf(newest))).toEqual([ids[4], ids[3]]);
    expect(newest.getChild("pubsub", NS_PUBSUB)!.getChild("set", NS_RSM)).toBeUndefined();
    const none = itemsOf(await getItems(bob(), "carol", "<item id='no-such-item'/>"));
    expect(none).toHaveLength(0);
  });

  it("pages with RSM max/after/before and counts with <count/> (XEP-0059)", async () => {
    await w.clients.carol!.iq(
      pubsubIq(
        "set",
        svc("carol"),
        `<purge node='${NODE}'/>`,
        "http://jabber.org/protocol/pubsub#owner",
      ),
    );
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) ids.push(await publishPost(carol(), `page ${n}`));
    const newestFirst = [...ids].reverse();
    const page = async (set: string) => {
      const reply = await getItems(bob(), "carol", "", "", `<set xmlns='${NS_RSM}'>${set}</set>`);
      const rsm = reply.getChild("pubsub", NS_PUBSUB)!.getChild("set", NS_RSM)!;
      return {
        ids: idsOf(itemsOf(reply)),
        first: rsm.getChildText("first"),
        index: rsm.getChild("first")?.attrs.index,
        last: rsm.getChildText("last"),
        count: rsm.getChildText("count"),
      };
    };
    const p1 = await page("<max>2</max>");
    expect(p1).toEqual({
      ids: newestFirst.slice(0, 2),
      first: newestFirst[0],
      index: "0",
      last: newestFirst[1],
      count: "5",
    });
    const p2 = await page(`<max>2</max><after>${p1.last}</after>`);
    expect(p2).toMatchObject({ ids: newestFirst.slice(2, 4), index: "2", count: "5" });
    const lastPage = await page("<max>2</max><before/>");
    expect(lastPage.ids).toEqual(newestFirst.slice(3, 5));
    const previous = await page(`<max>2</max><before>${p2.first}</before>`);
    expect(previous.ids).toEqual(newestFirst.slice(0, 2));
    const count = await page("<max>0</max>");
    expect(count).toMatchObject({ ids: [], count: "5" });
  });

  it("retracts with notify: subscribers get <retract/> (§7.2.2.1)", async () => {
    await subscribe(bob(), "alice");
    const id = await publishPost(alice(), "to be retracted");
    forget(bob());
    const reply = await alice().iq(
      pubsubIq(
        "set",
        svc("alice"),
        `<retract node='${NODE}' notify='true'><item id='${id}'/></retract>`,
      ),
    );
    expectResult(reply);
    const msg = await bob().waitFor(eventFrom("alice", hasRetract(id)));
    expect(msg.attrs.type).toBe("headline");
    expect(idsOf(itemsOf(await getItems(bob(), "alice", `<item id='${id}'/>`)))).toEqual([]);
  });

  it("advertises the pubsub features and node meta-data in disco (§5.1, §5.3, §5.4, §5.5)", async () => {
    const info = await bob().iq(
      stanza(`<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_INFO}'/></iq>`),
    );
    const features = info
      .getChild("query", NS_DISCO_INFO)!
      .getChildren("feature")
      .map((f) => f.attrs.var);
    for (const f of [
      "publish",
      "retrieve-items",
      "retract-items",
      "subscribe",
      "retrieve-subscriptions",
      "retrieve-affiliations",
      "create-nodes",
      "config-node",
      "manage-subscriptions",
      "modify-affiliations",
      "purge-nodes",
      "delete-nodes",
      "item-ids",
      "auto-create",
      "persistent-items",
      "publish-options",
      "access-open",
      "access-whitelist",
      "outcast-affiliation",
      "publisher-affiliation",
      "member-affiliation",
      "retrieve-default",
      "subscription-notifications",
      "last-published",
      "access-authorize",
      "get-pending",
    ]) {
      expect(features).toContain(`${NS_PUBSUB}#${f}`);
    }
    expect(features).toEqual(expect.arrayContaining([NODE, NS_RSM]));
    const node = await bob().iq(
      stanza(
        `<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_INFO}' node='${NODE}'/></iq>`,
      ),
    );
    const q = node.getChild("query", NS_DISCO_INFO)!;
    expect(q.getChild("identity")!.attrs).toMatchObject({ category: "pubsub", type: "leaf" });
    const meta = q.getChild("x", NS_DATA_FORMS)!;
    const fields = Object.fromEntries(
      meta.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")]),
    );
    expect(fields).toMatchObject({
      FORM_TYPE: "http://jabber.org/protocol/pubsub#meta-data",
      "pubsub#creator": `alice@${D}`,
      "pubsub#access_model": "open",
    });
    const items = await bob().iq(
      stanza(
        `<iq type='get' to='${svc("alice")}'><query xmlns='${NS_DISCO_ITEMS}' node='${NODE}'/></iq>`,
      ),
    );
    const names = items
      .getChild("query", NS_DISCO_ITEMS)!
      .getChildren("item")
      .map((i) => i.attrs.name);
    expect(names).toContain("bnd81g37d61f49fgn581");
  });

  it("keeps items, subscriptions and configuration across a component restart", async () => {
    await configure(alice(), "alice", { "pubsub#title": "Alice before the restart" });
    const id = await publishPost(alice(), "written before the restart");
    await w.restartComponent();
    const items = itemsOf(await getItems(bob(), "alice", `<item id='${id}'/>`));
    expect(titleOf(items[0]!)).toBe("written before the restart");
    const subs = await bob().iq(pubsubIq("get", svc("alice"), "<subscriptions/>"));
    const sub = subs
      .getChild("pubsub", NS_PUBSUB)!
      .getChild("subscriptions")!
      .getChild("subscription")!;
    expect(sub.attrs).toMatchObject({ node: NODE, jid: `bob@${D}`, subscription: "subscribed" });
    const config = await alice().iq(
      pubsubIq(
        "get",
        svc("alice"),
        `<configure node='${NODE}'/>`,
        "http://jabber.org/protocol/pubsub#owner",
      ),
    );
    expect(config.toString()).toContain("Alice before the restart");
    forget(bob());
    const fresh = await publishPost(alice(), "written after the restart");
    const msg = await bob().waitFor(
      eventFrom("alice", (e) => e.getChild("items")?.getChild("item")?.attrs.id === fresh),
    );
    expect(msg.getChildText("body")).toBe(`alice@${D}: written after the restart`);
  });
});
