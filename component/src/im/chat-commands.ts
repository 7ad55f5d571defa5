/**
 * The chat commands of one's own u@C (INTERFACE "IM clients"): the parser of a chat message and
 * the command table, one small function per command. Thin translators: the account and timeline
 * commands, reply and repost run the very ad-hoc commands of C (the same use cases, the same
 * notes); timeline, last and delete last read and retract through PubsubService /
 * TimelineService / FollowClient. Posts are shown as chat lines (post-lines.ts), whose short
 * ids `reply` and `repost` take back.
 */
import { itemUri } from "../../../schemas/src/atom.js";
import { type DataForm, field } from "../../../schemas/src/data-form.js";
import { isShortId, shortId } from "../../../schemas/src/short-id.js";
import { PubsubError } from "../domain/errors.js";
import type { TimelineEntry, TimelineService } from "../domain/index.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef } from "../domain/types.js";
import type { FollowClient } from "../federation/follow-client.js";
import type { Addresses } from "../protocol/addresses.js";
import type { BusEvent } from "../protocol/event-bus.js";
import type { PostLines } from "../protocol/post-lines.js";
import type { AdhocCommand, CommandContext } from "./adhoc.js";

/** What a chat message asks for. */
export type ChatInput =
  | { kind: "empty" }
  | { kind: "post"; text: string }
  | { kind: "command"; name: ChatCommandName; arg: string }
  | { kind: "usage"; name: ChatCommandName }
  | { kind: "unknown"; word: string };

type Shape = "none" | "jid" | "count" | "last" | "text" | "id" | "id-text";

/** Each command word, the shape of what follows it, and its line in `help`. */
const SHAPES = {
  help: ["none", "help: this list"],
  post: ["text", 'post TEXT: post a text that looks like a command (or start it with ")'],
  follow: ["jid", "follow X: follow X (a JID, a microblog address or an xmpp: URI)"],
  unfollow: ["jid", "unfollow X: stop following X"],
  following: ["none", "following: whom you follow"],
  followers: ["none", "followers: who follows you"],
  pending: ["none", "pending: follow requests waiting for you"],
  approve: ["jid", "approve X: let X follow you"],
  deny: ["jid", "deny X: refuse X's request"],
  block: ["jid", "block X: block a JID or a whole domain"],
  unblock: ["jid", "unblock X"],
  lock: ["none", "lock: approve each new follower"],
  unlock: ["none", "unlock: anyone may follow you"],
  on: ["none", "on: send me each new post of my timeline"],
  off: ["none", "off: stop sending them"],
  timeline: ["count", "timeline [n]: the last n posts of your timeline (default 5)"],
  reply: ["id-text", "reply ID TEXT: answer the post [ID] of your timeline"],
  repost: ["id", "repost ID: repost the post [ID] of your timeline"],
  last: ["jid", "last X: X's latest post"],
  delete: ["last", "delete last: delete your newest post"],
} as const satisfies Record<string, readonly [Shape, string]>;

export type ChatCommandName = keyof typeof SHAPES;

const TIMELINE_DEFAULT = 5;
const TIMELINE_MAX = 50;
/** How far back in the timeline a short id is looked for. */
const SHORT_ID_REACH = 1000;

const isCommand = (w: string): w is ChatCommandName => Object.hasOwn(SHAPES, w);

function fits(shape: Shape, arg: string): boolean {
  if (shape === "none") return arg === "";
  if (shape === "jid") return /^\S+$/.test(arg);
  if (shape === "count") return arg === "" || /^[1-9]\d{0,5}$/.test(arg);
  if (shape === "last") return arg.toLowerCase() === "last";
  if (shape === "id") return isShortId(arg.toLowerCase());
  if (shape === "id-text") return /^[a-z2-7]{6}\s+\S/i.test(arg);
  return true;
}

/**
 * A message → what it asks. A leading `"` posts the rest; otherwise a first word (after an
 * optional `/`, any case) that is a command word makes it a command, of the right shape or
 * answered with its usage; a `/` before any other word is an unknown command; the rest is a post.
 */
export function parseChat(body: string): ChatInput {
  const text = body.trim();
  if (text === "") return { kind: "empty" };
  if (text.startsWith('"')) {
    const quoted = text.slice(1).trim();
    return quoted ? { kind: "post", text: quoted } : { kind: "empty" };
  }
  const slash = text.startsWith("/");
  const m = /^(\S*)\s*([\s\S]*)$/.exec(slash ? text.slice(1) : text);
  const word = (m?.[1] ?? "").toLowerCase();
  const arg = (m?.[2] ?? "").trim();
  if (word === "post") return { kind: "post", text: arg };
  if (isCommand(word)) {
    return fits(SHAPES[word][0], arg)
      ? { kind: "command", name: word, arg }
      : { kind: "usage", name: word };
  }
  if (slash) return { kind: "unknown", word: word || "/" };
  return { kind: "post", text };
}

/** The readable answer to one chat message. */
export function usageOf(name: ChatCommandName): string {
  const line = SHAPES[name][1].split(":")[0];
  return `usage: ${line}. To post this text, start it with " or with post.`;
}

export const unknownHint = (word: string) => `unknown command ${word}; send help`;

export interface ChatAnswer {
  text: string;
  events?: readonly BusEvent[];
}

export interface ChatCommandDeps {
  /** The ad-hoc commands of C: the account commands run through them. */
  commands: readonly AdhocCommand[];
  pubsub: PubsubService;
  timeline: Pick<TimelineService, "queryTimeline">;
  follows: Pick<FollowClient, "latest">;
  addresses: Addresses;
  lines: PostLines;
}

type Run = (deps: ChatCommandDeps, ctx: CommandContext, arg: string) => Promise<ChatAnswer>;

/** Run the ad-hoc command `node` with the submitted values; its note is the answer. */
async function adhoc(
  deps: ChatCommandDeps,
  ctx: CommandContext,
  node: string,
  values: Record<string, string | boolean | string[]> = {},
): Promise<ChatAnswer> {
  const command = deps.commands.find((c) => c.node === node);
  if (!command?.allowed(ctx)) return { text: `${node} is not available to you.` };
  const form: DataForm = {
    type: "submit",
    fields: Object.entries(values).map(([k, v]) => field(k, v)),
  };
  const result = await command.complete(ctx, form);
  return { text: result.note ?? "Done.", events: result.events ?? [] };
}

const own = (deps: ChatCommandDeps, ctx: CommandContext): NodeRef => ({
  service: deps.addresses.serviceOf(ctx.actor) ?? ctx.to,
  node: MICROBLOG_NODE,
});

/** The newest item of a node, or undefined (none, or no node yet). */
async function newest(deps: ChatCommandDeps, ctx: CommandContext, ref: NodeRef) {
  try {
    const { result } = await deps.pubsub.getItems(ctx.from, ref, { maxItems: 1 });
    return result.items[0];
  } catch (err) {
    if (err instanceof PubsubError && err.condition === "item-not-found") return undefined;
    throw err;
  }
}

const help: Run = async () => ({
  text: ["Chat commands (any case, a leading / is fine):"]
    .concat(Object.values(SHAPES).map(([, line]) => line))
    .concat("Anything else you send is posted.")
    .join("\n"),
});

const post: Run = (deps, ctx, text) => adhoc(deps, ctx, "post", { text: text.split("\n") });
const withJid =
  (node: string): Run =>
  (deps, ctx, arg) =>
    adhoc(deps, ctx, node, { jid: arg });
const listing =
  (node: string): Run =>
  (deps, ctx) =>
    adhoc(deps, ctx, node);
const access =
  (model: "open" | "authorize"): Run =>
  (deps, ctx) =>
    adhoc(deps, ctx, "settings", { access_model: model });
const relay =
  (on: boolean): Run =>
  (deps, ctx) =>
    adhoc(deps, ctx, "settings", { relay: on });

const lineOf = (deps: ChatCommandDeps, ctx: CommandContext, e: TimelineEntry) =>
  deps.lines.line(e, ctx.actor);

const timeline: Run = async (deps, ctx, arg) => {
  const max = Math.min(arg ? Number(arg) : TIMELINE_DEFAULT, TIMELINE_MAX);
  const { result } = await deps.timeline.queryTimeline(ctx.from, ctx.actor, { before: "", max });
  if (result.entries.length === 0) return { text: "Your timeline is empty." };
  const lines = await Promise.all(result.entries.map((e) => lineOf(deps, ctx, e)));
  return { text: lines.join("\n") };
};

/** The entry of the user's recent timeline whose short id is `id` (newest first). */
async function shownPost(deps: ChatCommandDeps, ctx: CommandContext, id: string) {
  let before = "";
  for (let seen = 0; seen < SHORT_ID_REACH; ) {
    const query = { before, max: 250 };
    const { result } = await deps.timeline.queryTimeline(ctx.from, ctx.actor, query);
    const found = [...result.entries]
      .reverse()
      .find((e) => shortId(e.service, e.node, e.itemId) === id);
    if (found) return found;
    const oldest = result.entries[0];
    if (result.complete || !oldest) return undefined;
    seen += result.entries.length;
    before = String(oldest.seq);
  }
  return undefined;
}

/** The xmpp: URI of the post [id] of the user's timeline; a readable refusal when there is none. */
async function uriOfShown(deps: ChatCommandDeps, ctx: CommandContext, id: string) {
  const entry = await shownPost(deps, ctx, id.toLowerCase());
  if (!entry) {
    throw new PubsubError("item-not-found", {
      text: `No post [${id}] in your timeline; send timeline to see the ids.`,
    });
  }
  return itemUri(entry.service, entry.node, entry.itemId);
}

const reply: Run = async (deps, ctx, arg) => {
  const [, id = "", text = ""] = /^(\S+)\s+([\s\S]*)$/.exec(arg) ?? [];
  const uri = await uriOfShown(deps, ctx, id);
  return adhoc(deps, ctx, "post", { text: text.split("\n"), "reply-to": uri });
};

const repost: Run = async (deps, ctx, arg) =>
  adhoc(deps, ctx, "post", { "repost-of": await uriOfShown(deps, ctx, arg) });

/** X's newest post: read here for a user of this service, else asked of X's microblog. */
const last: Run = async (deps, ctx, arg) => {
  const jid = arg.replace(/^xmpp:/, "").toLowerCase();
  const service =
    deps.addresses.serviceOf(jid) ?? (deps.addresses.ownerOfService(jid) ? jid : undefined);
  if (!service) {
    const { ref, target, post } = await deps.follows.latest(ctx.actor, arg);
    if (!post) return { text: `${target} has not posted yet.` };
    return { text: await deps.lines.line({ ...ref, ...post, author: target }, ctx.actor) };
  }
  const ref = { service, node: MICROBLOG_NODE };
  const item = await newest(deps, ctx, ref);
  if (!item) return { text: `${jid} has not posted yet.` };
  const author = deps.addresses.ownerOfService(service) ?? jid;
  const shown = { ...ref, itemId: item.id, author, payload: item.payload };
  return { text: await deps.lines.line(shown, ctx.actor) };
};

const deleteLast: Run = async (deps, ctx) => {
  const ref = own(deps, ctx);
  const item = await newest(deps, ctx, ref);
  if (!item) return { text: "You have no post to delete." };
  const { events } = await deps.pubsub.retractItem(ctx.from, ref, { id: item.id, notify: true });
  const author = deps.addresses.ownerOfService(ref.service) ?? ctx.actor;
  const line = await deps.lines.line({ ...ref, itemId: item.id, author, payload: item.payload });
  return { text: `Deleted your post ${line}`, events };
};

/** The command table. */
export const CHAT_COMMANDS: Record<ChatCommandName, Run> = {
  help,
  post,
  follow: withJid("follow"),
  unfollow: withJid("unfollow"),
  following: listing("following"),
  followers: listing("followers"),
  pending: listing("pending"),
  approve: withJid("approve"),
  deny: withJid("deny"),
  block: withJid("block"),
  unblock: withJid("unblock"),
  lock: access("authorize"),
  unlock: access("open"),
  on: relay(true),
  off: relay(false),
  timeline,
  reply,
  repost,
  last,
  delete: deleteLast,
};
