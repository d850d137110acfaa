/**
 * Admission on Deno KV, per client key: one read and one check-and-set decide every request of
 * the key waiting in this process (a group commit), and the last decision lets the next request
 * start its upstream call before its own decision is in (an early start).
 */

import type { Config } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { Admission, Caller } from "./governance.ts";
import { isoTime, retryAtomic, storeError } from "./kv_store.ts";
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
  /** Requests asked for and not yet decided. */
  undecided: number;
  last: LastDecision | null;
}

/** What deciding needs. */
export interface AdmissionDeps {
  config: Readonly<Pick<Config, "rateLimitRpm" | "dailyTokenBudget">>;
  kv: Deno.Kv;
  now: () => number;
}

/** A key's admission state, before its first request. */
export function keyAdmissions(caller: Caller): KeyAdmissions {
  return { caller, waiters: [], deciding: false, undecided: 0, last: null };
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

/** Asks for one request's admission; requests arriving while a decision runs join the next. */
export function requestAdmission(deps: AdmissionDeps, state: KeyAdmissions): Promise<Admission> {
  const admission = new Promise<Admission>((resolve, reject) => {
    state.waiters.push({ resolve, reject });
  });
  state.undecided++;
  if (!state.deciding) void decideWaiting(deps, state);
  return admission;
}

async function decideWaiting(deps: AdmissionDeps, state: KeyAdmissions): Promise<void> {
  state.deciding = true;
  while (state.waiters.length) {
    const waiters = state.waiters.splice(0);
    try {
      const outcomes = await retryAtomic(() => decide(deps, state, waiters.length));
      waiters.forEach((waiter, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof ApiError) waiter.reject(outcome);
        else waiter.resolve(outcome);
      });
    } catch (error) {
      for (const waiter of waiters) waiter.reject(storeError(error));
    }
    state.undecided -= waiters.length;
  }
  state.deciding = false;
}

/** In one read: the key record, user record, rate window and the user's weighted usage today. */
export function readCallerState(kv: Deno.Kv, caller: Caller, now: number) {
  return kv.getMany<[KeyRecord, UserRecord, number, Deno.KvU64]>([
    keyById(caller.keyId),
    userKey(caller.user),
    rateKey(caller.keyId, windowStart(now)),
    usageTotalKey(utcDay(now), caller.user),
  ]);
}

/**
 * Decides `count` requests of one key: refuses them all (key, user, budget) or grants what the
 * window has left in one check-and-set. Null when another writer changed the window first.
 */
async function decide(
  deps: AdmissionDeps,
  state: KeyAdmissions,
  requests: number,
): Promise<(Admission | ApiError)[] | null> {
  const { kv, config } = deps;
  const { caller } = state;
  const now = deps.now();
  const [key, user, rate, used] = await readCallerState(kv, caller, now);
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
  const decision: LastDecision = {
    windowStart: windowStart(now),
    count,
    limit,
    open: refuse() === undefined,
    expiresAt: key.value?.expiresAt ?? Infinity,
  };
  state.last = decision;
  // One error per request: the handler adds headers to the one it renders.
  if (!decision.open) return Array.from({ length: requests }, () => refuse()!);
  const granted = Math.max(0, Math.min(requests, limit - count));
  if (granted > 0) {
    const committed = await kv.atomic()
      .check(rate)
      .set(rate.key, count + granted, { expireIn: 2 * WINDOW_MS })
      .set(keyLastUsed(caller.keyId), now)
      .commit();
    if (!committed.ok) return null;
  }
  decision.count = count + granted;
  return Array.from({ length: requests }, (_, i) =>
    i < granted
      ? {
        caller,
        headers: rateHeaders({ ...rateState(limit, count + i + 1, now), admitted: true }),
      }
      : rateLimited(rateState(limit, count + granted, now)));
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
