/** `follow`, `unfollow`, `following`: the ad-hoc commands of the same names at C. */
import { getFieldString } from "../../../schemas/src/data-form.js";
import { noteOf, resultField, runCommand } from "../adhoc-client.js";
import { type Ctx, print, printJson } from "../context.js";
import { clean } from "../format.js";

type State = "subscribed" | "pending";
const stateOf = (s: string | undefined): State => (s === "subscribed" ? "subscribed" : "pending");

export async function follow(ctx: Ctx, jid: string): Promise<void> {
  const res = await runCommand(ctx, "follow", { jid });
  const target = resultField(res, "jid") ?? jid;
  const state = stateOf(resultField(res, "state"));
  if (ctx.json) printJson({ target, state });
  else print(clean(`${noteOf(res)}\nUndo: warble unfollow ${target}`));
}

/** "You no longer follow X; 3 posts left your timeline." → X and 3. */
export function readUnfollowNote(note: string): { target?: string; removed: number } {
  const target = /no longer follow (.+?);/.exec(note)?.[1];
  const removed = Number(/(\d+) posts? left/.exec(note)?.[1] ?? 0);
  return target === undefined ? { removed } : { target, removed };
}

export async function unfollow(ctx: Ctx, jid: string): Promise<void> {
  const res = await runCommand(ctx, "unfollow", { jid });
  const note = noteOf(res);
  const { target = jid, removed } = readUnfollowNote(note);
  if (ctx.json) printJson({ target, removed });
  else print(clean(`${note}\nUndo: warble follow ${target}`));
}

export async function following(ctx: Ctx): Promise<void> {
  const res = await runCommand(ctx, "following");
  const rows = (res.form?.items ?? []).map((row) => {
    const form = { type: "result" as const, fields: row };
    return {
      target: getFieldString(form, "jid") ?? "",
      state: stateOf(getFieldString(form, "state")),
    };
  });
  if (ctx.json) return printJson(rows);
  if (rows.length === 0) return print("You follow nobody yet. Start with: warble follow JID");
  const width = Math.max(...rows.map((r) => r.target.length));
  print(clean(rows.map((r) => `${r.target.padEnd(width)}  ${r.state}`).join("\n")));
}
