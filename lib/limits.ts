/** Rate limit (a fixed one-minute window per key) and weighted daily usage per user, in Deno KV. */

import type { Config } from "./config.ts";
import type { TokenUsage } from "./governance.ts";
import type { UserRecord } from "./keys.ts";
import { isBusy, retryAtomic } from "./kv_store.ts";
import { modelWeight } from "./models.ts";

/** Length of a rate-limit window. */
export const WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;
/** Weighted tokens are stored in thousandths, so fractional weights (0.1x) add up exactly. */
const MILLI = 1000;
const MAX_RECORD_FAILURES = 8;
const MAX_MODEL_KEY_LENGTH = 100;

/** One counter of a usage record. */
export type UsageField = "requests" | "prompt" | "completion" | "weighted";

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

/** Requests, tokens and weighted tokens of one user and model on one UTC day. */
export interface UsageRow {
  date: string;
  user: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  weighted_tokens: number;
}

/** KV key of a key's request counter in the window starting at `windowStart`. */
export function rateKey(keyId: string, windowStart: number): Deno.KvKey {
  return ["rate", keyId, windowStart];
}
/** KV key of one usage counter (a `Deno.KvU64`; weighted tokens in thousandths). */
export function usageKey(day: string, user: string, model: string, field: UsageField): Deno.KvKey {
  return ["usage", day, user, model, field];
}
/** KV key of a user's weighted tokens of one day, in thousandths: what the budget check reads. */
export function usageTotalKey(day: string, user: string): Deno.KvKey {
  return ["usage_total", day, user];
}

/** The UTC day of a time, as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Seconds from `ms` to the next UTC midnight (at least 1). */
export function secondsUntilNextUtcDay(ms: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (ms % DAY_MS)) / 1000));
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

function tokenCount(value: number): bigint {
  return Number.isFinite(value) && value > 0 ? BigInt(Math.min(Math.floor(value), 2 ** 53)) : 0n;
}

function modelKeyPart(model: string): string {
  return model.trim().toLowerCase().slice(0, MAX_MODEL_KEY_LENGTH) || "unknown";
}

/** Weighted tokens in thousandths: weight(model) × (prompt + completion) × 1000. */
function weightedMilli(model: string, usage: TokenUsage): bigint {
  const tokens = tokenCount(usage.promptTokens) + tokenCount(usage.completionTokens);
  return BigInt(Math.round(modelWeight(model) * MILLI)) * tokens;
}

/** Adds a request's usage to its user's day: sums never conflict; failed commits are retried. */
export async function recordUsage(
  kv: Deno.Kv,
  options: { user: string; model: string; usage: TokenUsage; now: number },
): Promise<void> {
  const day = utcDay(options.now);
  const model = modelKeyPart(options.model);
  const weighted = weightedMilli(model, options.usage);
  const add = (field: UsageField, value: bigint) => ({
    type: "sum" as const,
    key: usageKey(day, options.user, model, field),
    value: new Deno.KvU64(value),
  });
  const mutations: Deno.KvMutation[] = [
    add("requests", 1n),
    add("prompt", tokenCount(options.usage.promptTokens)),
    add("completion", tokenCount(options.usage.completionTokens)),
    add("weighted", weighted),
    { type: "sum", key: usageTotalKey(day, options.user), value: new Deno.KvU64(weighted) },
  ];
  for (let failures = 0;;) {
    try {
      await kv.atomic().mutate(...mutations).commit();
      return;
    } catch (error) {
      if (error instanceof Deno.errors.BadResource) throw error; // KV closed: retrying is futile.
      if (!isBusy(error) && ++failures >= MAX_RECORD_FAILURES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** failures * Math.random()));
    }
  }
}

/** Weighted tokens of a usage-total entry (stored in thousandths). */
export function weightedOf(entry: Deno.KvEntryMaybe<Deno.KvU64>): number {
  return entry.value ? Number(entry.value.value) / MILLI : 0;
}

/** Usage rows of the last `days` UTC days up to `now`, for one user or all, by day, user, model. */
export async function listUsage(
  kv: Deno.Kv,
  options: { user?: string; days: number; now: number },
): Promise<UsageRow[]> {
  const days = Array.from(
    { length: options.days },
    (_, i) => utcDay(options.now - (options.days - 1 - i) * DAY_MS),
  );
  const selectors: Deno.KvListSelector[] = options.user === undefined
    ? [{ start: ["usage", days[0]], end: ["usage", utcDay(options.now + DAY_MS)] }]
    : days.map((day) => ({ prefix: ["usage", day, options.user!] }));
  const lists = await Promise.all(selectors.map((selector) => Array.fromAsync(kv.list(selector))));
  const rows = new Map<string, UsageRow>();
  for (const entry of lists.flat() as Deno.KvEntry<Deno.KvU64>[]) {
    const [, date, user, model, field] = entry.key as string[];
    const id = `${date}\n${user}\n${model}`;
    const row = rows.get(id) ?? newRow(date, user, model);
    rows.set(id, row);
    setField(row, field as UsageField, Number(entry.value.value));
  }
  return [...rows.values()];
}

function newRow(date: string, user: string, model: string): UsageRow {
  return {
    date,
    user,
    model,
    requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    weighted_tokens: 0,
  };
}

function setField(row: UsageRow, field: UsageField, value: number): void {
  if (field === "requests") row.requests = value;
  else if (field === "prompt") row.prompt_tokens = value;
  else if (field === "completion") row.completion_tokens = value;
  else row.weighted_tokens = value / MILLI;
}
