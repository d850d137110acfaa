/** Governance on Deno KV: client keys and users, the per-key rate limit, the per-user daily budget. */

import type { Config } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { Admission, Caller, Governance, TokenUsage } from "./governance.ts";
import {
  findKeyByHash,
  keyById,
  keyLastUsed,
  type KeyRecord,
  userKey,
  type UserRecord,
} from "./keys.ts";
import { isoTime, storeError } from "./kv_store.ts";
import {
  effectiveLimits,
  rateHeaders,
  rateKey,
  rateState,
  takeRequestSlot,
  windowStart,
} from "./limits.ts";
import {
  listUsage,
  recordUsage,
  secondsUntilNextUtcDay,
  usageTotalKey,
  utcDay,
  weightedOf,
} from "./usage.ts";
import type { LogSink } from "./log.ts";
import { bytesEqual, sha256, toHex } from "./secrets.ts";

/** What {@link createGovernance} needs. */
export interface GovernanceDeps {
  config: Readonly<Config>;
  kv: Deno.Kv;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now: () => number;
  /** Where a usage that could not be recorded is reported (default: stderr). */
  log?: LogSink;
}

/** Key id and user of `DEFAULT_KEY`, which is configured, never stored. */
export const DEFAULT_KEY_ID = "default";

interface Context extends GovernanceDeps {
  defaultKeyHash: Uint8Array | null;
  /** Key hash → caller, for keys seen before (see identify). */
  knownKeys: Map<string, Caller>;
}

/** Builds the gateway's governance. */
export function createGovernance(deps: GovernanceDeps): Governance {
  const context: Context = {
    ...deps,
    defaultKeyHash: deps.config.defaultKey ? sha256(deps.config.defaultKey) : null,
    knownKeys: new Map(),
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

/** Most key hashes remembered per process; the oldest is forgotten beyond it. */
const KNOWN_KEYS_MAX = 10_000;

/**
 * Resolves a key to its id and user. A hash seen before is answered from memory: safe, because
 * admit() re-reads the key record itself on every request, so a revoked or disabled key is
 * refused at once all the same.
 */
async function identify(context: Context, apiKey: string): Promise<Caller> {
  const digest = sha256(apiKey);
  if (context.defaultKeyHash && bytesEqual(digest, context.defaultKeyHash)) {
    return { keyId: DEFAULT_KEY_ID, user: DEFAULT_KEY_ID };
  }
  const hash = toHex(digest);
  const known = context.knownKeys.get(hash);
  if (known) return known;
  const entry = await findKeyByHash(context.kv, hash);
  if (!entry) throw unknownKey();
  const caller = { keyId: entry.id, user: entry.user };
  if (context.knownKeys.size >= KNOWN_KEYS_MAX) {
    context.knownKeys.delete(context.knownKeys.keys().next().value!);
  }
  context.knownKeys.set(hash, caller);
  return caller;
}

function unknownKey(): ApiError {
  return new ApiError(
    401,
    "authentication",
    "Unknown API key: check the key you sent, or ask the operator for a new one",
  );
}

function checkKey(key: KeyRecord | null, now: number): void {
  if (!key) throw unknownKey();
  if (key.disabled) {
    throw new ApiError(
      403,
      "permission",
      `API key ${key.id} is disabled: ask the operator to enable it, or use another key`,
    );
  }
  if (now >= key.expiresAt) {
    throw new ApiError(
      403,
      "permission",
      `API key ${key.id} expired at ${isoTime(key.expiresAt)}: ask the operator for a new key`,
    );
  }
}

function checkUser(name: string, user: UserRecord | null): void {
  if (user?.disabled) {
    throw new ApiError(
      403,
      "permission",
      `User ${name} is disabled: ask the operator to enable the user`,
    );
  }
}

/** In one read: the caller's key record, user record, rate window and weighted usage today. */
function readCallerState(kv: Deno.Kv, caller: Caller, now: number) {
  return kv.getMany<[KeyRecord, UserRecord, number, Deno.KvU64]>([
    keyById(caller.keyId),
    userKey(caller.user),
    rateKey(caller.keyId, windowStart(now)),
    usageTotalKey(utcDay(now), caller.user),
  ]);
}

async function admit(context: Context, apiKey: string | undefined): Promise<Admission> {
  if (!apiKey) {
    throw new ApiError(
      401,
      "authentication",
      "Missing API key: send it as x-api-key or Authorization: Bearer",
    );
  }
  try {
    const { kv, config } = context;
    const now = context.now();
    const caller = await identify(context, apiKey);
    const [key, user, rate, used] = await readCallerState(kv, caller, now);
    if (caller.keyId !== DEFAULT_KEY_ID) checkKey(key.value, now);
    checkUser(caller.user, user.value);
    const limits = effectiveLimits(config, user.value);
    const budget = limits.dailyTokenBudget;
    if (budget > 0 && weightedOf(used) >= budget) {
      throw new ApiError(
        429,
        "quota",
        `Daily token budget of ${budget} weighted tokens is spent for user ${caller.user}: it renews at 00:00 UTC`,
        {
          code: "daily_budget_exceeded",
          retryAfter: secondsUntilNextUtcDay(now),
          headers: rateHeaders(rateState(limits.rateLimitRpm, rate.value ?? 0, now)),
        },
      );
    }
    const decision = await takeRequestSlot(kv, {
      keyId: caller.keyId,
      limit: limits.rateLimitRpm,
      now,
      first: rate,
      touch: { key: keyLastUsed(caller.keyId), value: now },
    });
    const headers = rateHeaders(decision);
    if (!decision.admitted) {
      throw new ApiError(
        429,
        "rate_limit",
        `Rate limit of ${decision.limit} requests per minute reached for this key: retry in ${decision.resetSeconds} s`,
        { retryAfter: decision.resetSeconds, headers },
      );
    }
    return { caller, headers };
  } catch (error) {
    throw storeError(error);
  }
}

async function record(
  context: Context,
  caller: Caller,
  model: string,
  usage: TokenUsage,
): Promise<void> {
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
