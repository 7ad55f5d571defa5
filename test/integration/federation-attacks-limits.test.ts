/**
 * Issue 4, floods from a real second server over s2s, with the default abuse limits: 200
 * sockpuppet accounts of rogue.localhost ask at once to follow alice's locked microblog, then
 * carol's open one. Then the requests left pending expire (the operator sets
 * pendingExpirySeconds: 2), and then the operator denies the whole domain (denyDomains). After
 * each: the owners' §8.8 lists, `followers` and `pending` hold exactly what they allowed, the
 * admin's `stats` counts each refusal by reason, and the legitimate followers (bob@localhost,
 * rita@rogue.localhost until the operator's deny) still get new posts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStanzaError } from "../../schemas/src/errors.js";
import {
  ADMIN,
  type AttackWorld,
  expectOwnerView,
  home,
  inBatches,
  presenceFrom,
  ROGUE,
  rogue,
  startAttackWorld,
} from "../harness/attacks.js";
import {
  answerMessage,
  approvalFormFor,
  authorizationForm,
  counterDelta,
  lock,
  ownSubscriptions,
  stats,
  subscribeIq,
  subscriptionEvent,
  subscriptionOf,
} from "../harness/authorization.js";
import type { TestClient } from "../harness/client.js";
import {
  expectError,
  forget,
  NODE,
  postFrom,
  publishPost,
  pubsubIq,
  sleep,
  stanza,
  svc,
} from "../harness/pubsub.js";

const ALICE = home("alice"); // locked
const CAROL = home("carol"); // open
const DAVE = home("dave"); // open
const BOB = home("bob");
const ERIN = home("erin");
const RITA = rogue("rita");
const PUPPETS = Array.from({ length: 200 }, (_, i) => `p${String(i).padStart(3, "0")}`);

/** The default limits (capabilities.ts DEFAULT_LIMITS). */
const PER_DOMAIN_PENDING = 10;
const PER_DOMAIN_PER_MINUTE = 30;

describe("floods, expiry and the operator's deny list, from a rogue server (s2s)", () => {
  let w: AttackWorld;
  let puppets: TestClient[] = [];
  /** The sockpuppets whose request alice's node kept pending, and those carol's node accepted. */
  let pendingAtAlice: string[] = [];
  let followingCarol: string[] = [];
  const owner = (jid: string) => w.c(jid);
  const admin = () => w.c(ADMIN);

  /** `user` posts: every one of `to` gets it (over s2s for rogue users), nobody in `notTo`. */
  const postReaches = async (user: string, to: readonly string[], notTo: readonly string[]) => {
    const all = [...to, ...notTo].map((j) => w.c(j));
    forget(...all);
    const id = await publishPost(w.c(home(user)), `${user} ${Math.random().toString(36).slice(2)}`);
    await inBatches(to, 50, (jid) =>
      w
        .c(jid)
        .waitFor(postFrom(user, id), 10_000)
        .catch((err: Error) => {
          throw new Error(`${jid}: ${err.message}`);
        }),
    );
    await sleep(500);
    for (const jid of notTo) expect(w.c(jid).received.filter(postFrom(user)), jid).toEqual([]);
  };

  /** All 200 sockpuppets subscribe to `user` at once; the replies, in puppet order. */
  const flood = (user: string) =>
    Promise.all(
      puppets.map((p) =>
        p.iq(pubsubIq("set", svc(user), `<subscribe node='${NODE}' jid='${p.jid}'/>`), 30_000),
      ),
    );

  beforeAll(async () => {
    w = await startAttackWorld(["alice", "bob", "carol", "dave", "erin"], ["rita"]);
    // The sockpuppets first, so that everything below happens within the rate limit's minute.
    const t0 = Date.now();
    puppets = await w.addRogueUsers(PUPPETS);
    console.log(`200 sockpuppets registered on ${ROGUE} and logged in in ${Date.now() - t0} ms`);
    for (const u of ["alice", "carol", "dave"]) await publishPost(w.c(home(u)), `${u}'s first`);
    await lock(w.c(ALICE), "alice");
    // Before the attack: bob and rita follow alice (approved) and carol (open).
    for (const jid of [BOB, RITA]) {
      expect(subscriptionOf(await subscribeIq(w.c(jid), "alice")).subscription).toBe("pending");
      const form = await w.c(ALICE).waitFor(approvalFormFor("alice", jid), 10_000);
      await w.c(ALICE).send(answerMessage("alice", jid, true, form.attrs.id));
      await w.c(jid).waitFor(subscriptionEvent("alice", jid, "subscribed"), 10_000);
      expect(subscriptionOf(await subscribeIq(w.c(jid), "carol")).subscription).toBe("subscribed");
    }
  });
  afterAll(async () => {
    await w?.dispose();
  });

  it("2. 200 sockpuppets at once: at most 10 pending per domain, then 30 a minute", async () => {
    const before = await stats(admin());
    forget(owner(ALICE));

    // To alice's locked account: 10 pending requests from rogue.localhost, the rest refused.
    const atAlice = await flood("alice");
    pendingAtAlice = puppets
      .filter((_, i) => atAlice[i]?.attrs.type === "result")
      .map((p) => p.jid);
    expect(pendingAtAlice).toHaveLength(PER_DOMAIN_PENDING);
    for (const [i, reply] of atAlice.entries()) {
      if (reply.attrs.type === "result") {
        expect(subscriptionOf(reply).subscription).toBe("pending");
      } else {
        const err = expectError(reply, { type: "wait", condition: "policy-violation" });
        expect(err.text, PUPPETS[i]).toMatch(/too many pending requests from your domain/);
      }
    }
    // alice is asked about the 10, and only them.
    for (const jid of pendingAtAlice) await owner(ALICE).waitFor(approvalFormFor("alice", jid));
    await sleep(300);
    const forms = owner(ALICE).received.filter((el) => authorizationForm(el) !== undefined);
    expect(forms).toHaveLength(PER_DOMAIN_PENDING);
    await expectOwnerView(owner(ALICE), { subscribed: [BOB, RITA], pending: pendingAtAlice });

    // To carol's open microblog: rita's 2 earlier requests and the 10 above count towards the
    // domain's 30 a minute; 18 more are accepted, the rest refused.
    const atCarol = await flood("carol");
    followingCarol = puppets
      .filter((_, i) => atCarol[i]?.attrs.type === "result")
      .map((p) => p.jid);
    expect(followingCarol).toHaveLength(PER_DOMAIN_PER_MINUTE - 2 - PER_DOMAIN_PENDING);
    for (const reply of atCarol) {
      if (reply.attrs.type === "result") {
        expect(subscriptionOf(reply).subscription).toBe("subscribed");
      } else {
        const err = expectError(reply, { type: "wait", condition: "policy-violation" });
        expect(err.text).toMatch(/too many subscription requests from your domain/);
      }
    }
    await expectOwnerView(owner(CAROL), {
      subscribed: [RITA, BOB, ...followingCarol],
      pending: [],
    });

    // Nothing stored for the refused: each sockpuppet sees only what was accepted.
    await inBatches(puppets, 50, async (p) => {
      const atA = await ownSubscriptions(p, "alice");
      expect(atA).toEqual(pendingAtAlice.includes(p.jid) ? [[p.jid, "pending"]] : []);
      const atC = await ownSubscriptions(p, "carol");
      expect(atC).toEqual(followingCarol.includes(p.jid) ? [[p.jid, "subscribed"]] : []);
    });
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:limit-pending-per-domain": 200 - PER_DOMAIN_PENDING,
      "refused:limit-requests-per-minute": 200 - followingCarol.length,
    });
  });

  it("the per-minute limit is the remote domain's: rita waits, local users do not", async () => {
    const before = await stats(admin());
    const refused = puppets.find(
      (p) => !followingCarol.includes(p.jid) && !pendingAtAlice.includes(p.jid),
    )!;
    expectError(await subscribeIq(w.c(RITA), "dave"), {
      type: "wait",
      condition: "policy-violation",
    });
    // By presence too: "not now", a presence error of type wait; nothing kept.
    forget(refused);
    await refused.send(stanza(`<presence type='subscribe' to='${svc("dave")}'/>`));
    const held = await refused.waitFor(presenceFrom("dave", "error"), 10_000);
    expect(parseStanzaError(held)).toMatchObject({ type: "wait", condition: "policy-violation" });
    expect(subscriptionOf(await subscribeIq(w.c(BOB), "dave")).subscription).toBe("subscribed");
    expect(subscriptionOf(await subscribeIq(w.c(ERIN), "alice")).subscription).toBe("pending");
    await expectOwnerView(owner(DAVE), { subscribed: [BOB], pending: [] });
    await expectOwnerView(owner(ALICE), {
      subscribed: [BOB, RITA],
      pending: [...pendingAtAlice, ERIN],
    });
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:limit-requests-per-minute": 2,
    });
  });

  it("after the flood, the legitimate followers still get posts; sockpuppets only what carol allowed", async () => {
    const others = puppets.map((p) => p.jid).filter((j) => !followingCarol.includes(j));
    await postReaches(
      "alice",
      [BOB, RITA],
      puppets.map((p) => p.jid),
    );
    await postReaches("carol", [BOB, RITA, ...followingCarol], others);
  });

  it("5. requests left to expire are denied by themselves; the requesters are told over s2s", async () => {
    const before = await stats(admin());
    const waiting = [...pendingAtAlice, ERIN];
    forget(...waiting.map((j) => w.c(j)));
    await w.reconfigure({ limits: { pendingExpirySeconds: 2 } });
    await inBatches(waiting, 50, async (jid) => {
      const ev = await w.c(jid).waitFor(subscriptionEvent("alice", jid, "none"), 10_000);
      expect(ev.getChildText("body")).toBe(`Your request to follow ${ALICE}'s microblog expired.`);
    });
    await expectOwnerView(owner(ALICE), { subscribed: [BOB, RITA], pending: [] });
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:pending-expired": waiting.length,
    });
    // A new request expires by itself too (the sweep runs every second with this setting).
    forget(w.c(ERIN));
    expect(subscriptionOf(await subscribeIq(w.c(ERIN), "alice")).subscription).toBe("pending");
    await w.c(ERIN).waitFor(subscriptionEvent("alice", ERIN, "none"), 6_000);
    await expectOwnerView(owner(ALICE), { subscribed: [BOB, RITA], pending: [] });
    await postReaches("alice", [BOB, RITA], waiting);
  });

  it("4. the operator denies rogue.localhost: every rogue user is refused, rogue subscriptions end", async () => {
    const rita = w.c(RITA);
    forget(rita, ...puppets);
    await w.reconfigure({ denyDomains: [ROGUE] });
    // At start, the component ends the denied domain's subscriptions and tells each subscriber.
    await w.component.waitForLine(/operator policy ended subscriptions/);
    expect(w.component.output()).toContain(`"ended":${2 + followingCarol.length}`);
    await rita.waitFor(subscriptionEvent("alice", RITA, "none"), 10_000);
    await rita.waitFor(subscriptionEvent("carol", RITA, "none"), 10_000);
    await inBatches(followingCarol, 50, (jid) =>
      w.c(jid).waitFor(subscriptionEvent("carol", jid, "none"), 10_000),
    );
    await expectOwnerView(owner(ALICE), { subscribed: [BOB], pending: [] });
    await expectOwnerView(owner(CAROL), { subscribed: [BOB], pending: [] });

    const before = await stats(admin());
    for (const [client, user] of [
      [rita, "alice"],
      [rita, "dave"],
      [puppets[0]!, "alice"],
      [w.c(followingCarol[0]!), "carol"],
    ] as const) {
      expectError(await subscribeIq(client, user), { type: "auth", condition: "forbidden" });
    }
    const p = puppets[1]!;
    await p.send(stanza(`<presence type='subscribe' to='${svc("alice")}'/>`));
    await p.waitFor(presenceFrom("alice", "unsubscribed"), 10_000);
    expect(counterDelta(before, await stats(admin()))).toEqual({
      "refused:service-denied-domain": 5,
    });
    // No more posts to the denied domain; the owners' lists hold only bob.
    await postReaches("alice", [BOB], [RITA]);
    await postReaches("carol", [BOB], [RITA, ...followingCarol]);
    await expectOwnerView(owner(ALICE), { subscribed: [BOB], pending: [] });
    await expectOwnerView(owner(CAROL), { subscribed: [BOB], pending: [] });
  });
});
