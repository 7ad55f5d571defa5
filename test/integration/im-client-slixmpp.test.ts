/**
 * Issue 11's acceptance with an independent plain IM client (test/slixmpp/im_client.py, on
 * Debian's python3-slixmpp) that uses no pubsub at all: only the roster, presence and chat
 * messages, against a real Prosody and a real ejabberd. Following by adding u@C as a contact
 * (open and locked accounts), posts and status to IM followers, every chat command at one's
 * own u@C, an unknown command, a stranger, C itself as a contact, and offline delivery.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/servers.js";
import { type ComponentProcess, spawnComponent } from "../harness/component.js";
import { SERVER_KINDS, startTestServer, type TestServer, tempDir } from "../harness/servers.js";

const run = promisify(execFile);
const SCRIPT = join(repoRoot(), "test", "slixmpp", "im_client.py");
const USERS = ["alice", "bob", "carol", "dave", "erin"];
const SHORT_ID = "\\[[a-z2-7]{6}\\]";

type Answer = string | null;
interface Presence {
  type: string;
  status: string;
}
interface Subscribing {
  subscribed: boolean;
  available: Presence | null;
  subscribed_first: boolean | null;
}
interface RosterItem {
  subscription: string | null;
  ask: string | null;
}
interface Posted {
  answer: Answer;
  followers: Record<string, { type: string | null; body: string | null; status: string | null }>;
}
interface ImResult {
  error?: string;
  seconds?: number;
  commands: Array<[string, string, Answer]>;
  first_post: Answer;
  bob_subscribes: Subscribing;
  bob_roster: RosterItem | null;
  bob_follow: Answer;
  bob_following: Answer;
  alice_help: Answer;
  lock: Answer;
  locked_requests: Record<
    string,
    { answers: Presence[]; roster: RosterItem | null; owner_told: string | null }
  >;
  pending: Answer;
  approve: Answer;
  carol_approved: { subscribed: boolean; available: Presence | null; roster: RosterItem | null };
  deny: Answer;
  erin_denied: Presence | null;
  block: Answer;
  erin_blocked: Presence | null;
  unblock: Answer;
  unlock: Answer;
  followers: Answer;
  posts: Posted[];
  timeline_3: Answer;
  short_id: string;
  reply: Answer;
  repost: Answer;
  timeline_2: Answer;
  last_alice: Answer;
  help_slash: Answer;
  off: Answer;
  on: Answer;
  unfollow: Answer;
  following_after: Answer;
  delete_last: Answer;
  last_after_delete: Answer;
  unknown: Answer;
  last_after_unknown: Answer;
  stranger: { answer: Answer; answers: number; last_after: Answer };
  desk_subscribe: Subscribing;
  desk_help: Answer;
  answers_per_user: Record<string, { sent: number; answers: number; types: string[] }>;
  offline_post: Posted;
  offline: {
    message: { type: string; body: string; delay: string | null; reply: boolean } | null;
    copies: number;
    probe_answer: Presence | null;
  };
}

describe.each(SERVER_KINDS)("a plain IM client (slixmpp, no pubsub) on %s", (kind) => {
  let server: TestServer;
  let component: ComponentProcess;
  let r: ImResult;
  let D = "";
  let C = "";
  /** A post line as IM clients show it: `AUTHOR: TEXT [xxxxxx]`. */
  const line = (author: string, text: string) =>
    new RegExp(`^${author.replace(/\./g, "\\.")}: ${text} ${SHORT_ID}$`);

  beforeAll(async () => {
    server = await startTestServer(kind);
    D = server.usersDomain;
    C = server.componentDomain;
    for (const user of USERS) await server.register(user, `${user}-pw`);
    component = spawnComponent(server.componentArgs(`${tempDir("db")}/warble.db`), {
      WARBLE_SECRET: server.secret,
    });
    await component.waitForLine(/"msg":"ready"/);
    const args = [SCRIPT, String(server.ports.c2s), D, C];
    const { stdout } = await run("/usr/bin/python3", args, { timeout: 200_000 });
    r = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as ImResult;
    console.info(`im-client ${kind}: the slixmpp run took ${r.seconds ?? "?"} s`);
    if (r.error) console.info(`im-client ${kind}: what the client saw`, JSON.stringify(r, null, 1));
  }, 300_000);

  afterAll(async () => {
    await component?.stop();
    await server?.dispose();
  });

  it("the client ran to its end", () => {
    expect(r.error).toBeUndefined();
  });

  describe("1. adding u@C on an open account", () => {
    it("is answered subscribed, then available with the latest post as status", () => {
      expect(r.first_post).toMatch(/^Posted as item /);
      expect(r.bob_subscribes).toEqual({
        subscribed: true,
        available: { type: "available", status: "hello from alice" },
        subscribed_first: true,
      });
      expect(r.bob_roster).toEqual({ subscription: "to", ask: null });
    });

    it("a probe (bob's next login) is answered with that presence", () => {
      expect(r.offline.probe_answer).toEqual({ type: "available", status: "while you were away" });
    });
  });

  describe("2. a locked account", () => {
    it("lock says the access model", () => {
      expect(r.lock).toContain("authorize");
    });

    it("a roster request gets no answer and stays pending; the owner is told", () => {
      for (const who of ["carol", "erin"]) {
        const asked = r.locked_requests[who];
        expect(asked?.answers).toEqual([]);
        expect(asked?.roster).toEqual({ subscription: "none", ask: "subscribe" });
        expect(asked?.owner_told).toContain(`${who}@${D}`);
        expect(asked?.owner_told).toContain("asks to follow");
      }
    });

    it("pending lists both requests", () => {
      expect(r.pending).toMatch(/^Pending requests: 2/);
      expect(r.pending).toContain(`carol@${D}`);
      expect(r.pending).toContain(`erin@${D}`);
    });

    it("approve X: carol gets subscribed, then the status", () => {
      expect(r.approve).toContain(`carol@${D}`);
      expect(r.approve).toContain("may now follow you");
      expect(r.carol_approved).toEqual({
        subscribed: true,
        available: { type: "available", status: "hello from alice" },
        roster: { subscription: "to", ask: null },
      });
    });

    it("deny X: erin gets unsubscribed", () => {
      expect(r.deny).toContain(`erin@${D}`);
      expect(r.deny).toContain("denied");
      expect(r.erin_denied?.type).toBe("unsubscribed");
    });

    it("block X refuses a new request (unsubscribed); unblock X and unlock answer", () => {
      expect(r.block).toContain(`erin@${D} is blocked`);
      expect(r.erin_blocked?.type).toBe("unsubscribed");
      expect(r.unblock).toContain(`erin@${D} is no longer blocked`);
      expect(r.unlock).toContain("open");
    });

    it("followers lists the IM followers", () => {
      expect(r.followers).toMatch(/^Followers: \d+/);
      const listed = (r.followers ?? "").split("\n").slice(1);
      expect(listed).toContain(`bob@${D}`);
      expect(listed).toContain(`carol@${D}`);
      expect(listed).not.toContain(`erin@${D}`);
    });
  });

  describe("3. posts to IM followers", () => {
    it("plain text, a leading quote and `post TEXT` are posts", () => {
      expect(r.posts.map((p) => p.answer)).toEqual([
        expect.stringMatching(/^Posted as item /),
        expect.stringMatching(/^Posted as item /),
        expect.stringMatching(/^Posted as item /),
      ]);
    });

    it("every IM follower gets a chat message with the post line and the new status", () => {
      const texts = ["the second post", "follow me", "help"];
      r.posts.forEach((post, i) => {
        const text = texts[i] ?? "";
        for (const who of ["bob", "carol"]) {
          const got = post.followers[who];
          expect(got?.type, `${who}: ${text}`).toBe("chat");
          expect(got?.body, `${who}: ${text}`).toMatch(line(`alice@${D}`, text));
          expect(got?.status, `${who}: ${text}`).toBe(text);
        }
      });
    });
  });

  describe("4. chat with one's own u@C", () => {
    it("every command is answered by exactly one chat message", () => {
      expect(r.commands.filter(([, , answer]) => answer === null)).toEqual([]);
      for (const who of ["alice", "bob"]) {
        const counted = r.answers_per_user[who];
        expect(counted?.answers, who).toBe(counted?.sent);
        expect(counted?.types, who).toEqual(["chat"]);
      }
    });

    it("help lists the commands; /HELP with trailing spaces is the same", () => {
      for (const word of [
        "follow X",
        "unfollow X",
        "following",
        "followers",
        "pending",
        "approve X",
        "deny X",
        "block X",
        "unblock X",
        "lock",
        "unlock",
        "on:",
        "off:",
        "last X",
        "timeline [n]",
        "reply ID",
        "repost ID",
        "delete last",
        "post TEXT",
      ]) {
        expect(r.alice_help).toContain(word);
      }
      expect(r.help_slash).toBe(r.alice_help);
    });

    it("follow X and following", () => {
      expect(r.bob_follow).toMatch(new RegExp(`^You now follow alice@${D}`));
      expect(r.bob_following).toMatch(/^Following: 1/);
      expect(r.bob_following).toContain(`alice@${D} (subscribed)`);
    });

    it("timeline 3 lists at most three lines AUTHOR: TEXT [id]", () => {
      const lines = (r.timeline_3 ?? "").split("\n");
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThanOrEqual(3);
      for (const l of lines) expect(l).toMatch(new RegExp(`^\\S+@\\S+: .* ${SHORT_ID}$`));
      expect(lines.some((l) => line(`alice@${D}`, "the second post").test(l))).toBe(true);
      expect(r.short_id).toMatch(/^[a-z2-7]{6}$/);
    });

    it("reply ID and repost ID post", () => {
      expect(r.reply).toMatch(/^Replied as item /);
      expect(r.repost).toMatch(/^Reposted as item /);
    });

    it("Timeline 2 (any case) shows the reply and the repost", () => {
      const lines = (r.timeline_2 ?? "").split("\n");
      expect(lines).toHaveLength(2);
      for (const l of lines) expect(l).toMatch(new RegExp(` ${SHORT_ID}$`));
      expect(lines.join("\n")).toContain(`bob@${D}, replying to alice@${D}`);
      expect(lines.join("\n")).toContain(`bob@${D} reposted alice@${D}: the second post`);
    });

    it("last X shows X's newest post line", () => {
      expect(r.last_alice).toMatch(line(`alice@${D}`, "help"));
    });

    it("off and on switch the relay", () => {
      expect(r.off).toContain("Relay: off");
      expect(r.on).toContain("Relay: on");
    });

    it("unfollow X, then following is empty", () => {
      expect(r.unfollow).toMatch(new RegExp(`^You no longer follow alice@${D}`));
      expect(r.following_after).toMatch(/^Following: 0/);
    });

    it("delete last retracts the newest post", () => {
      expect(r.delete_last).toMatch(new RegExp(`^Deleted your post alice@${D}: help ${SHORT_ID}$`));
      expect(r.last_after_delete).toMatch(line(`alice@${D}`, "follow me"));
    });
  });

  it("5. an unknown command gets a hint and posts nothing", () => {
    expect(r.unknown).toBe("unknown command frobnicate; send help");
    expect(r.last_after_unknown).toBe(r.last_after_delete);
  });

  it("6. a stranger chatting with u@C is told how to follow, once; nothing is posted", () => {
    expect(r.stranger.answer).toContain("what you send here is not posted");
    expect(r.stranger.answer).toContain(`add alice@${C}`);
    expect(r.stranger.answers).toBe(1);
    expect(r.stranger.last_after).toBe(r.last_after_delete);
  });

  it("7. C itself is a contact that answers help", () => {
    expect(r.desk_subscribe.subscribed).toBe(true);
    expect(r.desk_subscribe.available?.type).toBe("available");
    expect(r.desk_subscribe.subscribed_first).toBe(true);
    expect(r.desk_help).toMatch(/^This is Warble/);
  });

  it("8. a post made while an IM follower is offline reaches them on the next login", () => {
    expect(r.offline_post.answer).toMatch(/^Posted as item /);
    expect(r.offline_post.followers.carol?.body).toMatch(line(`alice@${D}`, "while you were away"));
    // Kept by the server: its offline storage stamps the XEP-0203 delay with its own domain.
    expect(r.offline.message).toMatchObject({ type: "chat", delay: D, reply: false });
    expect(r.offline.message?.body).toMatch(line(`alice@${D}`, "while you were away"));
    expect(r.offline.copies).toBe(1);
  });
});
