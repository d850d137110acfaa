/** Governance on Deno KV: client keys and users, the per-key rate limit, the per-user daily budget. */

import type { Config } from "../core/config.ts";
import { secretsEqual } from "../core/crypto.ts";
import { ApiError } from "../core/errors.ts";
import type { Usage } from "../core/glm.ts";
import { isoTime, storeError } from "../core/kv.ts";
import type { LogSink } from "../core/log.ts";
import {
  type Caller,
  decide,
  type KeyAdmissions,
  keyAdmissions,
  mayStartEarly,
  readCallerState,
  unknownKey,
  weightedToday,
} from "./admission.ts";
import { DEFAULT_KEY_ID, findKeyByHash, hashApiKey } from "./keys.ts";
import { effectiveLimits, rateState } from "./limits.ts";
import { listUsage, secondsUntilNextUtcDay, UsageLedger, UsageRecorder, utcDay } from "./usage.ts";

export type { Caller } from "./admission.ts";

/**
 * A request past authentication. `decision` resolves with the rate-limit headers to send, or
 * rejects with the refusal (403, 429) or a 503. When `startEarly`, what this process last saw of
 * the key admits the request, so its upstream call may start before the decision; a request
 * started early and then refused must be abandoned.
 */
export interface Admission {
  caller: Caller;
  startEarly: boolean;
  decision: Promise<Record<string, string>>;
}

/** Authenticates, limits and meters client requests. */
export interface Governance {
  /** Authenticates the key (401 missing or unknown, 503 KV down) and asks for a decision. */
  admit(apiKey: string | undefined): Promise<Admission>;
  /**
   * Adds a finished request's tokens to the caller's usage (under `service`, the slug of the
   * service it went to, when given). It counts at once for this process's decisions and reads;
   * the KV write follows (a failure is logged, never thrown).
   */
  record(caller: Caller, model: string, usage: Usage, service?: string): void;
  /** The `GET /v1/key` body: the caller's user, key name, expiry, limits, today's usage, what remains. */
  describe(caller: Caller): Promise<Record<string, unknown>>;
  /** Resolves once every usage passed to `record` so far is written. */
  settled(): Promise<void>;
}

/** What {@link createGovernance} needs. */
export interface GovernanceDeps {
  config: Readonly<Config>;
  kv: Deno.Kv;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now: () => number;
  /** Where a usage that could not be recorded is reported (default: stderr). */
  log?: LogSink;
}

/** Most keys remembered per process; the oldest is forgotten beyond it. */
const KNOWN_KEYS_MAX = 10_000;

/** The client key of a request: `x-api-key`, else `Authorization: Bearer`. */
export function clientKey(request: Request): string | undefined {
  const apiKey = request.headers.get("x-api-key")?.trim();
  if (apiKey) return apiKey;
  const auth = request.headers.get("authorization")?.trim();
  const match = auth?.match(/^Bearer\s+(.+)$/i);
  return match?.[1].trim() || undefined;
}

/** Builds the gateway's governance. */
export function createGovernance(deps: GovernanceDeps): Governance {
  const { config, kv, now } = deps;
  const log = deps.log ?? console.error;
  const defaultKeyHash = config.defaultKey ? hashApiKey(config.defaultKey) : null;
  const ledger = new UsageLedger();
  const recorder = new UsageRecorder(kv, ledger);
  const admissionDeps = { config, kv, now, ledger };
  /** Key hash (or DEFAULT_KEY_ID) → the key's caller and admissions, for keys seen before. */
  const known = new Map<string, KeyAdmissions>();
  const writes = new Set<Promise<void>>();
  /** Writes what has gathered now and waits for every write so far. */
  const flushed = async () => {
    await recorder.flush().catch(() => {});
    await Promise.all(writes);
  };

  async function admissionsOf(hash: string): Promise<KeyAdmissions> {
    const seen = known.get(hash);
    if (seen) return seen;
    let caller: Caller = { keyId: DEFAULT_KEY_ID, user: DEFAULT_KEY_ID };
    if (hash !== DEFAULT_KEY_ID) {
      const entry = await findKeyByHash(kv, hash).catch((error) =>
        Promise.reject(storeError(error))
      );
      if (!entry) throw unknownKey();
      caller = { keyId: entry.id, user: entry.user };
    }
    // Safe to remember: every decision reads the key record, so a revoked key is refused anyway.
    const state = known.get(hash) ?? keyAdmissions(caller);
    if (known.size >= KNOWN_KEYS_MAX) known.delete(known.keys().next().value!);
    known.set(hash, state);
    return state;
  }

  return {
    async admit(apiKey) {
      if (!apiKey) {
        throw new ApiError(
          401,
          "authentication",
          "Missing API key: send it as x-api-key or Authorization: Bearer",
        );
      }
      const digest = hashApiKey(apiKey);
      const hash = defaultKeyHash && secretsEqual(digest, defaultKeyHash) ? DEFAULT_KEY_ID : digest;
      const state = await admissionsOf(hash);
      const startEarly = mayStartEarly(state, ledger, now());
      const decision = decide(admissionDeps, state, startEarly);
      decision.catch(() => {}); // awaited by the caller; never "unhandled" while it waits
      return { caller: state.caller, startEarly, decision };
    },
    record(caller, model, usage, service) {
      const write = recorder.record({ user: caller.user, model, service, usage, now: now() })
        .catch((error) =>
          log(JSON.stringify({
            time: new Date().toISOString(),
            error: `Cannot record usage in KV: ${
              error instanceof Error ? error.name : "unknown error"
            }`,
            user: caller.user,
            model,
            service,
            prompt_tokens: usage.promptTokens,
            completion_tokens: usage.completionTokens,
          }))
        );
      writes.add(write);
      write.finally(() => writes.delete(write));
    },
    async describe(caller) {
      await flushed(); // this process's usage so far is in KV before the read
      try {
        return await describe(admissionDeps, caller);
      } catch (error) {
        throw storeError(error);
      }
    },
    async settled() {
      while (writes.size) await flushed();
    },
  };
}

async function describe(
  deps: { config: Readonly<Config>; kv: Deno.Kv; now: () => number; ledger: UsageLedger },
  caller: Caller,
): Promise<Record<string, unknown>> {
  const { kv, config } = deps;
  const now = deps.now();
  const [key, user, rate, used] = await readCallerState(kv, caller, now);
  const rows = await listUsage(kv, { user: caller.user, days: 1, now });
  const limits = effectiveLimits(config, user.value);
  const rateNow = rateState(limits.rateLimitRpm, rate.value ?? 0, now);
  const weighted = weightedToday(deps.ledger, caller, used, now);
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
      date: utcDay(now),
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
}
