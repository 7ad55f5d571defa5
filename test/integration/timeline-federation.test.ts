import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_WARBLE } from "../../schemas/src/microblog-disco.js";
import { NS_PUBSUB_EVENT } from "../../schemas/src/ns.js";
import type { Element } from "../../schemas/src/xml.js";
import { runCommand } from "../harness/authorization.js";
import { connectClient, type TestClient } from "../harness/client.js";
import type { ComponentProcess } from "../harness/component.js";
import type { FederatedServer } from "../harness/federation.js";
import { startFederatedProsodyPair } from "../harness/federation.js";
import { startFederatedMixedPair } from "../harness/federation-mixed.js";
import { entryXml, expectResult, publishIq, stanza } from "../harness/pubsub.js";
import { tempDir } from "../harness/servers.js";
import {
  followVia,
  isRelayFrom,
  mamAll,
  relayedItem,
  relaysTo,
  spawnWarble,
} from "../harness/timeline.js";

/**
 * Home timelines across two federated servers, each with its own Warble: alice publishes on
 * Prosody (localhost); carol and dave are on the other server (a second Prosody, or ejabberd).
 * Outages: the follower's server, the follower's Warble, and the publisher's Warble restarted
 * with retries queued. Every post must arrive once, in order.
 */
const PAIRS = ["prosody", "ejabberd"] as const;

/** Retries slow enough that only a sign of life (or catch-up) brings a post in a test's time. */
const SETTINGS = {
  limits: { retryFirstSeconds: 30, retryMaxSeconds: 60, deliveryQuietSeconds: 10 },
};

async function untilTrue(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out: ${what}`);
}

const countOf = (list: (string | undefined)[], v: string) => list.filter((x) => x === v).length;

describe.each(PAIRS)("home timelines across servers (Prosody with %s)", (kind) => {
  let pub: FederatedServer;
  let fol: FederatedServer;
  let dispose: () => Promise<void>;
  let pubWarble: ComponentProcess;
  let folWarble: ComponentProcess;
  const dbs = { pub: `${tempDir("db")}/pub.db`, fol: `${tempDir("db")}/fol.db` };
  let alice: TestClient;
  let carol: TestClient;
  let dave: TestClient;
  let aliceSvc: string;
  let carolSvc: string;
  const posted: string[] = [];

  const connect = (server: FederatedServer, user: string) =>
    connectClient(server.ports.c2s, server.usersDomain, user, `${user}-pw`);

  const startWarble = async (side: "pub" | "fol") => {
    const server = side === "pub" ? pub : fol;
    const settings =
      side === "fol" ? { ...SETTINGS, admins: [`carol@${fol.usersDomain}`] } : SETTINGS;
    const w = spawnWarble(server, dbs[side], settings);
    await w.waitForLine(/"msg":"ready"/, 20_000);
    if (side === "pub") pubWarble = w;
    else folWarble = w;
    return w;
  };

  const post = async (text: string) => {
    const reply = await alice.iq(publishIq(aliceSvc, entryXml(text)), 15_000);
    expectResult(reply);
    const id = reply.getChild("pubsub")?.getChild("publish")?.getChild("item")?.attrs.id as string;
    posted.push(id);
    return id;
  };

  beforeAll(async () => {
    if (kind === "prosody") {
      const pair = await startFederatedProsodyPair();
      [pub, fol, dispose] = [pair.home, pair.rogue, () => pair.dispose()];
    } else {
      const pair = await startFederatedMixedPair();
      [pub, fol, dispose] = [pair.prosody, pair.ejabberd, () => pair.dispose()];
    }
    await pub.register("alice", "alice-pw");
    await pub.register("mallory", "mallory-pw");
    await pub.register("erin", "erin-pw");
    await fol.register("carol", "carol-pw");
    await fol.register("dave", "dave-pw");
    await Promise.all([startWarble("pub"), startWarble("fol")]);
    [alice, carol, dave] = await Promise.all([
      connect(pub, "alice"),
      connect(fol, "carol"),
      connect(fol, "dave"),
    ]);
    aliceSvc = `alice@${pub.componentDomain}`;
    carolSvc = `carol@${fol.componentDomain}`;
  });

  afterAll(async () => {
    await Promise.allSettled([alice?.stop(), carol?.stop(), dave?.stop()]);
    await Promise.allSettled([pubWarble?.stop(), folWarble?.stop()]);
    await dispose?.();
  });

  const logs = () =>
    `--- pub warble ---\n${pubWarble.output()}\n--- fol warble ---\n${folWarble.output()}`;

  it("follows across servers: carol follows alice@localhost, found by disco", async () => {
    const out = await followVia(carol, fol.componentDomain, `alice@${pub.usersDomain}`);
    expect(out.reply.attrs.type, logs()).toBe("result");
    expect(out.note ?? "").toMatch(/follow/i);
    const back = await followVia(alice, pub.componentDomain, `carol@${fol.usersDomain}`);
    expect(back.reply.attrs.type, logs()).toBe("result");
  });

  it("relays alice's posts to carol in order, once, and keeps them in her timeline", async () => {
    const p1 = await post("first across");
    const p2 = await post("second across");
    await carol.waitFor((el) => isRelayFrom(carolSvc)(el) && relayedItem(el) === p2, 20_000);
    const relayed = relaysTo(carol, carolSvc).map(relayedItem);
    expect(relayed.filter((id) => id === p1 || id === p2)).toEqual([p1, p2]);
    const body = relaysTo(carol, carolSvc)
      .find((m) => relayedItem(m) === p1)
      ?.getChildText("body");
    expect(body).toMatch(new RegExp(`^alice@${pub.usersDomain}: first across \\[[a-z2-7]{6}\\]$`));
    const archive = (await mamAll(carol, carolSvc)).map((p) => p.itemId);
    expect(archive.filter((id) => id === p1 || id === p2)).toEqual([p1, p2]);
  });

  it("a post by carol reaches alice's timeline the other way", async () => {
    const reply = await carol.iq(
      publishIq(carolSvc, entryXml("hello from the other side")),
      15_000,
    );
    expectResult(reply);
    const id = reply.getChild("pubsub")?.getChild("publish")?.getChild("item")?.attrs.id as string;
    await alice.waitFor((el) => isRelayFrom(aliceSvc)(el) && relayedItem(el) === id, 20_000);
  });

  it("by chat across servers: last shows alice's newest post; a reply to it is quoted in her relay", async () => {
    const chat = async (text: string) => {
      const seen = new Set(carol.received);
      await carol.send(
        stanza(`<message type='chat' to='${carolSvc}'><body>${text}</body></message>`),
      );
      const answer = await carol.waitFor(
        (el) =>
          !seen.has(el) &&
          el.name === "message" &&
          String(el.attrs.from).split("/")[0] === carolSvc &&
          el.getChild("reply", NS_WARBLE) !== undefined,
        20_000,
      );
      return answer.getChildText("body") ?? "";
    };
    const line = await chat(`last alice@${pub.usersDomain}`);
    expect(line, logs()).toMatch(
      new RegExp(`^alice@${pub.usersDomain}: second across \\[[a-z2-7]{6}\\]$`),
    );
    const id = /\[([a-z2-7]{6})\]$/.exec(line)?.[1];
    expect(await chat(`reply ${id} well said`)).toMatch(/^Replied as item /);
    const relay = await alice.waitFor(
      (el) => isRelayFrom(aliceSvc)(el) && (el.getChildText("body") ?? "").includes("well said"),
      20_000,
    );
    expect(relay.getChildText("body")).toMatch(
      new RegExp(
        `^carol@${fol.usersDomain}, replying to alice@${pub.usersDomain} \\("second across"\\): well said \\[[a-z2-7]{6}\\]$`,
      ),
    );
  });

  it("carol's server stopped while alice posts twice: both arrive within a minute, once", async () => {
    await carol.stop();
    await fol.stop();
    const p3 = await post("while your server was down (1)");
    const p4 = await post("while your server was down (2)");
    await fol.restart();
    carol = await connect(fol, "carol");
    // Offline storage brings the relays made while carol was away.
    await untilTrue(
      () => [p3, p4].every((id) => relaysTo(carol, carolSvc).some((m) => relayedItem(m) === id)),
      60_000,
      `relays of ${p3} and ${p4}\n${logs()}`,
    );
    const archive = (await mamAll(carol, carolSvc)).map((p) => p.itemId);
    for (const id of posted) expect(countOf(archive, id), id).toBe(1);
    expect(
      archive.filter((id) => posted.includes(id)),
      `${JSON.stringify(archive)} vs ${JSON.stringify(posted)}\n${logs()}`,
    ).toEqual(posted);
  });

  it("carol's Warble stopped while alice posts: caught up at its start, once", async () => {
    await folWarble.stop();
    const bounces = pubWarble.output().split("kept to send again").length;
    const p5 = await post("while your Warble was down (1)");
    const p6 = await post("while your Warble was down (2)");
    await untilTrue(
      () => pubWarble.output().split("kept to send again").length > bounces,
      30_000,
      `a bounce at alice's Warble\n${logs()}`,
    );
    await startWarble("fol");
    await untilTrue(
      () => [p5, p6].every((id) => relaysTo(carol, carolSvc).some((m) => relayedItem(m) === id)),
      60_000,
      `relays of ${p5} and ${p6}\n${logs()}`,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const relayed = relaysTo(carol, carolSvc).map(relayedItem);
    for (const id of [p5, p6]) expect(countOf(relayed, id), id).toBe(1);
    const archive = (await mamAll(carol, carolSvc)).map((p) => p.itemId);
    expect(
      archive.filter((id) => posted.includes(id)),
      `${JSON.stringify(archive)} vs ${JSON.stringify(posted)}\n${logs()}`,
    ).toEqual(posted);
  });

  it("a retry queued at alice's Warble survives its restart: dave, a plain pubsub subscriber, gets it once", async () => {
    // dave's connection went with his server earlier.
    await dave.stop().catch(() => {});
    dave = await connect(fol, "dave");
    const sub = await dave.iq(
      stanza(
        `<iq type='set' to='${aliceSvc}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='urn:xmpp:microblog:0' jid='dave@${fol.usersDomain}'/></pubsub></iq>`,
      ),
      15_000,
    );
    expectResult(sub);
    await Promise.all([dave.stop(), carol.stop()]);
    await fol.stop();
    const before = pubWarble.output().split("kept to send again").length;
    const p7 = await post("queued while dave's server was down");
    await untilTrue(
      () => pubWarble.output().split("kept to send again").length > before,
      30_000,
      `a bounce at alice's Warble\n${logs()}`,
    );
    await pubWarble.stop();
    await startWarble("pub");
    await fol.restart();
    dave = await connect(fol, "dave");
    carol = await connect(fol, "carol");
    // A sign of life from dave's domain makes what waits for it due at once.
    await dave.iq(stanza(`<iq type='get' to='${aliceSvc}'><ping xmlns='urn:xmpp:ping'/></iq>`));
    const hasP7 = (el: Element) =>
      el.name === "message" &&
      el.getChild("event", NS_PUBSUB_EVENT)?.getChild("items")?.getChild("item")?.attrs.id === p7;
    await dave.waitFor(hasP7, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect(dave.received.filter(hasP7)).toHaveLength(1);
  });

  it("an offline follower gets the relay when she logs in (the server's offline storage)", async () => {
    await carol.stop();
    const id = await post("while you were offline");
    // The relay goes out once the post reached carol's Warble (no client of hers is online to
    // see it happen): give it time to reach her server's offline storage.
    await new Promise((r) => setTimeout(r, 3000));
    carol = await connect(fol, "carol");
    await carol
      .waitFor((el) => isRelayFrom(carolSvc)(el) && relayedItem(el) === id, 20_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });
  });

  it("follows a plain PEP microblog (Prosody's mod_pep) by its xmpp: URI", async () => {
    const erin = await connect(pub, "erin");
    try {
      const pepPublish = (id: string, text: string) =>
        erin.iq(
          stanza(
            `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:microblog:0'><item id='${id}'>${entryXml(text)}</item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`,
          ),
          15_000,
        );
      expectResult(await pepPublish("pep-1", "from my own server's PEP"));
      const uri = `xmpp:erin@${pub.usersDomain}?;node=urn%3Axmpp%3Amicroblog%3A0`;
      const out = await followVia(carol, fol.componentDomain, uri);
      expect(out.note ?? "", logs()).toMatch(/now follow/);
      await untilTrue(
        async () => (await mamAll(carol, carolSvc)).some((p) => p.itemId === "pep-1"),
        20_000,
        `pep-1 in carol's timeline\n${logs()}`,
      );
      expectResult(await pepPublish("pep-2", "a second PEP post"));
      await carol
        .waitFor((el) => isRelayFrom(carolSvc)(el) && relayedItem(el) === "pep-2", 20_000)
        .catch((err: Error) => {
          throw new Error(`${err.message}\n${logs()}`);
        });
      const body = relaysTo(carol, carolSvc).find((m) => relayedItem(m) === "pep-2");
      expect(body?.getChildText("body")).toMatch(/^erin@\S+: a second PEP post \[[a-z2-7]{6}\]$/);
    } finally {
      await erin.stop();
    }
  });

  it("a locked account's denial and an owner's removal reach carol's Warble: the follows end", async () => {
    const mallory = await connect(pub, "mallory");
    const C1 = pub.componentDomain;
    const C2 = fol.componentDomain;
    const followingOf = async () => (await runCommand(carol, "following", {}, C2)).reply.toString();
    try {
      const locked = await runCommand(
        mallory,
        "settings",
        { access_model: "authorize", relay: "1" },
        C1,
      );
      expect(locked.reply.attrs.type).toBe("result");
      const asked = await followVia(carol, C2, `mallory@${pub.usersDomain}`);
      expect(asked.note ?? "", logs()).toMatch(/waiting for approval/);
      expect(await followingOf()).toContain(`mallory@${pub.usersDomain}`);
      const denied = await runCommand(mallory, "deny", { jid: carolSvc }, C1);
      expect(denied.reply.attrs.type, denied.reply.toString()).toBe("result");
      await untilTrue(
        async () => !(await followingOf()).includes(`mallory@${pub.usersDomain}`),
        20_000,
        `the denial at carol's Warble\n${logs()}`,
      );
      // alice removes carol's subscription (§8.8): her posts leave carol's timeline.
      const removed = await alice.iq(
        stanza(
          `<iq type='set' to='${aliceSvc}'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><subscriptions node='urn:xmpp:microblog:0'><subscription jid='${carolSvc}' subscription='none'/></subscriptions></pubsub></iq>`,
        ),
      );
      expectResult(removed);
      await untilTrue(
        async () => !(await followingOf()).includes(`alice@${pub.usersDomain}`),
        20_000,
        `the removal at carol's Warble\n${logs()}`,
      );
      const archive = await mamAll(carol, carolSvc);
      expect(archive.filter((p) => p.service === aliceSvc)).toEqual([]);
    } finally {
      await mallory.stop();
    }
  });

  it("an event pushed at carol@C by a node she does not follow is dropped and counted", async () => {
    const mallory = await connect(pub, "mallory");
    try {
      const forged = stanza(
        `<message to='${carolSvc}'><event xmlns='${NS_PUBSUB_EVENT}'><items node='urn:xmpp:microblog:0'><item id='spam-1'>${entryXml("buy now")}</item></items></event></message>`,
      );
      const counted = async () =>
        (await runCommand(carol, "stats", {}, fol.componentDomain)).fields["dropped:not-following"];
      const before = Number((await counted())?.[0] ?? "0");
      await mallory.send(forged);
      await folWarble.waitForLine(
        /dropped an event at a home timeline.*not-following|not-following.*dropped an event/,
        20_000,
      );
      const archive = (await mamAll(carol, carolSvc)).map((p) => p.itemId);
      expect(archive).not.toContain("spam-1");
      expect(relaysTo(carol, carolSvc).map(relayedItem)).not.toContain("spam-1");
      expect(Number((await counted())?.[0] ?? "0")).toBe(before + 1);
    } finally {
      await mallory.stop();
    }
  });
});
