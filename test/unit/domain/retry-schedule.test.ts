import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  isTemporaryDeliveryError,
  type RetryPolicy,
  retryDelayMs,
  TEMPORARY_DELIVERY_CONDITIONS,
} from "../../../component/src/domain/retry-schedule.js";

/** No jitter: random() = 0.5 gives the base delay. */
const middle = () => 0.5;
const low = () => 0;
/** The largest value Math.random can return. */
const high = () => 1 - Number.EPSILON;

describe("retryDelayMs", () => {
  it("brings the first retry within seconds", () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_POLICY, middle)).toBe(5_000);
    expect(DEFAULT_RETRY_POLICY.firstDelayMs).toBeLessThanOrEqual(10_000);
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(1);
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(6_000);
    }
  });

  it("grows ×4 per attempt", () => {
    const delays = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, DEFAULT_RETRY_POLICY, middle));
    expect(delays).toEqual([5_000, 20_000, 80_000, 320_000, 1_280_000]);
    for (let i = 1; i < delays.length; i++) {
      expect((delays[i] ?? 0) / (delays[i - 1] ?? 1)).toBe(4);
    }
  });

  it("is capped at maxDelayMs, whatever the jitter and however many attempts", () => {
    const max = DEFAULT_RETRY_POLICY.maxDelayMs;
    expect(retryDelayMs(6, DEFAULT_RETRY_POLICY, middle)).toBe(5_120_000);
    expect(retryDelayMs(7, DEFAULT_RETRY_POLICY, middle)).toBe(max);
    for (const n of [7, 8, 20, 31, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      for (const random of [low, middle, high]) {
        const d = retryDelayMs(n, DEFAULT_RETRY_POLICY, random);
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBeLessThanOrEqual(max);
      }
    }
    // At the cap the jitter only goes down.
    expect(retryDelayMs(10, DEFAULT_RETRY_POLICY, low)).toBe(Math.round(max * 0.8));
  });

  it("jitters within ±20% of the base delay", () => {
    for (const n of [1, 2, 3, 4]) {
      const base = retryDelayMs(n, DEFAULT_RETRY_POLICY, middle);
      expect(retryDelayMs(n, DEFAULT_RETRY_POLICY, low)).toBe(Math.round(base * 0.8));
      expect(retryDelayMs(n, DEFAULT_RETRY_POLICY, () => 0.25)).toBe(Math.round(base * 0.9));
      expect(retryDelayMs(n, DEFAULT_RETRY_POLICY, () => 0.75)).toBe(Math.round(base * 1.1));
      expect(retryDelayMs(n, DEFAULT_RETRY_POLICY, high)).toBe(Math.round(base * 1.2));
      for (let i = 0; i < 20; i++) {
        const d = retryDelayMs(n);
        expect(d).toBeGreaterThanOrEqual(base * 0.8);
        expect(d).toBeLessThanOrEqual(base * 1.2);
      }
    }
  });

  it("returns whole milliseconds", () => {
    for (let i = 0; i < 20; i++) {
      expect(
        Number.isInteger(retryDelayMs(3, { ...DEFAULT_RETRY_POLICY, firstDelayMs: 333 })),
      ).toBe(true);
    }
  });

  it("treats attempts below 1 as the first, and fractional attempts by their whole part", () => {
    const first = retryDelayMs(1, DEFAULT_RETRY_POLICY, middle);
    for (const n of [0, -1, -1000, 0.5, 0.999, Number.NEGATIVE_INFINITY]) {
      expect(retryDelayMs(n, DEFAULT_RETRY_POLICY, middle)).toBe(first);
    }
    expect(retryDelayMs(1.9, DEFAULT_RETRY_POLICY, middle)).toBe(5_000);
    expect(retryDelayMs(2.5, DEFAULT_RETRY_POLICY, middle)).toBe(20_000);
    expect(retryDelayMs(3.999, DEFAULT_RETRY_POLICY, middle)).toBe(80_000);
  });

  it("treats NaN attempts as the first (never a NaN delay)", () => {
    expect(retryDelayMs(Number.NaN, DEFAULT_RETRY_POLICY, middle)).toBe(5_000);
  });

  it("follows a custom policy", () => {
    const policy: RetryPolicy = {
      firstDelayMs: 1_000,
      maxDelayMs: 10_000,
      deadlineMs: 60_000,
      recipientDeadlineMs: 60_000,
      maxPerGroup: 10,
    };
    const delays = [1, 2, 3, 4].map((n) => retryDelayMs(n, policy, middle));
    expect(delays).toEqual([1_000, 4_000, 10_000, 10_000]);
    expect(retryDelayMs(1, policy, low)).toBe(800);
    expect(retryDelayMs(2, policy, high)).toBe(4_800);
    expect(retryDelayMs(3, policy, low)).toBe(8_000);
    // Below the cap the jitter may reach it, never pass it.
    expect(retryDelayMs(2, { ...policy, maxDelayMs: 4_500 }, high)).toBe(4_500);
    expect(retryDelayMs(2, { ...policy, maxDelayMs: 4_500 }, low)).toBe(3_200);
  });

  it("never returns less than 1 ms", () => {
    const policy: RetryPolicy = {
      firstDelayMs: 0,
      maxDelayMs: 0,
      deadlineMs: 1,
      recipientDeadlineMs: 1,
      maxPerGroup: 1,
    };
    expect(retryDelayMs(1, policy, low)).toBe(1);
    expect(retryDelayMs(5, { ...policy, maxDelayMs: 100 }, middle)).toBe(1);
  });

  it("keeps the default deadline at three days", () => {
    expect(DEFAULT_RETRY_POLICY.deadlineMs).toBe(3 * 24 * 3600_000);
    expect(DEFAULT_RETRY_POLICY.maxDelayMs).toBeLessThan(DEFAULT_RETRY_POLICY.deadlineMs);
  });
});

describe("isTemporaryDeliveryError", () => {
  it("says the s2s conditions and an absent recipient or service are temporary", () => {
    for (const c of [
      "remote-server-not-found",
      "remote-server-timeout",
      "recipient-unavailable",
      "service-unavailable",
      "resource-constraint",
      "internal-server-error",
    ]) {
      expect(isTemporaryDeliveryError(c), c).toBe(true);
      expect(TEMPORARY_DELIVERY_CONDITIONS.has(c)).toBe(true);
    }
  });

  it("says every other condition is permanent", () => {
    for (const c of [
      "item-not-found",
      "forbidden",
      "not-authorized",
      "not-allowed",
      "not-acceptable",
      "bad-request",
      "feature-not-implemented",
      "gone",
      "jid-malformed",
      "policy-violation",
      "registration-required",
      "subscription-required",
      "undefined-condition",
      "unexpected-request",
      "redirect",
      "conflict",
      "",
      "remote-server",
    ]) {
      expect(isTemporaryDeliveryError(c), c).toBe(false);
    }
  });
});
