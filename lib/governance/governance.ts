/** Governance on Deno KV: client keys and users, the per-key rate limit, the per-user daily budget. */

import type { Config } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";
import type { Caller, Governance, PendingAdmission, TokenUsage } from "./types.ts";
import {
  DEFAULT_KEY_ID,
  type KeyAdmissions,
  keyAdmissions,
  mayStartEarly,
  noteUsage,
  readCallerState,
  requestAdmission,
  unknownKey,
} from "./admission.ts";
import { findKeyByHash, hashApiKey } from "./keys.ts";
import { isoTime, storeError } from "../core/kv.ts";
import { effectiveLimits, rateState } from "./limits.ts";
import {
  listUsage,
  recordUsage,
  secondsUntilNextUtcDay,
  utcDay,
  weightedMilliOf,
  weightedOf,
} from "./usage.ts";
import type { LogSink } from "../core/log.ts";
import { secretsEqual } from "../core/crypto.ts";

/** What {@link createGovernance} needs. */
export interface GovernanceDeps {
  config: Readonly<Config>;
  kv: Deno.Kv;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now: () => number;
  /** Where a usage that could not be recorded is reported (default: stderr). */
  log?: LogSink;
}

interface Context extends GovernanceDeps {
  defaultKeyHash: string | null;
  /** Key hash (or DEFAULT_KEY_ID) → the key's caller and admissions, for keys seen before. */
  knownKeys: Map<string, KeyAdmissions>;
  /** The same admissions by key id, for counting recorded usage into them. */
  byKeyId: Map<string, KeyAdmissions>;
}

/** Builds the gateway's governance. */
export function createGovernance(deps: GovernanceDeps): Governance {
  const context: Context = {
    ...deps,
    defaultKeyHash: deps.config.defaultKey ? hashApiKey(deps.config.defaultKey) : null,
    knownKeys: new Map(),
    byKeyId: new Map(),
  };
  const inFlight = new Set<Promise<void>>();
  return {
    admit: (apiKey) => admit(context, apiKey),
    record(caller, model, usage) {
      const recording = record(context, caller, model, usage);
      inFlight.add(recording);
      recording.finally(() => inFlight.delete(recording));
      return recording;
    },
    describe: (caller) => describe(context, caller),
    settled: async () => {
      while (inFlight.size) await Promise.all(inFlight);
    },
  };
}

/** Most keys remembered per process; the oldest is forgotten beyond it. */
const KNOWN_KEYS_MAX = 10_000;

function missingKey(): ApiError {
  return new ApiError(
    401,
    "authentication",
    "Missing API key: send it as x-api-key or Authorization: Bearer",
  );
}

/**
 * The admissions of a key's caller. A hash seen before is answered from memory: safe, because
 * every decision holds the key record to what KV has (read, or checked by its commit), so a
 * revoked or disabled key is refused all the same.
 */
async function admissionsOf(context: Context, hash: string): Promise<KeyAdmissions> {
  const known = context.knownKeys.get(hash);
  if (known) return known;
  if (hash === DEFAULT_KEY_ID) return remember(context, hash, { keyId: hash, user: hash });
  const entry = await findKeyByHash(context.kv, hash);
  if (!entry) throw unknownKey();
  return remember(context, hash, { keyId: entry.id, user: entry.user });
}

function remember(context: Context, hash: string, caller: Caller): KeyAdmissions {
  const known = context.knownKeys.get(hash);
  if (known) return known;
  if (context.knownKeys.size >= KNOWN_KEYS_MAX) {
    const [oldest] = context.knownKeys;
    context.knownKeys.delete(oldest[0]);
    context.byKeyId.delete(oldest[1].caller.keyId);
  }
  const state = keyAdmissions(caller);
  context.knownKeys.set(hash, state);
  context.byKeyId.set(caller.keyId, state);
  return state;
}

/** What a request that must wait for its decision carries (it is decided without delay). */
const NOT_EARLY = { early: null, hurry: () => {} };

function admit(context: Context, apiKey: string | undefined): PendingAdmission {
  if (!apiKey) return Object.assign(Promise.reject(missingKey()), NOT_EARLY);
  const digest = hashApiKey(apiKey);
  const hash = context.defaultKeyHash && secretsEqual(digest, context.defaultKeyHash)
    ? DEFAULT_KEY_ID
    : digest;
  const known = context.knownKeys.get(hash);
  if (!known) {
    const decision = admissionsOf(context, hash)
      .then((state) => requestAdmission(context, state, false))
      .catch((error) => Promise.reject(storeError(error)));
    return Object.assign(decision, NOT_EARLY);
  }
  const early = mayStartEarly(known, context.now()) ? known.caller : null;
  return Object.assign(requestAdmission(context, known, early !== null), { early });
}

async function record(
  context: Context,
  caller: Caller,
  model: string,
  usage: TokenUsage,
): Promise<void> {
  const state = context.byKeyId.get(caller.keyId);
  if (state) noteUsage(state, weightedMilliOf(model, usage));
  try {
    await recordUsage(context.kv, { user: caller.user, model, usage, now: context.now() });
  } catch (error) {
    (context.log ?? console.error)(JSON.stringify({
      time: new Date().toISOString(),
      error: `Cannot record usage in KV: ${error instanceof Error ? error.name : "unknown error"}`,
      user: caller.user,
      model,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
    }));
  }
}

async function describe(context: Context, caller: Caller): Promise<Record<string, unknown>> {
  try {
    const { kv, config } = context;
    const now = context.now();
    const day = utcDay(now);
    const [key, user, rate, used] = await readCallerState(kv, caller, now);
    const rows = await listUsage(kv, { user: caller.user, days: 1, now });
    const limits = effectiveLimits(config, user.value);
    const rateNow = rateState(limits.rateLimitRpm, rate.value ?? 0, now);
    const weighted = weightedOf(used);
    const sum = (pick: (row: (typeof rows)[number]) => number) =>
      rows.reduce((total, row) => total + pick(row), 0);
    return {
      object: "api_key",
      id: caller.keyId,
      user: caller.user,
      name: key.value?.name ?? (caller.keyId === DEFAULT_KEY_ID ? "DEFAULT_KEY" : null),
      created_at: isoTime(key.value?.createdAt),
      expires_at: isoTime(key.value?.expiresAt),
      limits: {
        rate_limit_rpm: limits.rateLimitRpm,
        daily_token_budget: limits.dailyTokenBudget,
      },
      usage_today: {
        date: day,
        requests: sum((row) => row.requests),
        prompt_tokens: sum((row) => row.prompt_tokens),
        completion_tokens: sum((row) => row.completion_tokens),
        weighted_tokens: weighted,
        models: rows.map(({ date: _date, user: _user, ...row }) => row),
      },
      remaining: {
        requests: rateNow.remaining,
        requests_reset_seconds: rateNow.resetSeconds,
        daily_tokens: limits.dailyTokenBudget > 0
          ? Math.max(0, limits.dailyTokenBudget - weighted)
          : null,
        daily_tokens_reset_seconds: secondsUntilNextUtcDay(now),
      },
    };
  } catch (error) {
    throw storeError(error);
  }
}
