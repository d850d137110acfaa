/** What a failed attempt means for the call, and the wait before trying the same key again. */

import { zaiCodeClass } from "./errors.ts";

/**
 * What one failed attempt means:
 * - `refused`: Z.ai refused the operator's key (1000–1004, HTTP 401): out of the pool, next key at once.
 * - `spent`: the key's quota or balance is gone (1308, 1310, 1113, …): it cools down, next key at once.
 * - `busy`: too many in flight on the key (1302): the limit is learned, then a retry.
 * - `transient`: overloaded (1305, 1312), an upstream 5xx or 429, no connection: a retry.
 * - `final`: anything else (400-class refusals such as 1210–1214 and 1301, 1303, 1313, 404…):
 *   straight to the client.
 */
export type FailureKind = "refused" | "spent" | "busy" | "transient" | "final";

/** The kind of a failure from its HTTP status (undefined: no response) and Z.ai code. */
export function failureKind(status: number | undefined, code: string | undefined): FailureKind {
  if (status === undefined) return "transient";
  const family = zaiCodeClass(code);
  if (family === "auth" || status === 401) return "refused";
  // 1311 (no access to a model) is about the request's model, not about the key's quota.
  if (family === "quota" && code !== "1311") return "spent";
  if (code === "1302") return "busy";
  if (family === "overload") return "transient";
  if (family !== undefined) return "final";
  if (status === 429 || status >= 500) return "transient";
  return "final";
}

/** Whether a kind moves on to another key without counting against UPSTREAM_RETRIES. */
export function isFailover(kind: FailureKind): boolean {
  return kind === "refused" || kind === "spent";
}

/** A jittered wait before trying the same key again: 100 ms to 1 s. */
export function backoffMs(random: () => number = Math.random): number {
  return Math.round(100 + random() * 900);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
