/**
 * Every command of the CLI as data: its arguments, options, one line of help, an example, and
 * what it runs (imported when it runs, so `post` loads only what posting needs).
 */
import type { Ctx } from "../context.js";

export interface CommandSpec {
  name: string;
  /** Commander argument syntax, e.g. "<jid>" or "[text...]". */
  args?: string;
  summary: string;
  example: string;
  options?: { flags: string; description: string }[];
  /** Work done before logging in (reading stdin): usage errors come before the network. */
  prepare?: (args: string[], opts: Record<string, string>) => Promise<unknown>;
  run: (ctx: Ctx, args: string[], opts: Record<string, string>, prepared: unknown) => Promise<void>;
}

const jidCommand = (
  name: "approve" | "deny" | "block" | "unblock",
  summary: string,
  example: string,
): CommandSpec => ({
  name,
  args: name.endsWith("block") ? "<jid-or-domain>" : "<jid>",
  summary,
  example,
  run: async (ctx, [jid]) => (await import("./account.js")).onJid(ctx, name, jid as string),
});

export const COMMANDS: CommandSpec[] = [
  {
    name: "post",
    args: "[text...]",
    summary: 'publish a post; the text from stdin with "-" or a pipe',
    example: 'warble post "Hello, world"\n  echo "from a script" | warble post -',
    options: [
      {
        flags: "--reply-to <uri-or-short>",
        description: "answer the post with this xmpp: URI or short id",
      },
    ],
    prepare: async (args) =>
      (await import("./post.js")).postText(args.length === 0 ? undefined : args.join(" ")),
    run: async (ctx, _args, opts, text) =>
      (await import("./post.js")).post(ctx, text as string, { replyTo: opts.replyTo }),
  },
  {
    name: "delete",
    args: "<id>",
    summary: "delete one of your posts (its short id or item id)",
    example: "warble delete a1b2c3",
    run: async (ctx, [id]) => (await import("./post.js")).deletePost(ctx, id as string),
  },
  {
    name: "follow",
    args: "<jid>",
    summary: "follow someone's microblog (a JID, a microblog address or an xmpp: URI)",
    example: "warble follow bob@example.org",
    run: async (ctx, [jid]) => (await import("./follow.js")).follow(ctx, jid as string),
  },
  {
    name: "unfollow",
    args: "<jid>",
    summary: "stop following; their posts leave your timeline",
    example: "warble unfollow bob@example.org",
    run: async (ctx, [jid]) => (await import("./follow.js")).unfollow(ctx, jid as string),
  },
  {
    name: "following",
    summary: "list whom you follow (subscribed or pending)",
    example: "warble following --json",
    run: async (ctx) => (await import("./follow.js")).following(ctx),
  },
  {
    name: "followers",
    summary: "list your followers",
    example: "warble followers",
    run: async (ctx) => (await import("./account.js")).followers(ctx),
  },
  {
    name: "pending",
    summary: "list the follow requests waiting for your approval",
    example: "warble pending",
    run: async (ctx) => (await import("./account.js")).pending(ctx),
  },
  jidCommand("approve", "let a JID that asked follow you", "warble approve carol@example.org"),
  jidCommand("deny", "refuse a follow request", "warble deny mallory@example.org"),
  jidCommand("block", "block a JID or a whole domain", "warble block spam.example"),
  jidCommand("unblock", "lift a block", "warble unblock spam.example"),
  {
    name: "lock",
    summary: "approve each new follower yourself",
    example: "warble lock",
    run: async (ctx) => (await import("./account.js")).setLocked(ctx, true),
  },
  {
    name: "unlock",
    summary: "let anyone follow you",
    example: "warble unlock",
    run: async (ctx) => (await import("./account.js")).setLocked(ctx, false),
  },
  {
    name: "timeline",
    summary: "your home timeline, newest last",
    example: "warble timeline --limit 50\n  warble timeline --before 1234 --json",
    options: [
      { flags: "--limit <n>", description: "how many posts (default 20)" },
      { flags: "--before <id>", description: "the posts before this archive id" },
    ],
    run: async (ctx, _args, opts) => (await import("./read.js")).timeline(ctx, opts),
  },
  {
    name: "show",
    args: "<jid>",
    summary: "anyone's posts, straight from their microblog",
    example: "warble show bob@example.org --limit 5",
    options: [{ flags: "--limit <n>", description: "how many posts (default 20)" }],
    run: async (ctx, [jid], opts) => (await import("./read.js")).show(ctx, jid as string, opts),
  },
  {
    name: "listen",
    summary: "print new timeline posts as they arrive (reconnects by itself; Ctrl-C ends)",
    example: "warble listen\n  warble listen --json | jq .text",
    run: async (ctx) => (await import("../listen.js")).listen(ctx),
  },
];
