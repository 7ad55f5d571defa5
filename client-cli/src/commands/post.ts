/** `post TEXT|-` (the ad-hoc command post at C) and `delete ID|SHORT` (a retract at u@C). */
import { itemUri } from "../../../schemas/src/atom.js";
import { NS_MICROBLOG } from "../../../schemas/src/ns.js";
import { buildPubsubRequest } from "../../../schemas/src/pubsub-request-build.js";
import { isShortId, shortId } from "../../../schemas/src/short-id.js";
import { parseItemUri } from "../../../schemas/src/xmpp-uri.js";
import { resultField, runCommand } from "../adhoc-client.js";
import { type Ctx, print, printJson } from "../context.js";
import { refusedError, usageError } from "../errors.js";
import { findOwnItem, uriOfShort } from "../lookup.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The text to post: the argument, or stdin for "-" (or no argument and a pipe). */
export async function postText(arg: string | undefined): Promise<string> {
  let text: string;
  if (arg === "-" || (arg === undefined && !process.stdin.isTTY)) text = await readStdin();
  else if (arg === undefined) throw usageError('nothing to post: give the text, or "-" to read it');
  else text = arg;
  text = text.trim();
  if (text === "") throw usageError("nothing to post: the text is empty");
  return text;
}

async function replyUri(ctx: Ctx, replyTo: string): Promise<string> {
  if (replyTo.startsWith("xmpp:")) {
    if (!parseItemUri(replyTo)) throw usageError(`"${replyTo}" is not the xmpp: URI of a post`);
    return replyTo;
  }
  if (isShortId(replyTo)) return uriOfShort(ctx, replyTo);
  throw usageError(`--reply-to takes the xmpp: URI or the short id of a post, not "${replyTo}"`);
}

export async function post(ctx: Ctx, text: string, opts: { replyTo?: string }): Promise<void> {
  const fields: Record<string, string | string[]> = { text: text.split("\n") };
  if (opts.replyTo) fields["reply-to"] = await replyUri(ctx, opts.replyTo);
  const res = await runCommand(ctx, "post", fields);
  const id = resultField(res, "item");
  const service = await ctx.ownService();
  const uri = resultField(res, "uri") ?? (id ? itemUri(service, NS_MICROBLOG, id) : undefined);
  const where = uri ? parseItemUri(uri) : undefined;
  if (!id || !uri) throw refusedError("the service did not say which item it published");
  const short = shortId(where?.service ?? service, where?.node ?? NS_MICROBLOG, id);
  if (ctx.json) printJson({ id, short, uri });
  else print(`Posted ${short}. Undo: warble delete ${short}`);
}

export async function deletePost(ctx: Ctx, idOrShort: string): Promise<void> {
  const service = await ctx.ownService();
  const item = (isShortId(idOrShort) && (await findOwnItem(ctx, idOrShort))) || idOrShort;
  const request = buildPubsubRequest({
    kind: "retract",
    node: NS_MICROBLOG,
    itemIds: [item],
    notify: true,
  });
  await ctx.session.request("set", service, request);
  if (ctx.json) printJson({ deleted: item });
  else
    print(
      `Deleted ${shortId(service, NS_MICROBLOG, item)} (item ${item}). It cannot be undone; post the text again if you need it back.`,
    );
}
