/**
 * The ad-hoc commands of a user's own account (XEP-0050 at C), and XEP-0060 §8.7 get-pending at
 * u@C. Each command is a thin call into the domain core; the policy lives there.
 */
import { type DataForm, field, getFieldString } from "../../../schemas/src/data-form.js";
import { NS_PUBSUB_SUBSCRIBE_AUTHORIZATION } from "../../../schemas/src/ns.js";
import { PubsubError } from "../domain/errors.js";
import type { PubsubEvent } from "../domain/events.js";
import type { PubsubService } from "../domain/pubsub-service.js";
import { MICROBLOG_NODE, type NodeRef, type Subscription } from "../domain/types.js";
import type { Addresses } from "../protocol/addresses.js";
import { StanzaError } from "../protocol/stanza-error.js";
import type { AdhocCommand, CommandContext, CommandResult } from "./adhoc.js";

export const NODE_GET_PENDING = "http://jabber.org/protocol/pubsub#get-pending";

interface Deps {
  pubsub: PubsubService;
  addresses: Addresses;
  admins: readonly string[];
}

const jidForm = (title: string, label: string): DataForm => ({
  type: "form",
  title,
  fields: [field("jid", undefined, { type: "text-single", label, required: true })],
});

function listResult(title: string, subs: Subscription[]): CommandResult {
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

/** The account commands at C, for users of the users domains. */
export function accountCommands({ pubsub, addresses, admins }: Deps): AdhocCommand[] {
  const refOf = (ctx: CommandContext): NodeRef => {
    const service = addresses.serviceOf(ctx.actor);
    if (!service)
      throw new StanzaError(
        "forbidden",
        "only users of this service's domains have a microblog here",
      );
    return { service, node: MICROBLOG_NODE };
  };
  const isLocal = (ctx: CommandContext) => addresses.isLocalUser(ctx.actor);
  /** The JID as typed: the domain normalises it (case of the local part and domain, not the resource). */
  const requireJid = (form: DataForm | undefined): string => {
    const jid = form && getFieldString(form, "jid")?.trim();
    if (!jid) throw new StanzaError("bad-request", "the field jid is required");
    return jid;
  };
  const orNone = (read: () => Subscription[]): Subscription[] => {
    try {
      return read();
    } catch (err) {
      if (err instanceof PubsubError && err.condition === "item-not-found") return [];
      throw err;
    }
  };
  const answer = (name: string, allow: boolean): AdhocCommand => ({
    node: name,
    name: `${allow ? "Approve" : "Deny"} a follow request`,
    audience: "service",
    allowed: isLocal,
    form: () => jidForm(`${allow ? "Approve" : "Deny"} a follow request`, "Who"),
    complete: (ctx, form) => {
      const jid = requireJid(form);
      const { events } = pubsub.approveSubscription(ctx.actor, refOf(ctx), jid, allow);
      return { note: `${jid} ${allow ? "may now follow you" : "was denied"}.`, events };
    },
  });
  const affiliate = (
    name: string,
    affiliation: "outcast" | "none",
    verb: string,
  ): AdhocCommand => ({
    node: name,
    name: `${verb} a JID or a whole domain`,
    audience: "service",
    allowed: isLocal,
    form: () => jidForm(`${verb} a JID or a whole domain`, "JID or domain"),
    complete: (ctx, form) => {
      const entity = requireJid(form);
      // The node is created on first need: an owner may block before posting.
      const changes = [{ entity, affiliation }];
      const { events } = pubsub.setNodeAffiliations(ctx.actor, refOf(ctx), changes, true);
      return {
        note: `${entity} is ${affiliation === "outcast" ? "blocked" : "no longer blocked"}.`,
        events,
      };
    },
  });
  return [
    {
      node: "followers",
      name: "List followers",
      audience: "service",
      allowed: isLocal,
      complete: (ctx) => {
        // A read creates nothing: a user who never posted has no node and no followers.
        const subs = orNone(() => pubsub.getNodeSubscriptions(ctx.actor, refOf(ctx)).result);
        return listResult(
          "Followers",
          subs.filter((s) => s.state === "subscribed"),
        );
      },
    },
    {
      node: "pending",
      name: "List pending follow requests",
      audience: "service",
      allowed: isLocal,
      complete: (ctx) =>
        listResult(
          "Pending requests",
          pubsub.listPending(ctx.actor, refOf(ctx).service, MICROBLOG_NODE).result,
        ),
    },
    answer("approve", true),
    answer("deny", false),
    affiliate("block", "outcast", "Block"),
    affiliate("unblock", "none", "Unblock"),
    {
      node: "stats",
      name: "Service counters (refusals, drops)",
      audience: "service",
      allowed: (ctx) => admins.includes(ctx.actor),
      complete: () => {
        const counters = pubsub.getCounters();
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
    },
  ];
}

/** XEP-0060 §8.7: the owner asks the service to send the approval form for each pending request. */
export function getPendingCommand({ pubsub, addresses }: Omit<Deps, "admins">): AdhocCommand {
  const owned = (ctx: CommandContext) => addresses.ownerOf(ctx.toLocal) === ctx.actor;
  return {
    node: NODE_GET_PENDING,
    name: "Get pending subscription requests",
    audience: "user",
    allowed: owned,
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
    complete: (ctx, form) => {
      const node = form && getFieldString(form, "pubsub#node");
      if (node !== MICROBLOG_NODE)
        throw new StanzaError("item-not-found", `no node ${node ?? "(none)"} here`);
      const pending = pubsub.listPending(ctx.actor, ctx.to, node).result;
      const events: PubsubEvent[] = pending.map((s) => ({
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
