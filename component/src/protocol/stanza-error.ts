import type { Logger } from "pino";
import {
  buildStanzaError,
  ERROR_TYPE_BY_CONDITION,
  type StanzaErrorSpec,
} from "../../../schemas/src/errors.js";
import type { Element } from "../../../schemas/src/xml.js";

export type { StanzaErrorSpec };

/** An error to answer a stanza with, thrown by protocol handlers. */
export class StanzaError extends Error {
  override name = "StanzaError";
  constructor(
    readonly condition: StanzaErrorSpec["condition"],
    readonly text?: string,
    readonly pubsubCondition?: StanzaErrorSpec["pubsubCondition"],
    readonly feature?: string,
    readonly appCondition?: StanzaErrorSpec["appCondition"],
    /** The error type, when the XEP's example differs from the condition's usual type. */
    readonly type?: StanzaErrorSpec["type"],
  ) {
    super(text ?? condition);
  }

  spec(): StanzaErrorSpec {
    const { condition, text, pubsubCondition, feature, appCondition, type } = this;
    return { condition, text, pubsubCondition, feature, appCondition, ...(type ? { type } : {}) };
  }
}

/** Anything thrown that names a stanza error condition: StanzaError, the domain's PubsubError, WireError. */
function asSpec(err: unknown): StanzaErrorSpec | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as Partial<StanzaErrorSpec> & { spec?: () => StanzaErrorSpec; message?: string };
  if (typeof e.spec === "function") return e.spec();
  if (typeof e.condition !== "string" || !(e.condition in ERROR_TYPE_BY_CONDITION))
    return undefined;
  return {
    condition: e.condition,
    pubsubCondition: e.pubsubCondition,
    feature: e.feature,
    text: e.text,
  };
}

/** Build <error/> for a thrown error; anything unexpected is logged and becomes internal-server-error. */
export function toErrorElement(err: unknown, log?: Logger): Element {
  const spec = asSpec(err);
  if (!spec) {
    log?.error({ err }, "handler failed");
    return buildStanzaError({ condition: "internal-server-error" });
  }
  return buildStanzaError(spec);
}

/** Every policy refusal is logged with its reason (the domain core has already counted it). */
export function logRefusal(log: Logger, err: unknown): void {
  const reason =
    typeof err === "object" && err !== null ? (err as { reason?: string }).reason : undefined;
  if (reason) log.info({ reason, condition: (err as { condition?: string }).condition }, "refused");
}
