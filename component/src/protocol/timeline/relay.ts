/**
 * The relay: each new post of u's home timeline goes to u@D as a chat message from u@C
 * (INTERFACE "Following"): servers keep chat messages for offline users, archive them and copy
 * them to every device. The body reads "a@E: text"; a <relayed/> element names the post
 * (service, node, item), and the message id is the timeline entry's, so a repeat can be told.
 */
import { entryText } from "../../../../schemas/src/atom.js";
import { NS_WARBLE } from "../../../../schemas/src/microblog-disco.js";
import { type Element, parseXml, xml } from "../../../../schemas/src/xml.js";
import type { TimelineEntry } from "../../domain/index.js";
import type { Addresses } from "../addresses.js";
import type { BusEvent } from "../event-bus.js";

export function relayMessage(from: string, to: string, entry: TimelineEntry): Element {
  let text = "";
  try {
    text = entryText(parseXml(entry.payload));
  } catch {
    text = "(a post that cannot be shown)";
  }
  return xml(
    "message",
    { type: "chat", from, to, id: `warble-relay-${entry.seq}` },
    xml("body", null, `${entry.author}: ${text}`),
    xml("relayed", {
      xmlns: NS_WARBLE,
      service: entry.service,
      node: entry.node,
      item: entry.itemId,
    }),
  );
}

export class Relay {
  constructor(
    private readonly addresses: Addresses,
    private readonly send: (el: Element) => void,
  ) {}

  onEvents(events: readonly BusEvent[]): void {
    for (const event of events) {
      if (event.type !== "timeline-posts" || !event.relay) continue;
      const from = this.addresses.serviceOf(event.user);
      if (!from) continue;
      for (const entry of event.entries) this.send(relayMessage(from, event.user, entry));
    }
  }
}
