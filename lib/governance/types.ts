/** The contract between client routes and access control: who is calling, may they, what did it cost. */

/** Token counts of one upstream call, as reported by Z.ai (or estimated when it sent none). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** True when the counts are the gateway's estimate, not the upstream's. */
  estimated: boolean;
}

/** The authenticated caller of a client route. */
export interface Caller {
  keyId: string;
  user: string;
}

/** A caller admitted past auth, rate limit and budget, with the rate-limit headers to send. */
export interface Admission {
  caller: Caller;
  headers: Record<string, string>;
}

/**
 * The decision on a request: resolves with its admission, rejects with an ApiError
 * (401/403/429/503). `early` is the caller when what this process last saw of the key already
 * admits the request, so its upstream call may start before the decision; null when the work
 * must wait for it. A request started early and then refused must be abandoned.
 */
export type PendingAdmission = Promise<Admission> & {
  early: Caller | null;
  /** Asks for the decision now: the response is ready (an early start's decision gathers). */
  hurry(): void;
};

/** Authenticates, limits and meters client requests. */
export interface Governance {
  /** Checks key, user, rate limit and budget. */
  admit(apiKey: string | undefined): PendingAdmission;
  /** Adds a finished request's tokens to the caller's usage; never throws. */
  record(caller: Caller, model: string, usage: TokenUsage): Promise<void>;
  /** The `GET /v1/key` body: the caller's user, key name, expiry, limits, today's usage, what remains. */
  describe(caller: Caller): Promise<Record<string, unknown>>;
  /** Resolves once every usage passed to `record` so far is written (for shutdown and tests). */
  settled(): Promise<void>;
}

/** The client key of a request: `x-api-key`, else `Authorization: Bearer`. */
export function clientKey(request: Request): string | undefined {
  const apiKey = request.headers.get("x-api-key")?.trim();
  if (apiKey) return apiKey;
  const auth = request.headers.get("authorization")?.trim();
  const match = auth?.match(/^Bearer\s+(.+)$/i);
  return match?.[1].trim() || undefined;
}
