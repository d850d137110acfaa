/**
 * The keys of one upstream and what is known of each: healthy, cooling down until a time, or
 * refused; requests in flight and the most allowed at once (set, or learned from 1302); recent
 * outcomes. Keys are chosen by least in flight. Every state change is one log line, naming a key by
 * its last 4 characters only.
 */

import { ApiError } from "../core/errors.ts";
import { type LogSink, redact } from "../core/log.ts";
import type { UpstreamKeyState, UpstreamKeyStatus } from "../core/upstream_state.ts";
import { secondsUntilReset } from "./errors.ts";
import { RecentCounts } from "./recent_counts.ts";
import type { FailureKind } from "./retry.ts";

/** A spent key without a reset time in Z.ai's message cools down this long. */
const DEFAULT_COOLDOWN_SECONDS = 3600;
/** A refused key is tried again after this long (it may have been a passing refusal). */
const REFUSED_RECHECK_MS = 10 * 60_000;
/** A learned limit goes up by one after this many successes in a row with the key full. */
const SUCCESSES_PER_RAISE = 20;
/** Longest Z.ai text kept as a key's reason. */
const MAX_REASON_CHARS = 300;

/** One key of the pool and its live state. */
export interface PooledKey {
  readonly key: string;
  /** Its place in UPSTREAM_API_KEY, from 1. */
  readonly position: number;
  readonly last4: string;
  status: UpstreamKeyStatus;
  /** While cooling: when it is back; while refused: when it is tried again (ms since the epoch). */
  until: number;
  /** Z.ai's words when it was spent or refused. */
  reason: string | null;
  /** The error clients got when it was spent or refused. */
  lastError: ApiError | null;
  inFlight: number;
  /** Most in flight at once; Infinity while unlimited. */
  limit: number;
  limitSource: UpstreamKeyState["limit_source"];
  /** Successes with the key full since the limit last went up or a 1302 came. */
  successes: number;
  /** When it was last chosen (a sequence number): ties go to the least recently chosen. */
  chosen: number;
  readonly counts: RecentCounts;
}

/** A failed attempt, as the pool records it. */
export interface Failure {
  kind: FailureKind;
  /** Z.ai's code, else `http_NNN`, else `connection`. */
  label: string;
  /** What the client would see for this failure alone. */
  error: ApiError;
  /** Z.ai's code and message, for a key's reason. */
  detail: string;
  /** Z.ai's message alone (a quota's reset time is in it). */
  message: string;
  retryAfterHeader: string | null;
}

/** Options of {@link createKeyPool}. */
export interface KeyPoolOptions {
  /** Most in flight per key; 0 learns it from 1302. */
  concurrency: number;
  now: () => number;
  log: LogSink;
}

/** The key pool of one upstream. */
export interface KeyPool {
  readonly keys: readonly PooledKey[];
  /** Whether any key is healthy (cooled-down keys come back first). */
  anyUsable(): boolean;
  /** A healthy key with a free slot, least in flight first, keys other than `avoid` first. */
  pick(avoid?: PooledKey): PooledKey | undefined;
  /** Whether a healthy key other than `key` has a free slot now. */
  hasFreeOther(key: PooledKey): boolean;
  take(key: PooledKey): void;
  put(key: PooledKey): void;
  recordSuccess(key: PooledKey): void;
  /** Records a failure on `key`; call before its slot is put back (1302 learns from in flight). */
  recordFailure(key: PooledKey, failure: Failure): void;
  /** The error when no key is healthy: 429 until the soonest reset, or 502 when all are refused. */
  unavailableError(): ApiError;
  snapshot(): UpstreamKeyState[];
}

/** Builds the pool of `keys` (at least one). */
export function createKeyPool(keys: readonly string[], options: KeyPoolOptions): KeyPool {
  const { now } = options;
  const fixed = options.concurrency > 0;
  const pooled: PooledKey[] = keys.map((key, index) => ({
    key,
    position: index + 1,
    last4: key.slice(-4),
    status: "healthy",
    until: 0,
    reason: null,
    lastError: null,
    inFlight: 0,
    limit: fixed ? options.concurrency : Infinity,
    limitSource: fixed ? "set" : "unlimited",
    successes: 0,
    chosen: 0,
    counts: new RecentCounts(),
  }));
  let sequence = 0;

  const logChange = (key: PooledKey, fields: Record<string, unknown>) => {
    options.log(redact(JSON.stringify({
      time: new Date().toISOString(),
      event: "upstream_key",
      upstream_key: `…${key.last4}`,
      position: key.position,
      ...fields,
    })));
  };

  /** Brings back keys whose cooldown or refusal has run out. */
  const refresh = () => {
    const time = now();
    for (const key of pooled) {
      if (key.status === "healthy" || time < key.until) continue;
      const was = key.status;
      key.status = "healthy";
      key.until = 0;
      key.reason = null;
      logChange(key, {
        state: "healthy",
        message: was === "cooling" ? "Cooldown over: back in use" : "Trying the refused key again",
      });
    }
  };

  const usable = () => {
    refresh();
    return pooled.filter((key) => key.status === "healthy");
  };

  const cool = (key: PooledKey, failure: Failure) => {
    const header = Number(failure.retryAfterHeader);
    const seconds = secondsUntilReset(failure.message, now()) ??
      (Number.isFinite(header) && header > 0 ? header : DEFAULT_COOLDOWN_SECONDS);
    key.status = "cooling";
    key.until = now() + seconds * 1000;
    logChange(key, {
      state: "cooling",
      until: new Date(key.until).toISOString(),
      reason: key.reason,
      message: "Z.ai says this key is spent: the other keys carry on until it is back",
    });
  };

  const refuse = (key: PooledKey) => {
    key.status = "refused";
    key.until = now() + REFUSED_RECHECK_MS;
    logChange(key, {
      level: "error",
      state: "refused",
      reason: key.reason,
      message:
        `Z.ai refused UPSTREAM_API_KEY key #${key.position} (…${key.last4}): fix or remove it; the other keys carry on`,
    });
  };

  /** After a 1302: at most one fewer than were in flight when it came, at least 1. */
  const learnLimit = (key: PooledKey) => {
    key.successes = 0;
    if (fixed) return;
    const limit = Math.max(1, key.inFlight - 1);
    if (limit >= key.limit) return;
    key.limit = limit;
    key.limitSource = "learned";
    logChange(key, {
      state: key.status,
      limit,
      message:
        `Z.ai refused more concurrency (1302) with ${key.inFlight} in flight: limit ${limit}`,
    });
  };

  return {
    keys: pooled,
    anyUsable: () => usable().length > 0,
    pick(avoid) {
      let best: PooledKey | undefined;
      for (const key of usable()) {
        if (key.inFlight >= key.limit) continue;
        if (!best || better(key, best, avoid)) best = key;
      }
      return best;
    },
    hasFreeOther: (key) => usable().some((other) => other !== key && other.inFlight < other.limit),
    take(key) {
      key.inFlight++;
      key.chosen = ++sequence;
    },
    put(key) {
      key.inFlight--;
    },
    recordSuccess(key) {
      key.counts.add("success", now());
      // Only successes with every slot taken count: a limit that holds nothing back needs no raise.
      if (key.limitSource !== "learned" || key.inFlight < key.limit) return;
      if (++key.successes < SUCCESSES_PER_RAISE) return;
      key.successes = 0;
      key.limit++;
    },
    recordFailure(key, failure) {
      key.counts.add(failure.label, now());
      if (failure.kind === "busy") return learnLimit(key);
      if (failure.kind !== "spent" && failure.kind !== "refused") return;
      key.reason = redact(failure.detail).slice(0, MAX_REASON_CHARS);
      key.lastError = failure.error;
      if (key.status !== "healthy") return; // another request already moved it
      if (failure.kind === "spent") cool(key, failure);
      else refuse(key);
    },
    unavailableError() {
      const cooling = pooled.filter((key) => key.status === "cooling");
      if (!cooling.length) return allRefusedError(pooled);
      const soonest = cooling.reduce((a, b) => (b.until < a.until ? b : a));
      const seconds = Math.max(1, Math.ceil((soonest.until - now()) / 1000));
      const back = new Date(soonest.until).toISOString();
      const what = pooled.length === 1
        ? `The gateway's Z.ai key is out of quota until ${back}`
        : `Every Z.ai key of the gateway is out of quota${
          cooling.length < pooled.length ? " or refused" : ""
        }; the first is back at ${back}`;
      return new ApiError(
        429,
        "quota",
        `${what} (${soonest.reason}): retry after ${seconds} s`,
        { code: soonest.lastError?.code, retryAfter: seconds },
      );
    },
    snapshot() {
      const time = now();
      refresh();
      return pooled.map((key) => {
        const { success = 0, ...codes } = key.counts.totals(time);
        return {
          last4: key.last4,
          position: key.position,
          state: key.status,
          until: key.status === "healthy" ? null : new Date(key.until).toISOString(),
          reason: key.reason,
          in_flight: key.inFlight,
          limit: Number.isFinite(key.limit) ? key.limit : null,
          limit_source: key.limitSource,
          last_hour: { successes: success, codes },
        };
      });
    },
  };
}

/** Whether `a` is a better choice than `b`: not the key to avoid, then least in flight, then least recently chosen. */
function better(a: PooledKey, b: PooledKey, avoid: PooledKey | undefined): boolean {
  if ((a === avoid) !== (b === avoid)) return b === avoid;
  if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight;
  return a.chosen < b.chosen;
}

function allRefusedError(keys: readonly PooledKey[]): ApiError {
  const last = keys.reduce((a, b) => (b.until > a.until ? b : a));
  const which = keys.length === 1 ? "the gateway's own key" : `every key of the gateway`;
  return new ApiError(
    502,
    "upstream",
    `Z.ai refused ${which} (…${last.last4}: ${last.reason}): the operator must check UPSTREAM_API_KEY; your key is fine`,
    { code: last.lastError?.code },
  );
}
