/**
 * When to send a bounced notification again: SMTP's store-and-forward schedule, compressed
 * for chat. The first retry comes within seconds (a server restart, a component reconnecting),
 * then the delay grows ×4 up to a ceiling, with ±20% jitter so that many queued domains do not
 * all wake together; after the deadline the notification is given up.
 */
export interface RetryPolicy {
  /** Delay before the first retry, ms. */
  firstDelayMs: number;
  /** The longest delay between two attempts, ms. */
  maxDelayMs: number;
  /** How long after the first failure to keep trying, ms (default 3 days). */
  deadlineMs: number;
  /**
   * How long to keep trying when only the recipient was unavailable (its server answered):
   * an account that is gone answers service-unavailable for ever. Default 1 day; after it, the
   * error counts as permanent (the subscription ends).
   */
  recipientDeadlineMs: number;
  /** Entries one group (a domain, a recipient) may have waiting; more are given up. */
  maxPerGroup: number;
}

/** Whether a schedule group is one recipient (a bare JID) rather than a whole domain. */
export const isRecipientGroup = (group: string) => group.includes("@");

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  firstDelayMs: 5_000,
  maxDelayMs: 2 * 3600_000,
  deadlineMs: 3 * 86_400_000,
  recipientDeadlineMs: 86_400_000,
  maxPerGroup: 10_000,
};

const GROWTH = 4;
const JITTER = 0.2;

/**
 * The delay after the `attempts`-th failure (1 = the first bounce). `random` in [0, 1) gives the
 * jitter (0.5 = none): the delay is within ±20% of firstDelay × 4^(attempts−1), capped.
 */
export function retryDelayMs(
  attempts: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  // NaN (Math.max would pass it on, and nextAttemptAt would never come) counts as the first.
  const n = Number.isNaN(attempts) ? 1 : Math.max(1, Math.floor(attempts));
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * GROWTH ** Math.min(n - 1, 30));
  const jitter = 1 + JITTER * (2 * random() - 1);
  return Math.max(1, Math.round(Math.min(policy.maxDelayMs, base * jitter)));
}

/**
 * Error conditions that say "not now" rather than "never", whatever their type: the s2s
 * failures (the remote server is down or unreachable), a recipient or component that is not
 * there at the moment. Every other condition is permanent.
 */
export const TEMPORARY_DELIVERY_CONDITIONS: ReadonlySet<string> = new Set([
  "remote-server-not-found",
  "remote-server-timeout",
  "recipient-unavailable",
  "service-unavailable",
  "resource-constraint",
  "internal-server-error",
]);

export function isTemporaryDeliveryError(condition: string): boolean {
  return TEMPORARY_DELIVERY_CONDITIONS.has(condition);
}

/** Conditions that say the recipient's server could not be reached: the whole domain waits. */
export const SERVER_UNREACHABLE_CONDITIONS: ReadonlySet<string> = new Set([
  "remote-server-not-found",
  "remote-server-timeout",
]);
