/**
 * The `post` ad-hoc command at C: the text (and, optionally, the xmpp: URI of the post it
 * answers) becomes an Atom entry published on the sender's own microblog exactly as a publish
 * from their pubsub client would be (publishEntry: the same checks, completion and events).
 */
import { buildEntry, type InReplyTo, itemUri, parseEntry } from "../../../schemas/src/atom.js";
import { type DataForm, field, getFieldList } from "../../../schemas/src/data-form.js";
import { parseXml } from "../../../schemas/src/xml.js";
import { parseItemUri } from "../../../schemas/src/xmpp-uri.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import type { Addresses } from "../protocol/addresses.js";
import type { PubsubLimits } from "../protocol/pubsub/context.js";
import { publishEntry, singlePayload } from "../protocol/pubsub/publish-entry.js";
import { StanzaError } from "../protocol/stanza-error.js";
import { ownNode } from "./account-commands.js";
import type { AdhocCommand, CommandContext, CommandResult } from "./adhoc.js";
import { localUser, orRefusal } from "./command-refusal.js";

export interface PostCommandDeps {
  pubsub: PubsubService;
  addresses: Addresses;
  limits: PubsubLimits;
}

const TITLE = "Post to your microblog";

/**
 * RFC 4685 in-reply-to: href the URI, ref the answered entry's Atom id when this service holds
 * it (and the sender may read it), else the URI itself.
 */
async function replyTarget(deps: PostCommandDeps, actor: string, uri: string): Promise<InReplyTo> {
  const parsed = parseItemUri(uri);
  if (!parsed?.item) {
    throw new StanzaError("bad-request", `"${uri}" is not the xmpp: URI of a post.`);
  }
  const href = itemUri(parsed.service, parsed.node, parsed.item);
  if (!deps.addresses.ownerOfService(parsed.service)) return { ref: href, href };
  try {
    const ref = { service: parsed.service, node: parsed.node };
    const { result } = await deps.pubsub.getItems(actor, ref, { ids: [parsed.item] });
    const payload = result.items[0]?.payload;
    const id = payload ? parseEntry(parseXml(payload)).id : undefined;
    return { ref: id ?? href, href };
  } catch {
    return { ref: href, href };
  }
}

/** The lines of a text-multi field as one text (clients send one value per line). */
function postText(form: DataForm | undefined): string {
  const text = ((form && getFieldList(form, "text")) ?? []).join("\n").trim();
  if (!text) throw new StanzaError("bad-request", "Write something to post.");
  return text;
}

async function publishPost(
  deps: PostCommandDeps,
  ctx: CommandContext,
  form: DataForm | undefined,
): Promise<CommandResult> {
  const text = postText(form);
  const replyTo = form && getFieldList(form, "reply-to")?.join("").trim();
  const ref = ownNode(deps.addresses, ctx);
  const inReplyTo = replyTo ? await replyTarget(deps, ctx.from, replyTo) : undefined;
  const payload = singlePayload(
    [buildEntry(inReplyTo ? { text, inReplyTo } : { text })],
    deps.limits,
  );
  const owner = deps.addresses.ownerOfService(ref.service) ?? ctx.actor;
  const place = { serviceJid: ref.service, owner, node: ref.node };
  const { result, events } = await publishEntry(deps.pubsub, ctx.from, place, payload, deps.limits);
  const id = result.item.id;
  const uri = itemUri(ref.service, ref.node, id);
  return {
    note: `Posted as item ${id}: ${uri}`,
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
        "To answer a post, give its xmpp: URI.",
      ],
      fields: [
        field("text", undefined, { type: "text-multi", label: "Text", required: true }),
        field("reply-to", undefined, { type: "text-single", label: "In reply to (optional)" }),
      ],
    }),
    complete: (ctx, form) => orRefusal(() => publishPost(deps, ctx, form)),
  };
}
