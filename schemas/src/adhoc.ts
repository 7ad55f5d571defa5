/**
 * XEP-0050 ad-hoc commands, the requester's side: the `<command/>` a client sends (execute,
 * with a submitted form for a one-stage command) and what it reads back (status, notes, form).
 */
import { buildDataForm, type DataForm, parseDataForm } from "./data-form.js";
import { WireError } from "./errors.js";
import { NS_COMMANDS, NS_DATA_FORMS } from "./ns.js";
import { type Element, xml } from "./xml.js";

export type CommandAction = "execute" | "complete" | "next" | "prev" | "cancel";
export type CommandStatus = "executing" | "completed" | "canceled";
export type NoteType = "info" | "warn" | "error";

export interface CommandRequest {
  node: string;
  action?: CommandAction;
  sessionid?: string;
  /** Sent as a submit form. */
  fields?: Record<string, string | string[]>;
}

export interface CommandNote {
  type: NoteType;
  text: string;
}

export interface CommandResponse {
  node: string;
  status: CommandStatus;
  sessionid?: string;
  notes: CommandNote[];
  form?: DataForm;
}

/** `<command xmlns=commands node action sessionid?><x type='submit'>…</x>?</command>`. */
export function buildCommandRequest(req: CommandRequest): Element {
  const fields = Object.entries(req.fields ?? {}).map(([name, value]) => ({
    var: name,
    values: Array.isArray(value) ? value : [value],
  }));
  return xml(
    "command",
    {
      xmlns: NS_COMMANDS,
      node: req.node,
      action: req.action ?? "execute",
      sessionid: req.sessionid,
    },
    req.fields && buildDataForm({ type: "submit", fields }),
  );
}

const STATUSES = new Set<string>(["executing", "completed", "canceled"]);
const NOTE_TYPES = new Set<string>(["info", "warn", "error"]);

/** Read the `<command/>` of a reply (or the IQ that carries it). Throws WireError. */
export function parseCommandResponse(el: Element): CommandResponse {
  const cmd = el.is("command", NS_COMMANDS) ? el : el.getChild("command", NS_COMMANDS);
  if (!cmd) throw new WireError("The reply carries no ad-hoc <command/>.", "bad-request");
  const status = cmd.attrs.status ?? "";
  if (!STATUSES.has(status))
    throw new WireError(`Unknown command status '${status}'.`, "bad-request");
  const notes = cmd.getChildren("note").map((n) => ({
    type: (NOTE_TYPES.has(n.attrs.type) ? n.attrs.type : "info") as NoteType,
    text: n.getText().trim(),
  }));
  const res: CommandResponse = {
    node: cmd.attrs.node ?? "",
    status: status as CommandStatus,
    notes,
  };
  if (cmd.attrs.sessionid) res.sessionid = cmd.attrs.sessionid;
  const x = cmd.getChild("x", NS_DATA_FORMS);
  if (x) res.form = parseDataForm(x);
  return res;
}

/** The text of the error notes; undefined when the command ended without one. */
export function commandErrorText(res: CommandResponse): string | undefined {
  const errors = res.notes.filter((n) => n.type === "error").map((n) => n.text);
  return errors.length > 0 ? errors.join(" ") : undefined;
}
