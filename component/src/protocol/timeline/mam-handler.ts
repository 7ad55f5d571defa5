/**
 * XEP-0313 at u@C: the owner reads their home timeline. Each post is a result message with the
 * post as it was notified (a headline from its service with the pubsub event and a readable
 * body), sent before the IQ result that carries <fin/> with the RSM set.
 */
import { entryText } from "../../../../schemas/src/atom.js";
import {
  buildMamFieldsForm,
  buildMamFin,
  buildMamResult,
  parseMamQuery,
} from "../../../../schemas/src/mam.js";
import { NS_MAM } from "../../../../schemas/src/ns.js";
import { buildEvent } from "../../../../schemas/src/pubsub-event.js";
import { type Element, parseXml, xml } from "../../../../schemas/src/xml.js";
import type { TimelineEntry, TimelineQuery, TimelineService } from "../../domain/index.js";
import { jidProblem } from "../../domain/jid.js";
import type { Addresses } from "../addresses.js";
import type { DiscoContributor } from "../discovery.js";
import type { IqAnswer, IqRequest, StanzaRouter } from "../router.js";
import { StanzaError } from "../stanza-error.js";

/** The archived post as the message it was (XEP-0297 forwarded inside the result). */
function archivedMessage(entry: TimelineEntry, to: string): Element {
  let payload: Element | undefined;
  try {
    payload = parseXml(entry.payload);
  } catch {
    payload = undefined;
  }
  const item = payload ? { id: entry.itemId, payload } : { id: entry.itemId };
  let text = "";
  try {
    text = payload ? entryText(payload) : "";
  } catch {
    text = "";
  }
  return xml(
    "message",
    { xmlns: "jabber:client", type: "headline", from: entry.service, to },
    buildEvent({ kind: "items", node: entry.node, items: [item], retracts: [] }),
    xml("body", null, `${entry.author}: ${text}`),
  );
}

function toQuery(child: Element): { queryid?: string; query: TimelineQuery } {
  const q = parseMamQuery(child);
  if (q.with !== undefined && jidProblem(q.with)) {
    throw new StanzaError("jid-malformed", `"with" is not a JID: ${q.with}`);
  }
  const query: TimelineQuery = {};
  if (q.start !== undefined) query.start = q.start;
  if (q.end !== undefined) query.end = q.end;
  if (q.with !== undefined) query.with = q.with;
  if (q.rsm.max !== undefined) query.max = q.rsm.max;
  if (q.rsm.after !== undefined) query.after = q.rsm.after;
  if (q.rsm.before !== undefined) query.before = q.rsm.before;
  return q.queryid === undefined ? { query } : { queryid: q.queryid, query };
}

async function queryArchive(
  timeline: TimelineService,
  addresses: Addresses,
  req: IqRequest,
): Promise<IqAnswer> {
  const user = addresses.ownerOf(req.toLocal);
  if (!user) throw new StanzaError("item-not-found", `${req.to} is not a microblog address here`);
  const { queryid, query } = toQuery(req.child);
  const { result: page } = await timeline.queryTimeline(req.from, user, query);
  const service = req.to.split("/")[0] ?? req.to;
  const before = page.entries.map((entry) =>
    buildMamResult({
      to: req.from,
      from: service,
      ...(queryid === undefined ? {} : { queryid }),
      id: String(entry.seq),
      stamp: entry.receivedAt,
      forwarded: archivedMessage(entry, service),
    }),
  );
  const first = page.entries[0];
  const last = page.entries[page.entries.length - 1];
  const rsm = {
    count: page.count,
    ...(first ? { first: String(first.seq), firstIndex: page.firstIndex ?? 0 } : {}),
    ...(last ? { last: String(last.seq) } : {}),
  };
  return { payload: buildMamFin({ complete: page.complete, rsm }), before };
}

export function registerMam(
  router: StanzaRouter,
  deps: { timeline: TimelineService; addresses: Addresses },
): DiscoContributor {
  router.on("get", NS_MAM, "query", "user", () => buildMamFieldsForm());
  router.on("set", NS_MAM, "query", "user", (req) =>
    queryArchive(deps.timeline, deps.addresses, req),
  );
  return { userFeatures: [NS_MAM] };
}
