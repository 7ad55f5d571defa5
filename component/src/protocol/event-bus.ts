/**
 * The one way events leave: a handler returns its reply and the events of the use cases it
 * ran; the router sends the reply; then the bus hands the events to every face that subscribed
 * (the notifier, the presence face, later the timeline). So "the reply before its
 * notifications" is the order of two lines in one place (App.onStanza), not a timer.
 */
import type { Logger } from "pino";
import type { NodeDeleted, PubsubEvent } from "../domain/events.js";

/** A domain event as it travels on the bus; a node deletion may name where the node went (§8.4.1). */
export type BusEvent = PubsubEvent | (NodeDeleted & { redirect?: string });

export type BusListener = (events: readonly BusEvent[]) => void;

export class EventBus {
  private readonly listeners: BusListener[] = [];

  constructor(private readonly log: Logger) {}

  subscribe(listener: BusListener): this {
    this.listeners.push(listener);
    return this;
  }

  /** Hand `events` (of committed use cases) to every listener, in the order they subscribed. */
  publish(events: readonly BusEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.log.error({ err }, "an event listener failed");
      }
    }
  }
}
