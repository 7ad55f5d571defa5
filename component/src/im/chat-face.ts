/**
 * The chat face of u@C (INTERFACE "IM clients"): a chat or normal message with a <body> to u@C.
 * From its owner u@D: a post or a command (chat-commands.ts), answered by one chat message
 * marked <reply xmlns='urn:xmpp:warble:0'/>; from anyone else: how to follow u, at most once per
 * sender every 10 minutes, nothing posted. Messages that carry a pubsub event, a relay or a
 * reply are not chat (so two Warbles never talk in a loop); the body entry is a fallback of the
 * router, so any other payload of the message (an event, a form) wins whatever the order.
 */
import type { Logger } from "pino";
import { NS_WARBLE } from "../../../schemas/src/microblog-disco.js";
import { NS_PUBSUB_EVENT } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { bareJid } from "../domain/jid.js";
import type { StanzaRouter } from "../protocol/router.js";
import type { CommandContext } from "./adhoc.js";
import {
  CHAT_COMMANDS,
  type ChatAnswer,
  type ChatCommandDeps,
  parseChat,
  unknownHint,
  usageOf,
} from "./chat-commands.js";
import { refusalText } from "./command-refusal.js";

export interface ChatFaceDeps extends ChatCommandDeps {
  limits: { maxChatPostsPerMinute?: number };
  now?: () => number;
}

/** A body in a component stream has no xmlns of its own; some senders write one. */
const BODY_NAMESPACES = ["", "jabber:component:accept", "jabber:client"];
const STRANGER_QUIET_MS = 10 * 60_000;
const DESK_QUIET_MS = 10_000;
/** Commands that post, under the same chat posting rate as plain text. */
const POSTING: ReadonlySet<string> = new Set(["reply", "repost"]);
const MAX_TRACKED = 10_000;
const DEFAULT_POSTS_PER_MINUTE = 10;

export function registerChatFace(router: StanzaRouter, deps: ChatFaceDeps): void {
  const face = new ChatFace(deps);
  for (const ns of BODY_NAMESPACES) {
    router.onMessage(ns, "body", (stanza, log) => face.onMessage(stanza, log), true);
  }
}

let replies = 0;

class ChatFace {
  private readonly strangers = new Map<string, number>();
  private readonly desk = new Map<string, number>();
  private readonly posts = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly deps: ChatFaceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async onMessage(stanza: Element, log: Logger) {
    const { from, to, type = "normal" } = stanza.attrs;
    if ((type !== "chat" && type !== "normal") || !from || !to || !isChat(stanza)) return undefined;
    const ctx: CommandContext = { from, actor: bareJid(from).toLowerCase(), to, toLocal: "" };
    const owner = this.deps.addresses.ownerOfService(to);
    let answer: ChatAnswer | undefined;
    if (bareJid(to) === this.deps.addresses.componentDomain) answer = this.answerAtDesk(ctx);
    else if (!owner) return undefined;
    else if (ctx.actor === owner.toLowerCase()) {
      answer = await this.answerOwner(ctx, stanza.getChildText("body") ?? "", log);
    } else answer = this.answerStranger(ctx, owner);
    if (!answer) return undefined;
    return { replies: [replyMessage(bareJid(to), from, answer.text)], events: answer.events ?? [] };
  }

  /**
   * C itself (a contact anyone may add): how to use the service, to every message, at most
   * once in DESK_QUIET_MS per sender (it cannot be made to flood anyone).
   */
  private answerAtDesk(ctx: CommandContext): ChatAnswer | undefined {
    if (!this.quietEnough(this.desk, ctx.actor, DESK_QUIET_MS)) return undefined;
    const c = this.deps.addresses.componentDomain;
    const own = this.deps.addresses.serviceOf(ctx.actor);
    const follow = `To follow someone, add their microblog address (such as alice@${c}) to your contacts`;
    if (!own) return { text: `This is Warble, a microblogging service. ${follow}.` };
    return {
      text:
        `This is Warble, a microblogging service. Your microblog is ${own}: chat with it to ` +
        `post, and send it help for the commands (follow, timeline, reply, …). ${follow}, ` +
        `or send follow and their address to ${own}. The same actions are ad-hoc commands at ${c}.`,
    };
  }

  /** Whether `key` was not answered in the last `quietMs` (and remember it now if so). */
  private quietEnough(seen: Map<string, number>, key: string, quietMs: number): boolean {
    const at = this.now();
    const last = seen.get(key);
    if (last !== undefined && at - last < quietMs) return false;
    remember(seen, key, at);
    return true;
  }

  private async answerOwner(ctx: CommandContext, body: string, log: Logger) {
    const input = parseChat(body);
    switch (input.kind) {
      case "empty":
        return undefined;
      case "usage":
        return { text: usageOf(input.name) };
      case "unknown":
        return { text: unknownHint(input.word) };
      case "post":
        if (!this.mayPost(ctx.actor)) return { text: this.tooFast() };
        return this.run(ctx, log, () => CHAT_COMMANDS.post(this.deps, ctx, input.text));
      case "command":
        if (POSTING.has(input.name) && !this.mayPost(ctx.actor)) return { text: this.tooFast() };
        return this.run(ctx, log, () => CHAT_COMMANDS[input.name](this.deps, ctx, input.arg));
    }
  }

  /** The command's answer; a refusal's text is the answer too. */
  private async run(ctx: CommandContext, log: Logger, work: () => Promise<ChatAnswer>) {
    try {
      return await work();
    } catch (err) {
      const text = refusalText(err);
      if (text !== undefined) return { text };
      log.error({ err, actor: ctx.actor }, "a chat command failed");
      return { text: "Something went wrong on the service; try again later." };
    }
  }

  private answerStranger(ctx: CommandContext, owner: string): ChatAnswer | undefined {
    const key = `${ctx.actor} ${bareJid(ctx.to)}`;
    if (!this.quietEnough(this.strangers, key, STRANGER_QUIET_MS)) return undefined;
    const service = bareJid(ctx.to);
    const domain = service.slice(service.lastIndexOf("@") + 1);
    return {
      text:
        `This is the microblog of ${owner}; what you send here is not posted. ` +
        `To follow ${owner}, add ${service} to your contacts, ` +
        `or run the follow command at ${domain} with ${owner}.`,
    };
  }

  /** Within the per-user chat posting rate (counted when allowed). */
  private mayPost(user: string): boolean {
    const max = this.deps.limits.maxChatPostsPerMinute ?? DEFAULT_POSTS_PER_MINUTE;
    const at = this.now();
    const recent = (this.posts.get(user) ?? []).filter((t) => at - t < 60_000);
    if (recent.length >= max) {
      this.posts.set(user, recent);
      return false;
    }
    recent.push(at);
    remember(this.posts, user, recent);
    return true;
  }

  private tooFast(): string {
    const max = this.deps.limits.maxChatPostsPerMinute ?? DEFAULT_POSTS_PER_MINUTE;
    return `You are posting too fast: at most ${max} posts a minute by chat. Nothing was posted; try again in a minute.`;
  }
}

/** Neither a pubsub event, nor a relayed post, nor a Warble's own reply. */
function isChat(stanza: Element): boolean {
  return (
    !stanza.getChild("event", NS_PUBSUB_EVENT) &&
    !stanza.getChild("relayed", NS_WARBLE) &&
    !stanza.getChild("reply", NS_WARBLE)
  );
}

/** Set in a bounded map: the oldest entry goes when it is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_TRACKED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

function replyMessage(from: string, to: string, text: string): Element {
  return xml(
    "message",
    { type: "chat", from, to, id: `warble-chat-${++replies}` },
    xml("body", null, text),
    xml("reply", { xmlns: NS_WARBLE }),
  );
}
