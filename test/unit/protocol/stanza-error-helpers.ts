export { ERROR_TYPE_BY_CONDITION, parseStanzaError } from "../../../schemas/src/errors.js";
export { NS_PUBSUB_ERRORS as NS_PUBSUB_ERRORS_FOR_TEST } from "../../../schemas/src/ns.js";
