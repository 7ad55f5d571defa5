/**
 * The `post` ad-hoc command at C: the text (and, optionally, the xmpp: URI of the post it
 * answers, or of the post it repeats) becomes an Atom entry published on the sender's own
 * microblog exactly as a publish from their pubsub client would be (publishEntry: the same
 * checks, completion and events). The chat commands `reply` and `repost` run it too.
 *
 * A reply is an RFC 4685 thr:in-reply-to (XEP-0277 §"Replying"); a repost (XEP-0277
 * §"Repeating a Post") repeats the text with a link rel='via' to the original. The service
 * writes the author of every entry it stores (no one may post in another's name), so a repeat
 * is told by its via link, not by a foreign author.
 */
import {
  buildEntry,
  entryText,
  type InReplyTo,
  itemUri,
  type MicroblogEntry,
  type NewEntry,
} from "../../../schemas/src/atom.js";
import { type DataForm, field, getFieldList } from "../../../schemas/src/data-form.js";
import { type ItemAddress, parseItemUri } from "../../../schemas/src/xmpp-uri.js";
import type { TimelineService } from "../domain/index.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import type { Addresses } from "../protocol/addresses.js";
import { readEntry } from "../protocol/post-lines.js";
import type { PubsubLimits } from "../protocol/pubsub/context.js";
import { publishEntry, singlePayload } from "../protocol/pubsub/publish-entry.js";
import { StanzaError } from "../protocol/stanza-error.js";
import { ownNode } from "./account-commands.js";
import type { AdhocCommand, CommandContext, CommandResult } from "./adhoc.js";
import { localUser, orRefusal } from "./command-refusal.js";

export interface PostCommandDeps {
  pubsub: PubsubService;
  timeline: Pick<TimelineService, "visiblePost">;
  addresses: Addresses;
  limits: PubsubLimits;
}

const TITLE = "Post to your microblog";

function itemAddress(uri: string): ItemAddress & { item: string } {
  const parsed = parseItemUri(uri);
  if (!parsed?.item) {
    throw new StanzaError("bad-request", `"${uri}" is not the xmpp: URI of a post.`);
  }
  return { ...parsed, item: parsed.item };
}

/**
 * The post at `at` as the sender may read it: on this service, through the pubsub access rules;
 * elsewhere, as it stands in the sender's home timeline. Undefined when neither has it.
 */
async function findPost(
  deps: PostCommandDeps,
  actor: string,
  at: ItemAddress & { item: string },
): Promise<MicroblogEntry | undefined> {
  const ref = { service: at.service, node: at.node };
  try {
    if (deps.addresses.ownerOfService(at.service)) {
      const { result } = await deps.pubsub.getItems(actor, ref, { ids: [at.item] });
      const payload = result.items[0]?.payload;
      if (payload) return readEntry(payload);
    }
    const seen = await deps.timeline.visiblePost(ref, at.item, actor);
    return seen && readEntry(seen.payload);
  } catch {
    return undefined;
  }
}

/** RFC 4685 in-reply-to: href the URI, ref the answered entry's Atom id when known, else the URI. */
async function replyTarget(deps: PostCommandDeps, actor: string, uri: string): Promise<InReplyTo> {
  const at = itemAddress(uri);
  const href = itemUri(at.service, at.node, at.item);
  const original = await findPost(deps, actor, at);
  return { ref: original?.id ?? href, href };
}

/** XEP-0277 repeat: the original's text, and a via link to it (its Atom id as ref when it has one). */
async function repostOf(deps: PostCommandDeps, actor: string, uri: string): Promise<NewEntry> {
  const at = itemAddress(uri);
  const original = await findPost(deps, actor, at);
  if (!original) {
    throw new StanzaError(
      "item-not-found",
      "That post is not one you can see, so it cannot be reposted.",
    );
  }
  const href = itemUri(at.service, at.node, at.item);
  const via = original.id ? { href, ref: original.id } : { href };
  return { text: entryText(original), via };
}

/** The lines of a text-multi field as one text (clients send one value per line). */
function postText(form: DataForm | undefined): string {
  return ((form && getFieldList(form, "text")) ?? []).join("\n").trim();
}

const uriField = (form: DataForm | undefined, name: string) =>
  (form && getFieldList(form, name)?.join("").trim()) || undefined;

/** The entry the form asks for: a post, a reply, or a repost. */
async function draftOf(
  deps: PostCommandDeps,
  ctx: CommandContext,
  form: DataForm | undefined,
): Promise<NewEntry> {
  const text = postText(form);
  const repost = uriField(form, "repost-of");
  if (repost) {
    if (text)
      throw new StanzaError(
        "bad-request",
        "A repost repeats a post as it is: leave the text empty, or write a reply instead.",
      );
    return repostOf(deps, ctx.from, repost);
  }
  if (!text) throw new StanzaError("bad-request", "Write something to post.");
  const replyTo = uriField(form, "reply-to");
  return replyTo ? { text, inReplyTo: await replyTarget(deps, ctx.from, replyTo) } : { text };
}

async function publishPost(
  deps: PostCommandDeps,
  ctx: CommandContext,
  form: DataForm | undefined,
): Promise<CommandResult> {
  const draft = await draftOf(deps, ctx, form);
  const ref = ownNode(deps.addresses, ctx);
  const payload = singlePayload([buildEntry(draft)], deps.limits);
  const owner = deps.addresses.ownerOfService(ref.service) ?? ctx.actor;
  const place = { serviceJid: ref.service, owner, node: ref.node };
  const { result, events } = await publishEntry(deps.pubsub, ctx.from, place, payload, deps.limits);
  const id = result.item.id;
  const uri = itemUri(ref.service, ref.node, id);
  const what = draft.via ? "Reposted" : draft.inReplyTo ? "Replied" : "Posted";
  return {
    note: `${what} as item ${id}: ${uri}`,
    form: {
      type: "result",
      title: TITLE,
      fields: [
        field("item", id, { type: "text-single", label: "Item id" }),
        field("uri", uri, { type: "text-single", label: "Address of the post" }),
      ],
    },
    events,
  };
}

export function postCommand(deps: PostCommandDeps): AdhocCommand {
  return {
    node: "post",
    name: TITLE,
    audience: "service",
    allowed: localUser(deps.addresses),
    form: () => ({
      type: "form",
      title: TITLE,
      instructions: [
        `Write your post (at most ${deps.limits.maxPostLength} characters).`,
        "To answer a post, give its xmpp: URI; to repost one, give its URI and no text.",
      ],
      fields: [
        field("text", undefined, { type: "text-multi", label: "Text" }),
        field("reply-to", undefined, { type: "text-single", label: "In reply to (optional)" }),
        field("repost-of", undefined, { type: "text-single", label: "Repost (optional)" }),
      ],
    }),
    complete: (ctx, form) => orRefusal(() => publishPost(deps, ctx, form)),
  };
}
