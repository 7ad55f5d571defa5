/** XEP-0060 codecs in one import: requests, results, events, §8.6 authorization, shared types. */
export * from "./pubsub-event.js";
export * from "./pubsub-request.js";
export * from "./pubsub-request-build.js";
export * from "./pubsub-result.js";
export * from "./pubsub-types.js";
export * from "./subscribe-authorization.js";
export * from "./subscribe-options.js";
