/**
 * Who may follow you: `followers`, `pending`, `approve`, `deny`, `block`, `unblock`, `lock`,
 * `unlock` (the ad-hoc commands at C; lock and unlock are `settings` with access_model).
 */
import { getFieldList, getFieldNumber } from "../../../schemas/src/data-form.js";
import { noteOf, runCommand } from "../adhoc-client.js";
import { type Ctx, print, printJson } from "../context.js";
import { locateMicroblog } from "../discovery.js";
import { clean } from "../format.js";

async function listOf(ctx: Ctx, node: "followers" | "pending"): Promise<void> {
  const res = await runCommand(ctx, node);
  const jids = res.form ? (getFieldList(res.form, "jids") ?? []) : [];
  const count = (res.form && getFieldNumber(res.form, "count")) ?? jids.length;
  if (ctx.json) return printJson({ count, jids });
  const title = node === "followers" ? "Followers" : "Waiting for your approval";
  const hint =
    node === "pending" && count > 0 ? "\nAnswer with: warble approve JID / warble deny JID" : "";
  print(clean(`${title}: ${count}${jids.map((j) => `\n  ${j}`).join("")}${hint}`));
}

export const followers = (ctx: Ctx) => listOf(ctx, "followers");
export const pending = (ctx: Ctx) => listOf(ctx, "pending");

const UNDO: Record<string, (jid: string) => string> = {
  approve: (jid) => `warble block ${jid} (then warble unblock ${jid}) ends their follow`,
  deny: (jid) => `none needed; ${jid} may ask again`,
  block: (jid) => `warble unblock ${jid}`,
  unblock: (jid) => `warble block ${jid}`,
  lock: () => "warble unlock",
  unlock: () => "warble lock",
};

function done(ctx: Ctx, message: string, undo: string): void {
  if (ctx.json) printJson({ ok: true, message });
  else print(clean(`${message}\nUndo: ${undo}`));
}

/**
 * The requester as the pending list names it: a user who follows from their own Warble asks
 * as their microblog address there (alice@C2), so alice@E is turned into it when only that asks.
 */
async function requesterOf(ctx: Ctx, jid: string): Promise<string> {
  const res = await runCommand(ctx, "pending");
  const jids = (res.form && getFieldList(res.form, "jids")) ?? [];
  if (jids.includes(jid.toLowerCase()) || !jid.includes("@")) return jid;
  const own = { domain: ctx.account.domain, component: await ctx.component() };
  const blog = await locateMicroblog(ctx.session, jid, own).catch(() => undefined);
  return blog && jids.includes(blog.service) ? blog.service : jid;
}

/** approve, deny, block, unblock: a command with the field jid. */
export async function onJid(
  ctx: Ctx,
  node: "approve" | "deny" | "block" | "unblock",
  given: string,
): Promise<void> {
  const jid = node === "approve" || node === "deny" ? await requesterOf(ctx, given) : given;
  const res = await runCommand(ctx, node, { jid });
  done(ctx, noteOf(res), (UNDO[node] as (j: string) => string)(jid));
}

/** lock: followers need your approval (authorize); unlock: anyone may follow (open). */
export async function setLocked(ctx: Ctx, locked: boolean): Promise<void> {
  const res = await runCommand(ctx, "settings", { access_model: locked ? "authorize" : "open" });
  done(ctx, noteOf(res), (UNDO[locked ? "lock" : "unlock"] as (j: string) => string)(""));
}
