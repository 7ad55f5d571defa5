/**
 * The ad-hoc commands of a user's own account (XEP-0050 at C), and XEP-0060 §8.7 get-pending at
 * u@C. One function per command; each is a thin call into the domain core, where the policy is.
 */
import { type DataForm, field, getFieldString } from "../../../schemas/src/data-form.js";
import { NS_PUBSUB_SUBSCRIBE_AUTHORIZATION } from "../../../schemas/src/ns.js";
import { PubsubError } from "../domain/errors.js";
import type { PubsubEvent } from "../domain/events.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef, type Subscription } from "../domain/types.js";
import type { FollowClient } from "../federation/follow-client.js";
import type { Addresses } from "../protocol/addresses.js";
import { StanzaError } from "../protocol/stanza-error.js";
import type { AdhocCommand, CommandContext, CommandResult } from "./adhoc.js";

export const NODE_GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";

export interface AccountDeps {
  pubsub: PubsubService;
  addresses: Addresses;
  admins: readonly string[];
  /** Blocking ends following: the blocker's follows of the JID or domain end too. */
  follows?: Pick<FollowClient, "unfollowBlocked">;
}

const jidForm = (title: string, label: string): DataForm => ({
  type: "form",
  title,
  fields: [field("jid", undefined, { type: "text-single", label, required: true })],
});

function listResult(title: string, subs: readonly Subscription[]): CommandResult {
  const jids = subs.map((s) => s.jid).sort();
  return {
    note: `${title}: ${jids.length}${jids.length ? `\n${jids.join("\n")}` : ""}`,
    form: {
      type: "result",
      title,
      fields: [
        field("count", String(jids.length), { type: "text-single", label: "Count" }),
        field("jids", jids, { type: "jid-multi", label: title }),
      ],
    },
  };
}

/** The sender's own microblog node; forbidden for senders of other domains. */
export function ownNode(addresses: Addresses, ctx: CommandContext): NodeRef {
  const service = addresses.serviceOf(ctx.actor);
  if (!service)
    throw new StanzaError(
      "forbidden",
      "only users of this service's domains have a microblog here",
    );
  return { service, node: MICROBLOG_NODE };
}

/** The JID as typed: the domain checks and normalises it. */
function requireJid(form: DataForm | undefined): string {
  const jid = form && getFieldString(form, "jid")?.trim();
  if (!jid) throw new StanzaError("bad-request", "the field jid is required");
  return jid;
}

/** A read of a node that may not exist yet: nothing, rather than creating it. */
async function orNone(read: () => Promise<Subscription[]>): Promise<Subscription[]> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof PubsubError && err.condition === "item-not-found") return [];
    throw err;
  }
}

function followersCommand({ pubsub, addresses }: AccountDeps): AdhocCommand {
  return {
    node: "followers",
    name: "List followers",
    audience: "service",
    allowed: (ctx) => addresses.isLocalUser(ctx.actor),
    complete: async (ctx) => {
      const ref = ownNode(addresses, ctx);
      const subs = await orNone(
        async () => (await pubsub.getNodeSubscriptions(ctx.actor, ref)).result,
      );
      return listResult(
        "Followers",
        subs.filter((s) => s.state === "subscribed"),
      );
    },
  };
}

function pendingCommand({ pubsub, addresses }: AccountDeps): AdhocCommand {
  return {
    node: "pending",
    name: "List pending follow requests",
    audience: "service",
    allowed: (ctx) => addresses.isLocalUser(ctx.actor),
    complete: async (ctx) => {
      const { service } = ownNode(addresses, ctx);
      const { result } = await pubsub.listPending(ctx.actor, service, MICROBLOG_NODE);
      return listResult("Pending requests", result);
    },
  };
}

function answerCommand({ pubsub, addresses }: AccountDeps, allow: boolean): AdhocCommand {
  const title = `${allow ? "Approve" : "Deny"} a follow request`;
  return {
    node: allow ? "approve" : "deny",
    name: title,
    audience: "service",
    allowed: (ctx) => addresses.isLocalUser(ctx.actor),
    form: () => jidForm(title, "Who"),
    complete: async (ctx, form) => {
      const jid = requireJid(form);
      const ref = ownNode(addresses, ctx);
      const { events } = await pubsub.approveSubscription(ctx.actor, ref, jid, allow);
      return { note: `${jid} ${allow ? "may now follow you" : "was denied"}.`, events };
    },
  };
}

function blockCommand({ pubsub, addresses, follows }: AccountDeps, block: boolean): AdhocCommand {
  const verb = block ? "Block" : "Unblock";
  return {
    node: block ? "block" : "unblock",
    name: `${verb} a JID or a whole domain`,
    audience: "service",
    allowed: (ctx) => addresses.isLocalUser(ctx.actor),
    form: () => jidForm(`${verb} a JID or a whole domain`, "JID or domain"),
    complete: async (ctx, form) => {
      const entity = requireJid(form);
      const affiliation = block ? "outcast" : "none";
      // The node is created on first need, in the same transaction: one may block before posting.
      const changes = [{ entity, affiliation } as const];
      const ref = ownNode(addresses, ctx);
      const { events } = await pubsub.setNodeAffiliations(ctx.actor, ref, changes, true);
      const ended = block && follows ? await follows.unfollowBlocked(ctx.actor, entity) : 0;
      const unfollowed = ended > 0 ? ` You no longer follow ${entity}.` : "";
      return {
        note: `${entity} is ${block ? "blocked" : "no longer blocked"}.${unfollowed}`,
        events,
      };
    },
  };
}

function statsCommand({ pubsub, admins }: AccountDeps): AdhocCommand {
  return {
    node: "stats",
    name: "Service counters (refusals, drops)",
    audience: "service",
    allowed: (ctx) => admins.includes(ctx.actor),
    complete: async () => {
      const counters = await pubsub.getCounters();
      const names = Object.keys(counters).sort();
      return {
        note: names.map((n) => `${n}: ${counters[n]}`).join("\n") || "no counters yet",
        form: {
          type: "result",
          title: "Service counters",
          fields: names.map((n) => field(n, String(counters[n]), { type: "text-single" })),
        },
      };
    },
  };
}

/** The account commands at C, for users of the users domains (stats: for admins). */
export function accountCommands(deps: AccountDeps): AdhocCommand[] {
  return [
    followersCommand(deps),
    pendingCommand(deps),
    answerCommand(deps, true),
    answerCommand(deps, false),
    blockCommand(deps, true),
    blockCommand(deps, false),
    statsCommand(deps),
  ];
}

/** XEP-0060 §8.7: the owner asks the service to send the approval form for each pending request. */
export function getPendingCommand({
  pubsub,
  addresses,
}: Omit<AccountDeps, "admins">): AdhocCommand {
  return {
    node: NODE_GET_PENDING,
    name: "Get pending subscription requests",
    audience: "user",
    allowed: (ctx) => addresses.ownerOf(ctx.toLocal) === ctx.actor,
    form: () => ({
      type: "form",
      formType: NS_PUBSUB_SUBSCRIBE_AUTHORIZATION,
      fields: [
        field("FORM_TYPE", NS_PUBSUB_SUBSCRIBE_AUTHORIZATION, { type: "hidden" }),
        field("pubsub#node", undefined, {
          type: "list-single",
          options: [{ value: MICROBLOG_NODE }],
        }),
      ],
    }),
    complete: async (ctx, form) => {
      const node = form && getFieldString(form, "pubsub#node");
      if (node !== MICROBLOG_NODE)
        throw new StanzaError("item-not-found", `no node ${node ?? "(none)"} here`);
      const { result } = await pubsub.listPending(ctx.actor, ctx.to, node);
      const events: PubsubEvent[] = result.map((s) => ({
        type: "subscription-requested",
        service: s.service,
        node: s.node,
        jid: s.jid,
        subid: s.subid,
        owner: ctx.actor,
      }));
      return { events };
    },
  };
}
