/**
 * Issue 4, attacks from a real second server over s2s: rogue.localhost users attack alice's
 * locked microblog alice@microblog.localhost on the home server. A subscribe with someone else's
 * JID; forged §8.6 approvals (and the owner's other tools, used by a stranger); a JID ban and a
 * ban of the whole domain (the `block` command), by pubsub and by presence. After each: alice's
 * §8.8 list, `followers` and `pending` hold exactly what alice allowed, the admin's `stats`
 * counts each refusal by reason, and the legitimate followers (bob@localhost and, until the
 * domain ban, rita@rogue.localhost, approved before the attacks) still get new posts.
 * The flood of sockpuppets, expiry and the operator's deny list: federation-attacks-limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import type { Element } from "../../schemas/src/xml.js";
import {
  ADMIN,
  type AttackWorld,
  expectOwnerView,
  home,
  presenceFrom,
  ROGUE,
  rogue,
  startAttackWorld,
  until,
} from "../harness/attacks.js";
import {
  answerMessage,
  approvalFormFor,
  commandIq,
  counterDelta,
  errorMessage,
  lock,
  ownSubscriptions,
  runCommand,
  stats,
  subscribeIq,
  subscriptionEvent,
  subscriptionOf,
} from "../harness/authorization.js";
import {
  expectError,
  forget,
  NODE,
  NS_PUBSUB_OWNER,
  ownerIq,
  postFrom,
  publishPost,
  pubsubIq,
  sleep,
  stanza,
  svc,
} from "../harness/pubsub.js";

const GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";
const ALICE = home("alice");
const BOB = home("bob");
const MALLORY = rogue("mallory");
const TRENT = rogue("trent");
const RITA = rogue("rita");
const IVY = rogue("ivy");

describe("attacks from a rogue server on a locked account (s2s)", () => {
  let w: AttackWorld;
  const alice = () => w.c(ALICE);
  const mallory = () => w.c(MALLORY);
  const admin = () => w.c(ADMIN);

  /** alice posts: every one of `to` gets it (over s2s for rogue users), nobody in `notTo`. */
  const postReaches = async (to: readonly string[], notTo: readonly string[]) => {
    const all = [...to, ...notTo].map((j) => w.c(j));
    forget(...all);
    const id = await publishPost(alice(), `post ${Math.random().toString(36).slice(2)}`);
    for (const jid of to) {
      await w
        .c(jid)
        .waitFor(postFrom("alice", id), 10_000)
        .catch((err: Error) => {
          throw new Error(`${jid}: ${err.message}\n${w.logs()}`);
        });
    }
    await sleep(500);
    for (const jid of notTo) {
      expect(w.c(jid).received.filter(postFrom("alice")), jid).toEqual([]);
    }
  };

  /** Approve `jid`'s pending request with the §8.6 form alice received; wait for the event. */
  const approve = async (jid: string) => {
    const form = await alice().waitFor(approvalFormFor("alice", jid), 10_000);
    await alice().send(answerMessage("alice", jid, true, form.attrs.id));
    await w.c(jid).waitFor(subscriptionEvent("alice", jid, "subscribed"), 10_000);
  };

  beforeAll(async () => {
    w = await startAttackWorld(["alice", "bob"], ["mallory", "trent", "rita", "ivy"]);
    await publishPost(alice(), "before the lock");
    await lock(alice(), "alice");
    // bob@localhost and rita@rogue.localhost ask; alice approves both.
    for (const client of [w.c(BOB), w.c(RITA)]) {
      expect(subscriptionOf(await subscribeIq(client, "alice")).subscription).toBe("pending");
      await approve(client.jid);
    }
    await expectOwnerView(alice(), { subscribed: [BOB, RITA], pending: [] });
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("the legitimate followers, on both servers, get alice's posts", async () => {
    await postReaches([BOB, RITA], [MALLORY, TRENT]);
  });

  it("1. subscribe with someone else's JID: bad-request + invalid-jid, nothing stored", async () => {
    const before = await stats(admin());
    for (const jid of [BOB, `${BOB}/phone`, TRENT, RITA]) {
      expectError(await subscribeIq(mallory(), "alice", jid), {
        type: "modify",
        condition: "bad-request",
        pubsub: "invalid-jid",
      });
    }
    // Ending someone else's subscription is the owner's request (§8.8): forbidden.
    expectError(
      await mallory().iq(
        pubsubIq("set", svc("alice"), `<unsubscribe node='${NODE}' jid='${RITA}'/>`),
      ),
      { type: "auth", condition: "forbidden" },
    );
    await expectOwnerView(alice(), { subscribed: [BOB, RITA], pending: [] });
    expect(await ownSubscriptions(mallory(), "alice")).toEqual([]);
    expect(await ownSubscriptions(w.c(TRENT), "alice")).toEqual([]);
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:invalid-jid": 4,
      "refused:insufficient-privileges": 1,
    });
    expect(alice().received.filter(approvalFormFor("alice", TRENT))).toEqual([]);
    await postReaches([BOB, RITA], [MALLORY, TRENT]);
  });

  it("3. forged approvals and the owner's tools in a stranger's hands: forbidden, still pending", async () => {
    for (const client of [mallory(), w.c(TRENT)]) {
      expect(subscriptionOf(await subscribeIq(client, "alice")).subscription).toBe("pending");
      await alice().waitFor(approvalFormFor("alice", client.jid), 10_000);
    }
    await expectOwnerView(alice(), { subscribed: [BOB, RITA], pending: [MALLORY, TRENT] });
    const before = await stats(admin());
    forget(mallory(), w.c(TRENT), w.c(RITA));

    // §8.6 answers as messages to alice@microblog.localhost: approve itself, the other
    // sockpuppet, and deny the legitimate rogue follower.
    const forged = [
      ["forged-self", MALLORY, true],
      ["forged-other", TRENT, true],
      ["forged-deny", RITA, false],
    ] as const;
    for (const [id, jid, allow] of forged) {
      await mallory().send(answerMessage("alice", jid, allow, id));
    }
    for (const [id] of forged) {
      const err = await mallory().waitFor(errorMessage("alice", id), 10_000);
      expect(err.attrs.to).toMatch(/^mallory@rogue\.localhost/);
      expect(parseStanzaError(err)).toMatchObject({ type: "auth", condition: "forbidden" });
    }
    // §8.8 manage subscriptions, §8.7 get-pending at u@C, the approve command at C.
    expectError(
      await mallory().iq(
        ownerIq(
          "set",
          svc("alice"),
          `<subscriptions node='${NODE}'><subscription jid='${MALLORY}' subscription='subscribed'/></subscriptions>`,
        ),
      ),
      { type: "auth", condition: "forbidden" },
    );
    expect(
      parseStanzaError(await mallory().iq(commandIq(svc("alice"), GET_PENDING))),
    ).toMatchObject({ condition: "forbidden" });
    const approveCmd = await runCommand(mallory(), "approve", { jid: MALLORY });
    expect(parseStanzaError(approveCmd.reply).condition).toBe("forbidden");

    await sleep(300);
    await expectOwnerView(alice(), { subscribed: [BOB, RITA], pending: [MALLORY, TRENT] });
    expect(await ownSubscriptions(mallory(), "alice")).toEqual([[MALLORY, "pending"]]);
    expect(await ownSubscriptions(w.c(TRENT), "alice")).toEqual([[TRENT, "pending"]]);
    expect(await ownSubscriptions(w.c(RITA), "alice")).toEqual([[RITA, "subscribed"]]);
    for (const jid of [MALLORY, TRENT, RITA]) {
      const changed = (el: Element) => el.getChild("event")?.getChild("subscription") !== undefined;
      expect(w.c(jid).received.filter(changed), jid).toEqual([]);
    }
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:insufficient-privileges": 6,
    });
    await postReaches([BOB, RITA], [MALLORY, TRENT]);
  });

  it("a rogue IM user's presence subscription is a follow request under the same rules", async () => {
    const ivy = w.c(IVY);
    forget(ivy);
    await ivy.send(stanza(`<presence type='subscribe' to='${svc("alice")}'/>`));
    const form = await alice().waitFor(approvalFormFor("alice", IVY), 10_000);
    await sleep(300);
    expect(ivy.received.filter(presenceFrom("alice", "subscribed"))).toEqual([]);
    await expectOwnerView(alice(), { subscribed: [BOB, RITA], pending: [MALLORY, TRENT, IVY] });
    expect(form.getChildText("body")).toContain(IVY);
    expect((await runCommand(alice(), "approve", { jid: IVY })).status).toBe("completed");
    await ivy.waitFor(presenceFrom("alice", "subscribed"), 10_000);
    await expectOwnerView(alice(), { subscribed: [BOB, RITA, IVY], pending: [MALLORY, TRENT] });
    await postReaches([BOB, RITA, IVY], [MALLORY, TRENT]);
  });

  it("4a. a JID ban (§8.9 outcast): the request ends, a new one is forbidden", async () => {
    const trent = w.c(TRENT);
    forget(trent);
    const set = await alice().iq(
      ownerIq(
        "set",
        svc("alice"),
        `<affiliations node='${NODE}'><affiliation jid='${TRENT}' affiliation='outcast'/></affiliations>`,
      ),
    );
    expect(set.attrs.type).toBe("result");
    await trent.waitFor(subscriptionEvent("alice", TRENT, "none"), 10_000);
    const before = await stats(admin());
    expectError(await subscribeIq(trent, "alice"), { type: "auth", condition: "forbidden" });
    await expectOwnerView(alice(), { subscribed: [BOB, RITA, IVY], pending: [MALLORY] });
    expect(counterDelta(before, await stats(admin()))).toEqual({ "refused:outcast-jid": 1 });
    await postReaches([BOB, RITA, IVY], [MALLORY, TRENT]);
  });

  it("4b. alice blocks the domain: every rogue subscription ends, every new request is forbidden", async () => {
    const rogues = [MALLORY, TRENT, RITA, IVY].map((j) => w.c(j));
    forget(...rogues);
    const out = await runCommand(alice(), "block", { jid: ROGUE });
    expect(out.status).toBe("completed");
    // The ones who had a subscription or a request are told, over s2s.
    await w.c(RITA).waitFor(subscriptionEvent("alice", RITA, "none"), 10_000);
    await w.c(MALLORY).waitFor(subscriptionEvent("alice", MALLORY, "none"), 10_000);
    await w.c(IVY).waitFor(presenceFrom("alice", "unsubscribed"), 10_000);
    await expectOwnerView(alice(), { subscribed: [BOB], pending: [] });
    const affs = await alice().iq(ownerIq("get", svc("alice"), `<affiliations node='${NODE}'/>`));
    const entries = affs
      .getChild("pubsub", NS_PUBSUB_OWNER)!
      .getChild("affiliations")!
      .getChildren("affiliation")
      .map((a) => `${a.attrs.jid} ${a.attrs.affiliation}`);
    expect(entries).toEqual(expect.arrayContaining([`${ROGUE} outcast`, `${TRENT} outcast`]));

    const before = await stats(admin());
    for (const client of [mallory(), w.c(RITA)]) {
      expectError(await subscribeIq(client, "alice"), { type: "auth", condition: "forbidden" });
    }
    forget(w.c(IVY));
    await w.c(IVY).send(stanza(`<presence type='subscribe' to='${svc("alice")}'/>`));
    await w.c(IVY).waitFor(presenceFrom("alice", "unsubscribed"), 10_000);
    // A rogue user may not lift the ban either.
    const unblock = await runCommand(mallory(), "unblock", { jid: ROGUE });
    expect(parseStanzaError(unblock.reply).condition).toBe("forbidden");
    // trent is banned twice (JID and domain): the JID entry is the more specific reason.
    expectError(await subscribeIq(w.c(TRENT), "alice"), { type: "auth", condition: "forbidden" });

    await expectOwnerView(alice(), { subscribed: [BOB], pending: [] });
    for (const client of rogues) expect(await ownSubscriptions(client, "alice")).toEqual([]);
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:outcast-domain": 3,
      "refused:outcast-jid": 1,
      "refused:insufficient-privileges": 1,
    });
    await postReaches([BOB], [MALLORY, TRENT, RITA, IVY]);
    expect(alice().received.filter(approvalFormFor("alice", IVY)).length).toBe(1);
  });

  it("unblocking the domain lets a rogue user ask again (pending, for alice to decide)", async () => {
    expect((await runCommand(alice(), "unblock", { jid: ROGUE })).status).toBe("completed");
    expect(subscriptionOf(await subscribeIq(w.c(RITA), "alice")).subscription).toBe("pending");
    await until(async () => (await ownSubscriptions(w.c(RITA), "alice")).length === 1);
    await expectOwnerView(alice(), { subscribed: [BOB], pending: [RITA] });
    await postReaches([BOB], [RITA, MALLORY]);
  });
});
