/**
 * Admission on Deno KV, per client key: one read and one check-and-set decide every request of
 * the key waiting in this process (a group commit), and the last decision lets the next request
 * start its upstream call before its own decision is in (an early start).
 */

import type { Config } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";
import type { Admission, Caller } from "./types.ts";
import { isoTime, retryAtomic, storeError } from "../core/kv.ts";
import { keyById, keyLastUsed, type KeyRecord, userKey, type UserRecord } from "./keys.ts";
import {
  effectiveLimits,
  type RateDecision,
  rateHeaders,
  rateKey,
  rateState,
  WINDOW_MS,
  windowStart,
} from "./limits.ts";
import { secondsUntilNextUtcDay, usageTotalKey, utcDay, weightedOf } from "./usage.ts";

/** Key id and user of `DEFAULT_KEY`, which is configured, never stored. */
export const DEFAULT_KEY_ID = "default";

/**
 * How old the usage behind a budget check may be. Usage is written after each answer anyway (and
 * every request admitted before then is checked against the same figure), so a second's delay
 * changes little.
 */
const USAGE_REREAD_MS = 1000;

/** What the last decision of a key found, for judging early starts. */
interface LastDecision {
  windowStart: number;
  /** Requests counted in that window after the decision. */
  count: number;
  limit: number;
  /** Whether the key, its user and the user's budget admitted requests. */
  open: boolean;
  expiresAt: number;
}

interface Waiter {
  resolve: (admission: Admission) => void;
  reject: (error: unknown) => void;
}

/** One client key's admissions in this process. */
export interface KeyAdmissions {
  readonly caller: Caller;
  waiters: Waiter[];
  /** Whether a decision is being taken (later requests wait for the next one). */
  deciding: boolean;
  /** The timer of a decision gathering requests that started early. */
  gathering?: ReturnType<typeof setTimeout>;
  /** Whether a waiting request must be decided without gathering (it waits, or was hurried). */
  urgent: boolean;
  /** Requests asked for and not yet decided. */
  undecided: number;
  last: LastDecision | null;
  /**
   * The caller's entries as this process last read or wrote them. The next decision judges them
   * again without a read: its commit checks that the key record, user record and window are
   * unchanged (else it reads and decides again), and the usage is re-read after
   * {@link USAGE_REREAD_MS}.
   */
  known: KnownEntries | null;
}

/** Entries of a caller and when they were read. */
interface KnownEntries {
  entries: CallerEntries;
  readAt: number;
}

/** What deciding needs. */
export interface AdmissionDeps {
  config: Readonly<Pick<Config, "rateLimitRpm" | "dailyTokenBudget">>;
  kv: Deno.Kv;
  now: () => number;
}

/** A key's admission state, before its first request. */
export function keyAdmissions(caller: Caller): KeyAdmissions {
  return {
    caller,
    waiters: [],
    deciding: false,
    urgent: false,
    undecided: 0,
    last: null,
    known: null,
  };
}

/**
 * Whether a new request of the key may start before its decision: the last decision this
 * process took found the key, its user and the budget open, the key has not expired since, and
 * the window has room for every request still undecided plus this one. The decision itself is
 * always read from KV; this only guesses it. A wrong guess (the key disabled by another process
 * since, say) costs one upstream call, aborted as the refusal arrives; the refusal is then
 * remembered, so the next request waits.
 */
export function mayStartEarly(state: KeyAdmissions, now: number): boolean {
  const last = state.last;
  if (last === null || !last.open || now >= last.expiresAt) return false;
  const counted = windowStart(now) === last.windowStart ? last.count : 0;
  return counted + state.undecided < last.limit;
}

/**
 * Counts usage this process is recording for the key's user into the entries it will judge next,
 * so that its own budget checks see it before the usage is read back.
 */
export function noteUsage(state: KeyAdmissions, weightedMilli: bigint): void {
  const used = state.known?.entries[3];
  if (!used) return;
  state.known!.entries[3] = {
    ...used,
    value: new Deno.KvU64((used.value?.value ?? 0n) + weightedMilli),
  } as Deno.KvEntryMaybe<Deno.KvU64>;
}

/**
 * How long the decision on a request that started early waits for more of its key's requests:
 * the request is already under way, and one commit then decides them all. Shorter than any
 * upstream answer (Z.ai's first byte takes far longer; the benchmark's fake takes 20 ms), and cut
 * short by {@link hurryAdmission} when a response is ready before it.
 */
const GATHER_MS = 10;

/** One request's decision, and the means to ask for it now. */
export type RequestedAdmission = Promise<Admission> & {
  /**
   * Asks for this request's decision now (its response is ready): nothing to do when the
   * decision is already taken or being taken.
   */
  hurry(): void;
};

/**
 * Asks for one request's admission. Requests arriving while a decision runs join the next one;
 * requests that started early (`early` true) wait up to {@link GATHER_MS} for company, unless
 * hurried; one that did not is decided at once.
 */
export function requestAdmission(
  deps: AdmissionDeps,
  state: KeyAdmissions,
  early: boolean,
): RequestedAdmission {
  let waiter!: Waiter;
  const admission = new Promise<Admission>((resolve, reject) => {
    waiter = { resolve, reject };
    state.waiters.push(waiter);
  });
  state.undecided++;
  if (early) gather(deps, state);
  else hurryAdmission(deps, state);
  return Object.assign(admission, {
    hurry: () => {
      if (state.waiters.includes(waiter)) hurryAdmission(deps, state);
    },
  });
}

/**
 * Decides the key's waiting requests now, without waiting for more: a request must not wait (it
 * did not start early, or its response is ready). When a decision is already running, the
 * waiting requests join the next one, which then follows at once; nothing to do when nothing
 * waits.
 */
export function hurryAdmission(deps: AdmissionDeps, state: KeyAdmissions): void {
  clearTimeout(state.gathering);
  state.gathering = undefined;
  if (state.waiters.length === 0) return;
  state.urgent = true;
  if (!state.deciding) void decideWaiting(deps, state);
}

/** Lets the waiting requests (all started early) gather for up to {@link GATHER_MS}. */
function gather(deps: AdmissionDeps, state: KeyAdmissions): void {
  if (state.deciding) return;
  state.gathering ??= setTimeout(() => hurryAdmission(deps, state), GATHER_MS);
}

async function decideWaiting(deps: AdmissionDeps, state: KeyAdmissions): Promise<void> {
  state.deciding = true;
  while (state.waiters.length && state.urgent) {
    state.urgent = false;
    const waiters = state.waiters.splice(0);
    try {
      const outcomes = await retryAtomic(() => decide(deps, state, waiters.length));
      waiters.forEach((waiter, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof ApiError) waiter.reject(outcome);
        else waiter.resolve(outcome);
      });
    } catch (error) {
      // No early starts until a decision succeeds again (KV down: no upstream call per request).
      state.last = null;
      for (const waiter of waiters) waiter.reject(storeError(error));
    }
    state.undecided -= waiters.length;
  }
  state.deciding = false;
  // Requests that came during the decision all started early: they gather for the next one.
  if (state.waiters.length) gather(deps, state);
}

/** A caller's key record, user record, rate window and weighted usage today, as KV entries. */
type CallerEntries = [
  Deno.KvEntryMaybe<KeyRecord>,
  Deno.KvEntryMaybe<UserRecord>,
  Deno.KvEntryMaybe<number>,
  Deno.KvEntryMaybe<Deno.KvU64>,
];

/** In one read: the key record, user record, rate window and the user's weighted usage today. */
export function readCallerState(kv: Deno.Kv, caller: Caller, now: number): Promise<CallerEntries> {
  return kv.getMany<[KeyRecord, UserRecord, number, Deno.KvU64]>([
    keyById(caller.keyId),
    userKey(caller.user),
    rateKey(caller.keyId, windowStart(now)),
    usageTotalKey(utcDay(now), caller.user),
  ]);
}

/** Whether entries read at `readAt` may decide again at `now` (see KeyAdmissions.known). */
function stillUsable(known: KnownEntries | null, now: number): known is KnownEntries {
  return known !== null && now - known.readAt < USAGE_REREAD_MS &&
    windowStart(now) === windowStart(known.readAt) && utcDay(now) === utcDay(known.readAt);
}

/**
 * Decides `requests` requests of one key: refuses them all (key, user, budget) or grants what the
 * window has left in one check-and-set, which also checks that the key and user records are the
 * ones judged (see {@link judgement}). Null when another writer got in first.
 */
async function decide(
  deps: AdmissionDeps,
  state: KeyAdmissions,
  requests: number,
): Promise<(Admission | ApiError)[] | null> {
  const { kv } = deps;
  const { caller } = state;
  const now = deps.now();
  const judged = await judgement(deps, state, requests, now);
  const { entries: [key, user, rate, used], readAt, limit, count, refusal } = judged;
  const decision: LastDecision = {
    windowStart: windowStart(now),
    count,
    limit,
    open: refusal === undefined,
    expiresAt: key.value?.expiresAt ?? Infinity,
  };
  state.last = decision;
  if (refusal) {
    state.known = { entries: judged.entries, readAt };
    // One error per request: the handler adds headers to the one it renders.
    return Array.from({ length: requests }, (_, i) => i === 0 ? refusal : judged.refuse()!);
  }
  const granted = Math.max(0, Math.min(requests, limit - count));
  let counted = rate;
  if (granted > 0) {
    const committed = await kv.atomic()
      .check(key, user, rate)
      .set(rate.key, count + granted, { expireIn: 2 * WINDOW_MS })
      .set(keyLastUsed(caller.keyId), now)
      .commit();
    if (!committed.ok) return null;
    counted = { key: rate.key, value: count + granted, versionstamp: committed.versionstamp };
  }
  state.known = { entries: [key, user, counted, used], readAt };
  decision.count = count + granted;
  return Array.from({ length: requests }, (_, i) =>
    i < granted
      ? {
        caller,
        headers: rateHeaders({ ...rateState(limit, count + i + 1, now), admitted: true }),
      }
      : rateLimited(rateState(limit, count + granted, now)));
}

/** Entries of a caller judged at some time: its limit, window count and any refusal. */
interface Judgement extends KnownEntries {
  limit: number;
  count: number;
  refusal: ApiError | undefined;
  /** The refusal again, as a new error (each request gets its own). */
  refuse: () => ApiError | undefined;
}

/**
 * The entries a decision goes by: the known ones when they admit every request, else a fresh
 * read (so refusals always come from what KV holds now).
 */
async function judgement(
  deps: AdmissionDeps,
  state: KeyAdmissions,
  requests: number,
  now: number,
): Promise<Judgement> {
  const known = state.known;
  state.known = null;
  if (stillUsable(known, now)) {
    const again = judge(deps.config, state.caller, known, now);
    if (!again.refusal && again.count + requests <= again.limit) return again;
  }
  const entries = await readCallerState(deps.kv, state.caller, now);
  return judge(deps.config, state.caller, { entries, readAt: now }, now);
}

function judge(
  config: AdmissionDeps["config"],
  caller: Caller,
  known: KnownEntries,
  now: number,
): Judgement {
  const [key, user, rate, used] = known.entries;
  const limits = effectiveLimits(config, user.value);
  const limit = limits.rateLimitRpm;
  const count = rate.value ?? 0;
  const refuse = () =>
    refusalOf(caller, key.value, user.value, {
      budget: limits.dailyTokenBudget,
      weightedToday: weightedOf(used),
      rate: rateState(limit, count, now),
      now,
    });
  return { ...known, limit, count, refusal: refuse(), refuse };
}

/** Why a caller is refused whatever room its rate window has, or undefined. */
function refusalOf(
  caller: Caller,
  key: KeyRecord | null,
  user: UserRecord | null,
  usage: { budget: number; weightedToday: number; rate: RateDecision; now: number },
): ApiError | undefined {
  const { budget, weightedToday, rate, now } = usage;
  if (caller.keyId !== DEFAULT_KEY_ID) {
    if (!key) return unknownKey();
    if (key.disabled) {
      return new ApiError(
        403,
        "permission",
        `API key ${key.id} is disabled: ask the operator to enable it, or use another key`,
      );
    }
    if (now >= key.expiresAt) {
      return new ApiError(
        403,
        "permission",
        `API key ${key.id} expired at ${isoTime(key.expiresAt)}: ask the operator for a new key`,
      );
    }
  }
  if (user?.disabled) {
    return new ApiError(
      403,
      "permission",
      `User ${caller.user} is disabled: ask the operator to enable the user`,
    );
  }
  if (budget > 0 && weightedToday >= budget) {
    return new ApiError(
      429,
      "quota",
      `Daily token budget of ${budget} weighted tokens is spent for user ${caller.user}: it renews at 00:00 UTC`,
      {
        code: "daily_budget_exceeded",
        retryAfter: secondsUntilNextUtcDay(now),
        headers: rateHeaders(rate),
      },
    );
  }
}

function rateLimited(state: RateDecision): ApiError {
  return new ApiError(
    429,
    "rate_limit",
    `Rate limit of ${state.limit} requests per minute reached for this key: retry in ${state.resetSeconds} s`,
    { retryAfter: state.resetSeconds, headers: rateHeaders(state) },
  );
}

/** The 401 for a key the gateway does not know. */
export function unknownKey(): ApiError {
  return new ApiError(
    401,
    "authentication",
    "Unknown API key: check the key you sent, or ask the operator for a new one",
  );
}
