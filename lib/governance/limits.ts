/** Rate limit: a fixed one-minute window per key, counted in Deno KV by lib/admission.ts. */

import type { Config } from "../core/config.ts";
import type { UserRecord } from "./keys.ts";

/** Length of a rate-limit window. */
export const WINDOW_MS = 60_000;

/** Whether a request got a slot in its key's window, and what the rate-limit headers say. */
export interface RateDecision {
  admitted: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (at least 1). */
  resetSeconds: number;
}

/** KV key of a key's request counter in the window starting at `windowStart`. */
export function rateKey(keyId: string, windowStart: number): Deno.KvKey {
  return ["rate", keyId, windowStart];
}

/** Start of the rate-limit window that contains `ms`. */
export function windowStart(ms: number): number {
  return ms - (ms % WINDOW_MS);
}

/** The `x-ratelimit-*-requests` headers of a decision. */
export function rateHeaders(decision: RateDecision): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(decision.limit),
    "x-ratelimit-remaining-requests": String(decision.remaining),
    "x-ratelimit-reset-requests": `${decision.resetSeconds}s`,
  };
}

/** The rate-limit state of a key whose window holds `count` requests at `now`. */
export function rateState(limit: number, count: number, now: number): RateDecision {
  const resetSeconds = Math.max(1, Math.ceil((windowStart(now) + WINDOW_MS - now) / 1000));
  return { admitted: count < limit, limit, remaining: Math.max(0, limit - count), resetSeconds };
}

/** The limits that apply to a user: its overrides, else the server's. */
export function effectiveLimits(
  config: Pick<Config, "rateLimitRpm" | "dailyTokenBudget">,
  user: Pick<UserRecord, "rateLimitRpm" | "dailyTokenBudget"> | null,
): { rateLimitRpm: number; dailyTokenBudget: number } {
  return {
    rateLimitRpm: user?.rateLimitRpm ?? config.rateLimitRpm,
    dailyTokenBudget: user?.dailyTokenBudget ?? config.dailyTokenBudget,
  };
}
