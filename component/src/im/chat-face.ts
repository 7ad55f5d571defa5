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
  laterAnswer,
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
  private readonly posts = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly deps: ChatFaceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async onMessage(stanza: Element, log: Logger) {
    const { from, to, type = "normal" } = stanza.attrs;
    if ((type !== "chat" && type !== "normal") || !from || !to || !isChat(stanza)) return undefined;
    const owner = this.deps.addresses.ownerOfService(to);
    if (!owner) return undefined;
    const ctx: CommandContext = { from, actor: bareJid(from).toLowerCase(), to, toLocal: "" };
    const answer =
      ctx.actor === owner.toLowerCase()
        ? await this.answerOwner(ctx, stanza.getChildText("body") ?? "", log)
        : this.answerStranger(ctx, owner);
    if (!answer) return undefined;
    return { replies: [replyMessage(bareJid(to), from, answer.text)], events: answer.events ?? [] };
  }

  private async answerOwner(ctx: CommandContext, body: string, log: Logger) {
    const input = parseChat(body);
    switch (input.kind) {
      case "empty":
        return undefined;
      case "usage":
        return { text: usageOf(input.name) };
      case "later":
        return { text: laterAnswer(input.name) };
      case "unknown":
        return { text: unknownHint(input.word) };
      case "post":
        if (!this.mayPost(ctx.actor)) return { text: this.tooFast() };
        return this.run(ctx, log, () => CHAT_COMMANDS.post(this.deps, ctx, input.text));
      case "command":
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
    const at = this.now();
    const seen = this.strangers.get(key);
    if (seen !== undefined && at - seen < STRANGER_QUIET_MS) return undefined;
    remember(this.strangers, key, at);
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
