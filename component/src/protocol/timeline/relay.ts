/**
 * The relay: each new post of u's home timeline goes to u@D as a chat message from u@C
 * (INTERFACE "Following"): servers keep chat messages for offline users, archive them and copy
 * them to every device. The body is the post's chat line ("a@E: text [id]", post-lines.ts); a
 * <relayed/> element names the post (service, node, item), and the message id is the timeline
 * entry's, so a repeat can be told. Messages go out in the order of the timeline.
 */
import type { Logger } from "pino";
import { NS_WARBLE } from "../../../../schemas/src/microblog-disco.js";
import { type Element, xml } from "../../../../schemas/src/xml.js";
import type { TimelineEntry } from "../../domain/index.js";
import type { Addresses } from "../addresses.js";
import type { BusEvent } from "../event-bus.js";
import type { PostLines } from "../post-lines.js";

export function relayMessage(
  from: string,
  to: string,
  entry: TimelineEntry,
  line: string,
): Element {
  return xml(
    "message",
    { type: "chat", from, to, id: `warble-relay-${entry.seq}` },
    xml("body", null, line),
    xml("relayed", {
      xmlns: NS_WARBLE,
      service: entry.service,
      node: entry.node,
      item: entry.itemId,
    }),
  );
}

export class Relay {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly addresses: Addresses,
    private readonly send: (el: Element) => void,
    private readonly lines: PostLines,
    private readonly log: Logger,
  ) {}

  onEvents(events: readonly BusEvent[]): void {
    for (const event of events) {
      if (event.type !== "timeline-posts" || !event.relay) continue;
      const from = this.addresses.serviceOf(event.user);
      if (!from) continue;
      const { user, entries } = event;
      this.queue = this.queue
        .then(() => this.relay(from, user, entries))
        .catch((err: unknown) => this.log.error({ err }, "relay failed"));
    }
  }

  /** Resolves when every relay queued so far has been sent. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async relay(from: string, user: string, entries: readonly TimelineEntry[]) {
    for (const entry of entries) {
      const line = await this.lines.line(entry, user);
      this.send(relayMessage(from, user, entry, line));
    }
  }
}
