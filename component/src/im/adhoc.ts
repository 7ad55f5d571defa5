/**
 * XEP-0050 ad-hoc commands: the framework. A command is data (node, name, who may run it, an
 * optional first-stage form, and what completing it does); this module does sessions, actions,
 * disco and errors once for all of them.
 */
import { randomBytes } from "node:crypto";
import { buildDataForm, type DataForm, parseDataForm } from "../../../schemas/src/data-form.js";
import { NS_COMMANDS, NS_DATA_FORMS } from "../../../schemas/src/ns.js";
import { type Element, xml } from "../../../schemas/src/xml.js";
import { PubsubError, type RefusalReason } from "../domain/errors.js";
import type { PubsubEvent } from "../domain/events.js";
import { bareJid } from "../domain/jid.js";
import type { DiscoContributor } from "../protocol/discovery.js";
import type { IqAnswer, IqRequest, StanzaRouter } from "../protocol/router.js";
import { StanzaError } from "../protocol/stanza-error.js";

/** Who runs a command, and where. */
export interface CommandContext {
  /** The sender's full JID. */
  from: string;
  /** The sender's bare JID, lower-cased. */
  actor: string;
  /** The address the command was sent to (C or u@C). */
  to: string;
  toLocal: string;
}

export interface CommandResult {
  note?: string;
  noteType?: "info" | "warn" | "error";
  form?: DataForm;
  /** Domain events of what the command did (the bus sends them on after the reply). */
  events?: readonly PubsubEvent[];
}

export interface AdhocCommand {
  node: string;
  name: string;
  /** Offered at C ("service") or at u@C ("user"). */
  audience: "service" | "user";
  /** Whether ctx may see and run it (listing and execution both ask). */
  allowed(ctx: CommandContext): boolean;
  /** First stage: the form to fill (it may read current values). Absent: completes at once. */
  form?(ctx: CommandContext): DataForm | Promise<DataForm>;
  complete(ctx: CommandContext, submitted: DataForm | undefined): Promise<CommandResult>;
}

interface Session {
  node: string;
  actor: string;
  expires: number;
}

const SESSION_TTL_MS = 10 * 60_000;

/** Unfinished sessions kept: per sender (its oldest goes first) and in all. */
export interface SessionLimits {
  perSender: number;
  total: number;
}
export const DEFAULT_SESSION_LIMITS: SessionLimits = { perSender: 10, total: 1000 };
const cmdError = (name: string) => ({ name, xmlns: NS_COMMANDS });

export class AdhocCommands implements DiscoContributor {
  private readonly commands = new Map<string, AdhocCommand>();
  private readonly sessions = new Map<string, Session>();
  readonly serviceFeatures = [NS_COMMANDS];
  readonly userFeatures = [NS_COMMANDS];

  /**
   * `countRefusal` counts a refused command (the domain's `refused:<reason>` counters): a command
   * that its sender may not run is a policy refusal like any other, logged and counted.
   */
  constructor(
    private readonly countRefusal: (reason: RefusalReason) => Promise<void> = async () => {},
    private readonly sessionLimits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  /** Unfinished sessions held now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  add(...commands: AdhocCommand[]): this {
    for (const c of commands) this.commands.set(`${c.audience} ${c.node}`, c);
    return this;
  }

  register(router: StanzaRouter): void {
    router.on("set", NS_COMMANDS, "command", "both", (req) => this.execute(req));
  }

  private visible(ctx: CommandContext): AdhocCommand[] {
    const audience = ctx.toLocal ? "user" : "service";
    return [...this.commands.values()].filter((c) => c.audience === audience && c.allowed(ctx));
  }

  /** disco#items node=commands at C. */
  serviceNodeItems(node: string, from: string, to: string): Element[] | undefined {
    if (node !== NS_COMMANDS) return undefined;
    return this.items({ from, actor: bareJid(from), to, toLocal: "" });
  }

  /** disco#items node=commands at u@C. */
  nodeItems(serviceJid: string, node: string, _owner: string, from = ""): Element[] | undefined {
    if (node !== NS_COMMANDS) return undefined;
    return this.items({
      from,
      actor: bareJid(from),
      to: serviceJid,
      toLocal: serviceJid.split("@")[0] ?? "",
    });
  }

  private items(ctx: CommandContext): Element[] {
    return this.visible(ctx).map((c) => xml("item", { jid: ctx.to, node: c.node, name: c.name }));
  }

  /** disco#info for a command node. */
  serviceNodeInfo(node: string): Element[] | undefined {
    const cmd = [...this.commands.values()].find((c) => c.node === node);
    if (!cmd) return undefined;
    return [
      xml("identity", { category: "automation", type: "command-node", name: cmd.name }),
      xml("feature", { var: NS_COMMANDS }),
      xml("feature", { var: NS_DATA_FORMS }),
    ];
  }

  private async execute(req: IqRequest): Promise<IqAnswer> {
    const ctx: CommandContext = {
      from: req.from,
      actor: bareJid(req.from),
      to: bareJid(req.to),
      toLocal: req.toLocal,
    };
    const {
      node = "",
      sessionid,
      action = "execute",
    } = req.child.attrs as Record<string, string | undefined>;
    const cmd = this.commands.get(`${req.toLocal ? "user" : "service"} ${node}`);
    if (!cmd) throw new StanzaError("item-not-found", `no command ${node} here`);
    if (!cmd.allowed(ctx)) {
      const reason = "insufficient-privileges";
      await this.countRefusal(reason);
      throw new PubsubError("forbidden", { reason, text: `you may not run ${cmd.name}` });
    }
    if (!["execute", "complete", "next", "prev", "cancel"].includes(action)) {
      throw new StanzaError(
        "bad-request",
        `unknown action ${action}`,
        undefined,
        undefined,
        cmdError("malformed-action"),
      );
    }
    this.dropExpired();
    if (sessionid) return this.continueSession(req, cmd, ctx, sessionid, action);
    if (action === "cancel")
      throw new StanzaError(
        "bad-request",
        "nothing to cancel",
        undefined,
        undefined,
        cmdError("bad-sessionid"),
      );
    const submitted = this.submittedForm(req.child);
    if (cmd.form && !submitted) {
      const form = await cmd.form(ctx);
      const id = this.openSession(node, ctx.actor);
      return { payload: this.reply(node, id, "executing", { form }, true) };
    }
    return this.finish(cmd, ctx, submitted, randomBytes(8).toString("hex"));
  }

  private async continueSession(
    req: IqRequest,
    cmd: AdhocCommand,
    ctx: CommandContext,
    id: string,
    action: string,
  ): Promise<IqAnswer> {
    const session = this.sessions.get(id);
    if (!session || session.node !== cmd.node || session.actor !== ctx.actor) {
      throw new StanzaError(
        "not-allowed",
        "this session is not active",
        undefined,
        undefined,
        cmdError("session-expired"),
      );
    }
    this.sessions.delete(id);
    if (action === "cancel") return { payload: this.reply(cmd.node, id, "canceled", {}, false) };
    if (action === "prev")
      throw new StanzaError(
        "bad-request",
        "there is no previous stage",
        undefined,
        undefined,
        cmdError("bad-action"),
      );
    const submitted = this.submittedForm(req.child);
    if (!submitted)
      throw new StanzaError(
        "bad-request",
        "submit the form to complete the command",
        undefined,
        undefined,
        cmdError("bad-payload"),
      );
    return this.finish(cmd, ctx, submitted, id);
  }

  private async finish(
    cmd: AdhocCommand,
    ctx: CommandContext,
    submitted: DataForm | undefined,
    id: string,
  ): Promise<IqAnswer> {
    const result = await cmd.complete(ctx, submitted);
    return {
      payload: this.reply(cmd.node, id, "completed", result, false),
      events: result.events ?? [],
    };
  }

  private submittedForm(command: Element): DataForm | undefined {
    const x = command.getChild("x", NS_DATA_FORMS);
    if (!x) return undefined;
    const form = parseDataForm(x);
    return form.type === "submit" ? form : undefined;
  }

  private reply(
    node: string,
    sessionid: string,
    status: string,
    result: CommandResult,
    offerComplete: boolean,
  ): Element {
    return xml(
      "command",
      { xmlns: NS_COMMANDS, node, sessionid, status },
      offerComplete && xml("actions", { execute: "complete" }, xml("complete")),
      result.note && xml("note", { type: result.noteType ?? "info" }, result.note),
      result.form && buildDataForm(result.form),
    );
  }

  /**
   * A new session. A sender over its own limit loses its oldest unfinished session; when all
   * senders together hold the most there may be, the new one is refused (resource-constraint)
   * rather than someone else's session ended.
   */
  private openSession(node: string, actor: string): string {
    const own = [...this.sessions].filter(([, s]) => s.actor === actor);
    for (const [id] of own.slice(0, Math.max(0, own.length - this.sessionLimits.perSender + 1)))
      this.sessions.delete(id);
    if (this.sessions.size >= this.sessionLimits.total) {
      throw new StanzaError(
        "resource-constraint",
        "too many unfinished commands on this service; try again in a few minutes",
      );
    }
    const id = randomBytes(8).toString("hex");
    this.sessions.set(id, { node, actor, expires: Date.now() + SESSION_TTL_MS });
    return id;
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
  }
}
