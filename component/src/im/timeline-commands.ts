/**
 * The ad-hoc commands of following and the home timeline (XEP-0050 at C), each on the sender's
 * own account: follow, unfollow, following, settings (and post, in post-command.ts). Thin
 * translators: parse the form, call FollowClient / TimelineService / PubsubService, say what
 * happened; the rules live there.
 */
import {
  type DataField,
  type DataForm,
  field,
  getFieldBoolean,
  getFieldString,
} from "../../../schemas/src/data-form.js";
import type { Follow, TimelineService } from "../domain/index.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { ACCESS_MODELS, type AccessModel } from "../domain/types.js";
import type { FollowClient } from "../federation/follow-client.js";
import type { Addresses } from "../protocol/addresses.js";
import type { PubsubLimits } from "../protocol/pubsub/context.js";
import { StanzaError } from "../protocol/stanza-error.js";
import { ownNode } from "./account-commands.js";
import type { AdhocCommand, CommandContext, CommandResult } from "./adhoc.js";
import { localUser, orRefusal } from "./command-refusal.js";
import { postCommand } from "./post-command.js";

export interface TimelineCommandDeps {
  follows: Pick<FollowClient, "follow" | "unfollow">;
  timeline: Pick<
    TimelineService,
    "listFollowing" | "getSettings" | "updateSettings" | "visiblePost"
  >;
  pubsub: PubsubService;
  addresses: Addresses;
  limits: PubsubLimits;
}

/** The field that names a microblog in `follow` and `unfollow`. */
export const TARGET_FIELD = "jid";

/** "requested" (on its way) is, for the user, waiting like "pending". */
const shownState = (f: Follow) => (f.state === "subscribed" ? "subscribed" : "pending");

/** The first value of a text field, trimmed; undefined when empty. */
function textOf(form: DataForm | undefined, name: string): string | undefined {
  const value = form && getFieldString(form, name)?.trim();
  return value ? value : undefined;
}

function followNote(follow: Follow, already: boolean, backfilled: number): string {
  if (shownState(follow) === "pending") {
    return `Your request to follow ${follow.target} is waiting for approval.`;
  }
  if (already) return `You already follow ${follow.target}.`;
  const added = backfilled > 0 ? ` ${backfilled} of their posts entered your timeline.` : "";
  return `You now follow ${follow.target}.${added}`;
}

function followCommand({ follows, addresses }: TimelineCommandDeps): AdhocCommand {
  const title = "Follow a microblog";
  return {
    node: "follow",
    name: title,
    audience: "service",
    allowed: localUser(addresses),
    form: () => ({
      type: "form",
      title,
      instructions: [
        "Whom to follow: a JID (alice@example.org), a microblog address, or an xmpp: URI of a node.",
      ],
      fields: [
        field(TARGET_FIELD, undefined, {
          type: "text-single",
          label: "Whom to follow",
          required: true,
        }),
      ],
    }),
    complete: (ctx, form) =>
      orRefusal(async () => {
        const input = textOf(form, TARGET_FIELD);
        if (!input) throw new StanzaError("bad-request", "Say whom to follow.");
        const { follow, already, backfilled } = await follows.follow(ctx.actor, input);
        return {
          note: followNote(follow, already, backfilled),
          form: {
            type: "result",
            title,
            fields: [
              field("jid", follow.target, { type: "text-single", label: "Address" }),
              field("state", shownState(follow), { type: "text-single", label: "State" }),
            ],
          },
        };
      }),
  };
}

async function followsOf(deps: TimelineCommandDeps, ctx: CommandContext): Promise<Follow[]> {
  const { result } = await deps.timeline.listFollowing(ctx.actor);
  return [...result].sort((a, b) => a.target.localeCompare(b.target));
}

function unfollowForm(title: string, all: readonly Follow[]): DataForm {
  const options = all.map((f) => ({ value: f.target, label: `${f.target} (${shownState(f)})` }));
  const fields: DataField[] = [];
  if (options.length > 0) {
    fields.push(field("following", undefined, { type: "list-single", label: "Whom", options }));
  }
  fields.push(
    field(TARGET_FIELD, undefined, { type: "text-single", label: "Or another address or URI" }),
  );
  const instructions =
    options.length > 0
      ? "Choose whom to stop following, or type an address. Their posts leave your timeline."
      : "You follow nobody yet; type an address to withdraw a request.";
  return { type: "form", title, instructions: [instructions], fields };
}

function unfollowCommand(deps: TimelineCommandDeps): AdhocCommand {
  const title = "Stop following a microblog";
  return {
    node: "unfollow",
    name: title,
    audience: "service",
    allowed: localUser(deps.addresses),
    form: async (ctx) => unfollowForm(title, await followsOf(deps, ctx)),
    complete: (ctx, form) =>
      orRefusal(async () => {
        const input = textOf(form, TARGET_FIELD) ?? textOf(form, "following");
        if (!input) throw new StanzaError("bad-request", "Choose whom to stop following.");
        const { follow, removed } = await deps.follows.unfollow(ctx.actor, input);
        const posts = removed === 1 ? "1 post" : `${removed} posts`;
        return {
          note: `You no longer follow ${follow?.target ?? input}; ${posts} left your timeline.`,
        };
      }),
  };
}

function followingResult(all: readonly Follow[]): CommandResult {
  const lines = all.map((f) => `${f.target} (${shownState(f)})`);
  return {
    note: `Following: ${all.length}${lines.length ? `\n${lines.join("\n")}` : ""}`,
    form: {
      type: "result",
      title: "Following",
      fields: [field("count", String(all.length), { type: "text-single", label: "Count" })],
      reported: [
        field("jid", undefined, { type: "text-single", label: "Address" }),
        field("state", undefined, { type: "text-single", label: "State" }),
      ],
      items: all.map((f) => [field("jid", f.target), field("state", shownState(f))]),
    },
  };
}

function followingCommand(deps: TimelineCommandDeps): AdhocCommand {
  return {
    node: "following",
    name: "List whom you follow",
    audience: "service",
    allowed: localUser(deps.addresses),
    complete: async (ctx) => followingResult(await followsOf(deps, ctx)),
  };
}

const ACCESS_LABELS: Record<AccessModel, string> = {
  open: "Anyone may follow (open)",
  authorize: "You approve each follower (authorize)",
  whitelist: "Only those you allow (whitelist)",
};

async function settingsForm(deps: TimelineCommandDeps, ctx: CommandContext): Promise<DataForm> {
  const ref = ownNode(deps.addresses, ctx);
  const { result: config } = await deps.pubsub.getNodeConfig(ctx.from, ref);
  const { result: settings } = await deps.timeline.getSettings(ctx.actor);
  const options = ACCESS_MODELS.map((value) => ({ value, label: ACCESS_LABELS[value] }));
  return {
    type: "form",
    title: "Account settings",
    instructions: ["Who may follow you, and whether new posts of your timeline come as chat."],
    fields: [
      field("access_model", config.accessModel, {
        type: "list-single",
        label: "Who may follow you",
        options,
      }),
      field("relay", settings.relay, {
        type: "boolean",
        label: "Send me each new post of my timeline as a chat message",
      }),
    ],
  };
}

function readAccessModel(form: DataForm | undefined): AccessModel | undefined {
  const value = textOf(form, "access_model");
  if (value === undefined) return undefined;
  if (!(ACCESS_MODELS as readonly string[]).includes(value)) {
    throw new StanzaError("not-acceptable", `Unknown access model "${value}".`);
  }
  return value as AccessModel;
}

async function applySettings(
  deps: TimelineCommandDeps,
  ctx: CommandContext,
  form: DataForm | undefined,
): Promise<CommandResult> {
  const ref = ownNode(deps.addresses, ctx);
  const access = readAccessModel(form);
  const relay = form ? getFieldBoolean(form, "relay") : undefined;
  const { result: config } = await deps.pubsub.getNodeConfig(ctx.from, ref);
  const changed =
    access !== undefined && access !== config.accessModel
      ? await deps.pubsub.configureNode(ctx.from, ref, { accessModel: access })
      : undefined;
  const settings =
    relay === undefined
      ? (await deps.timeline.getSettings(ctx.actor)).result
      : (await deps.timeline.updateSettings(ctx.actor, { relay })).result;
  const model = changed?.result.accessModel ?? config.accessModel;
  return {
    note: `Who may follow you: ${model}. Relay: ${settings.relay ? "on" : "off"}.`,
    events: changed?.events ?? [],
  };
}

function settingsCommand(deps: TimelineCommandDeps): AdhocCommand {
  return {
    node: "settings",
    name: "Account settings",
    audience: "service",
    allowed: localUser(deps.addresses),
    form: (ctx) => settingsForm(deps, ctx),
    complete: (ctx, form) => orRefusal(() => applySettings(deps, ctx, form)),
  };
}

/** The following and timeline commands at C, for users of the users domains. */
export function timelineCommands(deps: TimelineCommandDeps): AdhocCommand[] {
  return [
    followCommand(deps),
    unfollowCommand(deps),
    followingCommand(deps),
    settingsCommand(deps),
    postCommand(deps),
  ];
}
