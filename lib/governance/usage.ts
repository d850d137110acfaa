/** Weighted daily usage per user and model in Deno KV: group-committed records and the listing. */

import type { TokenUsage } from "./types.ts";
import { isBusy } from "../core/kv.ts";
import { modelWeight } from "../core/models.ts";

const DAY_MS = 86_400_000;
/** Weighted tokens are stored in thousandths, so fractional weights (0.1x) add up exactly. */
const MILLI = 1000;
const MAX_RECORD_FAILURES = 8;
const MAX_MODEL_KEY_LENGTH = 100;

/** One counter of a usage record. */
export type UsageField = "requests" | "prompt" | "completion" | "weighted";
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

/** KV key of one usage counter (a `Deno.KvU64`; weighted tokens in thousandths). */
export function usageKey(day: string, user: string, model: string, field: UsageField): Deno.KvKey {
  return ["usage", day, user, model, field];
}
/** KV key of a user's weighted tokens of one day, in thousandths: what the budget check reads. */
export function usageTotalKey(day: string, user: string): Deno.KvKey {
  return ["usage_total", day, user];
}

/** Seconds from `ms` to the next UTC midnight (at least 1). */
export function secondsUntilNextUtcDay(ms: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (ms % DAY_MS)) / 1000));
}

/** The last day {@link utcDay} formatted (it runs several times per request). */
let lastDay = { number: NaN, text: "" };

/** The UTC day of a time, as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  const number = Math.floor(ms / DAY_MS);
  if (number !== lastDay.number) {
    lastDay = { number, text: new Date(number * DAY_MS).toISOString().slice(0, 10) };
  }
  return lastDay.text;
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

/** What a usage adds to its user's weighted total, in thousandths (as {@link recordUsage} counts it). */
export function weightedMilliOf(model: string, usage: TokenUsage): bigint {
  return weightedMilli(modelKeyPart(model), usage);
}

/** Usage of one user, model and day gathered while a commit is in flight, and who waits for it. */
interface PendingUsage {
  day: string;
  user: string;
  model: string;
  requests: bigint;
  prompt: bigint;
  completion: bigint;
  weighted: bigint;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

interface UsageQueue {
  pending: Map<string, PendingUsage>;
  running: boolean;
}

/** Per KV handle: usage waiting for the next commit. */
const usageQueues = new WeakMap<Deno.Kv, UsageQueue>();
/** Usage records written by one atomic (each is five sums; KV allows 1000 mutations). */
const RECORDS_PER_COMMIT = 100;
/**
 * How long usage gathers in memory before a commit: fewer, larger commits under load. Every
 * commit costs the process a SQLite transaction (measured: at 32 clients, 100 ms rather than 20
 * ms saves 7 % of the CPU per request, and a quarter at one client). This process counts its own
 * usage at once (see `noteUsage` in admission.ts); other processes see it on their next read,
 * within about a second either way.
 */
export const USAGE_FLUSH_MS = 100;

/**
 * Adds a request's usage to its user's day. Records are summed in memory for
 * {@link USAGE_FLUSH_MS} and written together by one commit (a group commit), so there is at most
 * one usage commit per interval however busy the process is; sums never conflict, and failed
 * commits are retried. Resolves once this request's usage is written.
 */
export function recordUsage(
  kv: Deno.Kv,
  options: { user: string; model: string; usage: TokenUsage; now: number },
): Promise<void> {
  const queue = usageQueues.get(kv) ?? { pending: new Map(), running: false };
  usageQueues.set(kv, queue);
  const day = utcDay(options.now);
  const model = modelKeyPart(options.model);
  const id = `${day}\n${options.user}\n${model}`;
  const entry = queue.pending.get(id) ?? {
    day,
    user: options.user,
    model,
    requests: 0n,
    prompt: 0n,
    completion: 0n,
    weighted: 0n,
    waiters: [],
  };
  queue.pending.set(id, entry);
  entry.requests += 1n;
  entry.prompt += tokenCount(options.usage.promptTokens);
  entry.completion += tokenCount(options.usage.completionTokens);
  entry.weighted += weightedMilli(model, options.usage);
  const written = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
  if (!queue.running) {
    queue.running = true;
    setTimeout(() => void drainUsage(kv, queue), USAGE_FLUSH_MS);
  }
  return written;
}

async function drainUsage(kv: Deno.Kv, queue: UsageQueue): Promise<void> {
  queue.running = true;
  while (queue.pending.size) {
    const records = [...queue.pending.values()];
    queue.pending.clear();
    for (let i = 0; i < records.length; i += RECORDS_PER_COMMIT) {
      const group = records.slice(i, i + RECORDS_PER_COMMIT);
      const waiters = group.flatMap((record) => record.waiters);
      try {
        await commitSums(kv, usageMutations(group));
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      }
    }
    // What came in meanwhile waits out another interval: under load, one commit per interval
    // rather than one right after another.
    if (queue.pending.size) await new Promise((resolve) => setTimeout(resolve, USAGE_FLUSH_MS));
  }
  queue.running = false;
}

function usageMutations(records: PendingUsage[]): Deno.KvMutation[] {
  const sum = (key: Deno.KvKey, value: bigint): Deno.KvMutation => ({
    type: "sum",
    key,
    value: new Deno.KvU64(value),
  });
  const totals = new Map<string, { key: Deno.KvKey; weighted: bigint }>();
  const mutations: Deno.KvMutation[] = [];
  for (const r of records) {
    mutations.push(
      sum(usageKey(r.day, r.user, r.model, "requests"), r.requests),
      sum(usageKey(r.day, r.user, r.model, "prompt"), r.prompt),
      sum(usageKey(r.day, r.user, r.model, "completion"), r.completion),
      sum(usageKey(r.day, r.user, r.model, "weighted"), r.weighted),
    );
    const total = totals.get(`${r.day}\n${r.user}`) ??
      { key: usageTotalKey(r.day, r.user), weighted: 0n };
    total.weighted += r.weighted;
    totals.set(`${r.day}\n${r.user}`, total);
  }
  for (const total of totals.values()) mutations.push(sum(total.key, total.weighted));
  return mutations;
}

async function commitSums(kv: Deno.Kv, mutations: Deno.KvMutation[]): Promise<void> {
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
