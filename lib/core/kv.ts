/** Small helpers shared by the KV data modules: retry pacing, batched reads, the 503 mapping. */

import { ApiError } from "./errors.ts";

/** Deno KV reads at most this many keys in one `getMany`. */
const GET_MANY_LIMIT = 10;

/** Waits a short, growing, jittered time before retrying a conflicting or failed atomic. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(25, 1 + attempt * 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const BUSY = /database is (locked|busy)|SQLITE_BUSY/i;

/** Whether a KV error is SQLite's lock contention (another process writing): worth a retry. */
export function isBusy(error: unknown): boolean {
  return error instanceof Error && BUSY.test(error.message);
}

/**
 * Runs one optimistic read-check-commit `attempt` until it returns a result; null means its
 * check failed. Conflicts and lock contention are retried with backoff; a 503 after `max` tries.
 */
export async function retryAtomic<T>(
  attempt: (n: number) => Promise<T | null>,
  max = 100,
): Promise<T> {
  for (let n = 0; n < max; n++) {
    try {
      const result = await attempt(n);
      if (result !== null) return result;
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
    await backoff(n);
  }
  throw new ApiError(
    503,
    "overloaded",
    "The key store is too busy to take this change: retry shortly",
  );
}

/** Maps anything a KV call threw to the error a client sees: ApiErrors pass, the rest are a 503. */
export function storeError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    503,
    "unavailable",
    "The key store (Deno KV) is unavailable: retry shortly, and tell the operator if it persists",
  );
}

/** `kv.getMany` for any number of keys, in batches of what KV allows. */
export async function getManyChunked<T>(
  kv: Deno.Kv,
  keys: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const batches: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let i = 0; i < keys.length; i += GET_MANY_LIMIT) {
    batches.push(kv.getMany<T[]>(keys.slice(i, i + GET_MANY_LIMIT)));
  }
  return (await Promise.all(batches)).flat();
}

/** Milliseconds since the epoch as an ISO 8601 string, or null. */
export function isoTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
