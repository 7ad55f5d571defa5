/** Running an ad-hoc command at C in one step: execute with the form already filled in. */
import {
  buildCommandRequest,
  type CommandResponse,
  commandErrorText,
  parseCommandResponse,
} from "../../schemas/src/adhoc.js";
import { getFieldString } from "../../schemas/src/data-form.js";
import { WireError } from "../../schemas/src/errors.js";
import type { Ctx } from "./context.js";
import { refusedError } from "./errors.js";

/** The command's reply; its error note becomes exit 5 with the service's text. */
export async function runCommand(
  ctx: Ctx,
  node: string,
  fields?: Record<string, string | string[]>,
): Promise<CommandResponse> {
  const to = await ctx.component();
  const request = fields ? buildCommandRequest({ node, fields }) : buildCommandRequest({ node });
  const reply = await ctx.session.request("set", to, request);
  let res: CommandResponse;
  try {
    res = parseCommandResponse(reply);
  } catch (err) {
    if (err instanceof WireError) throw refusedError(`${to} answered ${node}: ${err.message}`);
    throw err;
  }
  const error = commandErrorText(res);
  if (error !== undefined) throw refusedError(error);
  if (res.status !== "completed") throw refusedError(`${to} did not complete ${node}`);
  return res;
}

/** The service's notes (info and warnings) as one text. */
export function noteOf(res: CommandResponse): string {
  return res.notes.map((n) => n.text).join("\n");
}

/** A field of the result form. */
export function resultField(res: CommandResponse, name: string): string | undefined {
  return res.form ? getFieldString(res.form, name) : undefined;
}
