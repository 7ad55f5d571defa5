/**
 * A refusal that a command's user reads: the command completes with `<note type='error'>` and
 * the refusal's text (XEP-0050 §4.6), rather than an IQ error that clients show as a code.
 * Only the errors that carry a reason become notes; anything else is a bug and stays one.
 */
import { WireError } from "../../../schemas/src/errors.js";
import { PubsubError } from "../domain/errors.js";
import { StanzaError } from "../protocol/stanza-error.js";
import type { CommandContext, CommandResult } from "./adhoc.js";

/** The readable text of a refusal; undefined for an error that is not one. */
export function refusalText(err: unknown): string | undefined {
  if (err instanceof PubsubError) return err.text ?? `refused: ${err.message}`;
  if (err instanceof StanzaError) return err.text ?? `refused: ${err.condition}`;
  if (err instanceof WireError) return err.message;
  return undefined;
}

/** Run a command's work; a refusal ends the command with an error note. */
export async function orRefusal(work: () => Promise<CommandResult>): Promise<CommandResult> {
  try {
    return await work();
  } catch (err) {
    const text = refusalText(err);
    if (text === undefined) throw err;
    return { note: text, noteType: "error" };
  }
}

/** `allowed` of the commands on one's own account: the sender is a user of a users domain. */
export const localUser =
  (addresses: { isLocalUser(jid: string): boolean }) => (ctx: CommandContext) =>
    addresses.isLocalUser(ctx.actor);
