/** Rate limit: a fixed one-minute window per key in Deno KV, exact across processes. */

import type { Config } from "./config.ts";
import type { UserRecord } from "./keys.ts";
import { retryAtomic } from "./kv_store.ts";

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

/** Options of {@link takeRequestSlot}. */
export interface SlotOptions {
  keyId: string;
  limit: number;
  now: number;
  /** The window's counter if already read (saves a round trip). */
  first?: Deno.KvEntryMaybe<number>;
  /** One more entry to write in the same atomic (the key's last-use time). */
  touch?: { key: Deno.KvKey; value: unknown };
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

interface SlotWaiter {
  now: number;
  resolve: (decision: RateDecision) => void;
  reject: (error: unknown) => void;
}

/** Slot requests of one key, window and limit waiting in this process for the next commit. */
interface SlotBatch {
  waiters: SlotWaiter[];
  running: boolean;
}

/** Per KV handle: the pending slot batches by key, window and limit. */
const slotBatches = new WeakMap<Deno.Kv, Map<string, SlotBatch>>();

/**
 * Counts one request in its key's window unless the window is full. Requests of one key that
 * arrive while a commit is in flight are granted together by the next one (a group commit): one
 * atomic check-and-set per batch, so concurrency on one key costs no retries, and exactness holds
 * across processes through the versionstamp check.
 */
export function takeRequestSlot(kv: Deno.Kv, options: SlotOptions): Promise<RateDecision> {
  const key = rateKey(options.keyId, windowStart(options.now));
  const id = `${options.keyId}\n${windowStart(options.now)}\n${options.limit}`;
  const batches = slotBatches.get(kv) ?? new Map<string, SlotBatch>();
  slotBatches.set(kv, batches);
  let batch = batches.get(id);
  const startsBatch = !batch;
  if (!batch) {
    batch = { waiters: [], running: false };
    batches.set(id, batch);
  }
  const promise = new Promise<RateDecision>((resolve, reject) => {
    batch.waiters.push({ now: options.now, resolve, reject });
  });
  if (!batch.running) {
    void drainSlots(kv, key, batch, { ...options, first: startsBatch ? options.first : undefined })
      .finally(() => {
        if (batches.get(id) === batch && batch.waiters.length === 0) batches.delete(id);
      });
  }
  return promise;
}

async function drainSlots(
  kv: Deno.Kv,
  key: Deno.KvKey,
  batch: SlotBatch,
  options: SlotOptions,
): Promise<void> {
  batch.running = true;
  let first = options.first;
  while (batch.waiters.length) {
    const waiters = batch.waiters.splice(0);
    try {
      const decisions = await retryAtomic(async () => {
        const entry = first ?? await kv.get<number>(key);
        first = undefined;
        return grantSlots(kv, key, entry, waiters, options);
      });
      waiters.forEach((waiter, i) => waiter.resolve(decisions[i]));
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    }
  }
  batch.running = false;
}

/** One check-and-set granting the first waiters what the window has left; null on conflict. */
async function grantSlots(
  kv: Deno.Kv,
  key: Deno.KvKey,
  entry: Deno.KvEntryMaybe<number>,
  waiters: SlotWaiter[],
  options: SlotOptions,
): Promise<RateDecision[] | null> {
  const { limit } = options;
  const count = entry.value ?? 0;
  const granted = Math.max(0, Math.min(waiters.length, limit - count));
  if (granted > 0) {
    const op = kv.atomic().check(entry).set(key, count + granted, { expireIn: 2 * WINDOW_MS });
    if (options.touch) op.set(options.touch.key, options.touch.value);
    if (!(await op.commit()).ok) return null;
  }
  return waiters.map((waiter, i) =>
    i < granted
      ? { ...rateState(limit, count + i + 1, waiter.now), admitted: true }
      : rateState(limit, count + granted, waiter.now)
  );
}
