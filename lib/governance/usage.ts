/**
 * Weighted daily usage per user, model and service in Deno KV: recording, the listing, and this
 * process's ledger. The budget reads one total per user and day, across services.
 */

import type { Usage } from "../core/glm.ts";
import { isBusy } from "../core/kv.ts";
import { modelWeight } from "../core/models.ts";

const DAY_MS = 86_400_000;
/** Weighted tokens are stored in thousandths, so fractional weights (0.1x) add up exactly. */
const MILLI = 1000;
const MAX_RECORD_FAILURES = 8;
const MAX_MODEL_KEY_LENGTH = 100;

/** One counter of a usage record. */
export type UsageField = "requests" | "prompt" | "completion" | "weighted";
/** What usage rows can be grouped by, besides day and user. */
export type UsageDimension = "model" | "service";
/** Requests, tokens and weighted tokens of one user on one UTC day, per model and/or service. */
export interface UsageRow {
  date: string;
  user: string;
  /** When grouped by model. */
  model?: string;
  /** When grouped by service: its slug, or null for usage recorded before services existed. */
  service?: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  weighted_tokens: number;
}

/**
 * KV key of one usage counter (a `Deno.KvU64`; weighted tokens in thousandths). Without a service
 * (usage recorded before services existed, or by a caller that names none), the key has no
 * service part.
 */
export function usageKey(
  day: string,
  user: string,
  model: string,
  field: UsageField,
  service?: string,
): Deno.KvKey {
  return service === undefined
    ? ["usage", day, user, model, field]
    : ["usage", day, user, model, service, field];
}
/** KV key of a user's weighted tokens of one day, in thousandths: what the budget check reads. */
export function usageTotalKey(day: string, user: string): Deno.KvKey {
  return ["usage_total", day, user];
}

/** Seconds from `ms` to the next UTC midnight (at least 1). */
export function secondsUntilNextUtcDay(ms: number): number {
  return Math.max(1, Math.ceil((DAY_MS - (ms % DAY_MS)) / 1000));
}

/** The last day {@link utcDay} formatted: every request asks for it several times. */
let lastDay = { start: NaN, text: "" };

/** The UTC day of a time, as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  const start = ms - (ms % DAY_MS);
  if (start !== lastDay.start) {
    lastDay = { start, text: new Date(start).toISOString().slice(0, 10) };
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
function weightedMilli(model: string, usage: Usage): bigint {
  const tokens = tokenCount(usage.promptTokens) + tokenCount(usage.completionTokens);
  return BigInt(Math.round(modelWeight(model) * MILLI)) * tokens;
}

/** Usage of one user, model, service and day waiting for the next commit. */
interface PendingUsage {
  day: string;
  user: string;
  model: string;
  service?: string;
  requests: bigint;
  prompt: bigint;
  completion: bigint;
  weighted: bigint;
}

/**
 * Weighted tokens of one user and day that one batch of the recorder holds, and the commit that
 * wrote them.
 */
interface LedgerEntry {
  milli: bigint;
  /** The versionstamp of the commit that wrote it; null until then. */
  versionstamp: string | null;
}

/**
 * Usage this process recorded that a KV read may not show yet, per user, for the latest day. A read
 * of a user's total includes exactly the commits up to its versionstamp, so what it lacks is what
 * is not committed yet or was committed after it.
 */
export class UsageLedger {
  #day = "";
  /** User → the entries of `#day`, one per recorder batch. */
  #entries = new Map<string, LedgerEntry[]>();

  /** A new entry of `user` on `day`, at zero; a new day forgets the ones before. */
  open(day: string, user: string): LedgerEntry {
    if (day > this.#day) {
      this.#day = day;
      this.#entries.clear();
    }
    const entry: LedgerEntry = { milli: 0n, versionstamp: null };
    if (day !== this.#day) return entry; // a late record of a day gone by: no read asks for it
    const entries = this.#entries.get(user);
    if (entries) entries.push(entry);
    else this.#entries.set(user, [entry]);
    return entry;
  }

  /** Whether this process wrote usage of `user` on `day` after a read at `readVersionstamp`. */
  writtenSince(day: string, user: string, readVersionstamp: string | null): boolean {
    return !!this.#entriesOf(day, user)?.some((e) =>
      e.versionstamp !== null && !seenBy(e, readVersionstamp)
    );
  }

  /**
   * Weighted tokens of `user` on `day` that a read at `readVersionstamp` (null: no total yet)
   * does not include. Entries the read includes are forgotten.
   */
  unseen(day: string, user: string, readVersionstamp: string | null): number {
    const entries = this.#entriesOf(day, user);
    if (!entries) return 0;
    const left = entries.filter((e) => !seenBy(e, readVersionstamp));
    if (left.length) this.#entries.set(user, left);
    else this.#entries.delete(user);
    return Number(left.reduce((sum, e) => sum + e.milli, 0n)) / MILLI;
  }

  #entriesOf(day: string, user: string): LedgerEntry[] | undefined {
    return day === this.#day ? this.#entries.get(user) : undefined;
  }
}

/** Whether a read at `readVersionstamp` (null: no total yet) includes the entry's commit. */
function seenBy(entry: LedgerEntry, readVersionstamp: string | null): boolean {
  return entry.versionstamp !== null && readVersionstamp !== null &&
    entry.versionstamp <= readVersionstamp;
}

/** Usage records written by one atomic (each is five sums; KV allows 1000 mutations). */
const RECORDS_PER_COMMIT = 100;

/**
 * How long usage gathers before it is written, unless a read asks for it sooner (`flush`). It
 * counts in this process at once through the ledger, so the delay only bounds when other processes
 * see it. Measured: writing each record at once (one commit per commit latency under load) cost
 * +48 % CPU per request at 32 clients and +1 ms at p50 at one client (docs/performance.md).
 */
export const USAGE_FLUSH_MS = 100;

/**
 * Writes usage to KV: what gathered during {@link USAGE_FLUSH_MS} (or until `flush`) goes out in one
 * commit of sums. Each record is also noted in the ledger at once, so this process's admissions
 * count it before it is written.
 */
export class UsageRecorder {
  #kv: Deno.Kv;
  #ledger: UsageLedger;
  #pending = new Map<string, PendingUsage>();
  /** The ledger entries of the batch gathering, one per user and day. */
  #entries = new Map<string, LedgerEntry>();
  #written = Promise.withResolvers<void>();
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The batch being written, or a settled promise. */
  #inFlight: Promise<void> = Promise.resolve();
  /** A flush came while a batch was being written: the next batch follows at once. */
  #flushAgain = false;

  constructor(kv: Deno.Kv, ledger: UsageLedger) {
    this.#kv = kv;
    this.#ledger = ledger;
    this.#written.promise.catch(() => {});
  }

  /** Adds a request's usage to its user's day; resolves once it is written, rejects if it cannot be. */
  record(
    options: { user: string; model: string; service?: string; usage: Usage; now: number },
  ): Promise<void> {
    const day = utcDay(options.now);
    const model = modelKeyPart(options.model);
    const { service } = options;
    const id = `${day}\n${options.user}\n${model}\n${service ?? ""}`;
    const entry = this.#pending.get(id) ?? {
      day,
      user: options.user,
      model,
      service,
      requests: 0n,
      prompt: 0n,
      completion: 0n,
      weighted: 0n,
    };
    this.#pending.set(id, entry);
    const milli = weightedMilli(model, options.usage);
    entry.requests += 1n;
    entry.prompt += tokenCount(options.usage.promptTokens);
    entry.completion += tokenCount(options.usage.completionTokens);
    entry.weighted += milli;
    const userDay = `${day}\n${options.user}`;
    let ledgerEntry = this.#entries.get(userDay);
    if (!ledgerEntry) {
      ledgerEntry = this.#ledger.open(day, options.user);
      this.#entries.set(userDay, ledgerEntry);
    }
    ledgerEntry.milli += milli;
    const written = this.#written.promise;
    this.#timer ??= setTimeout(() => this.flush(), USAGE_FLUSH_MS);
    return written;
  }

  /** Writes what has gathered now; resolves once it is written (rejects if it cannot be). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return this.#inFlight;
    const written = this.#written.promise;
    if (this.#running) this.#flushAgain = true;
    else void this.#drain();
    return written;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    this.#flushAgain = true;
    while (this.#pending.size && this.#flushAgain) {
      this.#flushAgain = false;
      const records = [...this.#pending.values()];
      const entries = this.#entries;
      const written = this.#written;
      this.#inFlight = written.promise;
      this.#pending = new Map();
      this.#entries = new Map();
      this.#written = Promise.withResolvers<void>();
      this.#written.promise.catch(() => {});
      try {
        for (let i = 0; i < records.length; i += RECORDS_PER_COMMIT) {
          const versionstamp = await commitSums(
            this.#kv,
            usageMutations(records.slice(i, i + RECORDS_PER_COMMIT)),
          );
          // Every record of the batch is stamped with the last commit: a read at or after it
          // shows them all (and a read between two commits merely counts some twice, briefly).
          if (i + RECORDS_PER_COMMIT >= records.length) {
            for (const entry of entries.values()) entry.versionstamp = versionstamp;
          }
        }
        written.resolve();
      } catch (error) {
        written.reject(error);
      }
    }
    this.#running = false;
    // What gathered during the commit waits its turn, unless a flush asked for it.
    if (this.#pending.size) this.#timer ??= setTimeout(() => this.flush(), USAGE_FLUSH_MS);
  }
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
      sum(usageKey(r.day, r.user, r.model, "requests", r.service), r.requests),
      sum(usageKey(r.day, r.user, r.model, "prompt", r.service), r.prompt),
      sum(usageKey(r.day, r.user, r.model, "completion", r.service), r.completion),
      sum(usageKey(r.day, r.user, r.model, "weighted", r.service), r.weighted),
    );
    const total = totals.get(`${r.day}\n${r.user}`) ??
      { key: usageTotalKey(r.day, r.user), weighted: 0n };
    total.weighted += r.weighted;
    totals.set(`${r.day}\n${r.user}`, total);
  }
  for (const total of totals.values()) mutations.push(sum(total.key, total.weighted));
  return mutations;
}

async function commitSums(kv: Deno.Kv, mutations: Deno.KvMutation[]): Promise<string> {
  for (let failures = 0;;) {
    try {
      const result = await kv.atomic().mutate(...mutations).commit();
      return (result as Deno.KvCommitResult).versionstamp;
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

/**
 * Usage rows of the last `days` UTC days up to `now`, for one user or all, by day, user and
 * `groupBy` (default: model; counters of the other dimension are summed).
 */
export async function listUsage(
  kv: Deno.Kv,
  options: { user?: string; days: number; now: number; groupBy?: readonly UsageDimension[] },
): Promise<UsageRow[]> {
  const groupBy = options.groupBy ?? ["model"];
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
    // ["usage", day, user, model, field], or with the service before the field.
    const key = entry.key as string[];
    const [, date, user, model] = key;
    const group: Pick<UsageRow, "model" | "service"> = {};
    if (groupBy.includes("model")) group.model = model;
    if (groupBy.includes("service")) group.service = key.length === 6 ? key[4] : null;
    const id = JSON.stringify([date, user, group.model, group.service]);
    const row = rows.get(id) ?? { date, user, ...group, ...ZERO };
    rows.set(id, row);
    addField(row, key[key.length - 1] as UsageField, Number(entry.value.value));
  }
  // Weighted tokens were summed in thousandths, so that fractional weights add up exactly.
  for (const row of rows.values()) row.weighted_tokens /= MILLI;
  return [...rows.values()];
}

const ZERO = { requests: 0, prompt_tokens: 0, completion_tokens: 0, weighted_tokens: 0 };

function addField(row: UsageRow, field: UsageField, value: number): void {
  if (field === "requests") row.requests += value;
  else if (field === "prompt") row.prompt_tokens += value;
  else if (field === "completion") row.completion_tokens += value;
  else row.weighted_tokens += value;
}
