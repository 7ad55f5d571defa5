/** The public face of the pubsub core, for the protocol layer and the wiring. */
export * from "./capabilities.js";
export * from "./errors.js";
export * from "./events.js";
export { createItemIdGenerator, type ItemIdGenerator } from "./item-id.js";
export type {
  GetItemsRequest,
  NodeDiscovery,
  PublishRequest,
  PublishResult,
  RetractRequest,
} from "./item-use-cases.js";
export * from "./jid.js";
export * from "./node-config.js";
export { bouncedBy } from "./outbox-use-cases.js";
export type { AffiliationChange, SubscriptionChange } from "./owner-use-cases.js";
export type * from "./ports.js";
export { PubsubService, type PubsubServiceOptions } from "./pubsub-service.js";
export * from "./retry-schedule.js";
export * from "./subscription-options.js";
export type {
  SubscribeRequest,
  SubscriptionOptionsRequest,
  SubscriptionWithOptions,
  UnsubscribeRequest,
} from "./subscription-use-cases.js";
export type { TimelinePage, TimelineQuery } from "./timeline-query.js";
export { TimelineService } from "./timeline-service.js";
export * from "./timeline-types.js";
export {
  DEFAULT_TIMELINE_LIMITS,
  type IncomingPost,
  type PostSource,
  type TimelineLimits,
} from "./timeline-use-cases.js";
export * from "./types.js";
