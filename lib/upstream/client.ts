/**
 * The GLM client: calls to `{UPSTREAM_URL}/chat/completions` through the key pool and its fair
 * queue, retried before the first byte, with timeouts, abort and header hygiene.
 */

import { ApiError } from "../core/errors.ts";
import type { GlmRequest } from "../core/glm.ts";
import { type LogSink, redact } from "../core/log.ts";
import type { UpstreamState } from "../core/upstream_state.ts";
import { parseZaiError, readErrorBody, upstreamError } from "./errors.ts";
import { createGovernor, type Governor, type Lease } from "./governor.ts";
import { createKeyPool, type Failure, type KeyPool, type PooledKey } from "./pool.ts";
import { backoffMs, failureKind, isFailover, sleep } from "./retry.ts";

/** One upstream: where it is, its keys, and how calls share them. */
export interface UpstreamOptions {
  /** Base URL, e.g. `https://api.z.ai/api/paas/v4` (no trailing slash). */
  url: string;
  /** The operator's Z.ai keys: a pool. */
  keys: readonly string[];
  /** Total time allowed for one call, retries included (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  fetch: typeof fetch;
  /** Extra attempts before the first byte (UPSTREAM_RETRIES; default 2). */
  retries?: number;
  /** Most in flight per key; 0 learns it from 1302 (UPSTREAM_CONCURRENCY; default 0). */
  concurrency?: number;
  /** Longest wait for a slot (UPSTREAM_QUEUE_TIMEOUT_MS; default 30000). */
  queueTimeoutMs?: number;
  /** Milliseconds since the epoch (cooldowns). */
  now?: () => number;
  /** Where key state changes go (default `console.log`). */
  log?: LogSink;
}

/** What a call reports back, filled in as it goes (also when it fails). */
export interface CallStats {
  /** Milliseconds spent waiting for a slot, over every attempt. */
  queuedMs: number;
  /** Attempts that went out to Z.ai. */
  attempts: number;
}

/** How one request is sent. */
export interface CallOptions {
  /** The client's signal: aborting it stops the wait, the attempt, and the answer. */
  signal?: AbortSignal;
  /** Who is asking: users take turns in the queue. */
  user?: string;
  stats?: CallStats;
}

/** The Z.ai client of one upstream. */
export interface Upstream {
  /**
   * Sends one chat request. Resolves once response headers arrive with a 2xx status; throws an
   * ApiError otherwise. The caller must call `finish()` or `abort()` on the result when done: the
   * request holds its slot on a key until then.
   */
  call(body: GlmRequest, options?: CallOptions): Promise<UpstreamCall>;
  /** The pool and the queue now, for `GET /admin/upstream`. */
  state(): UpstreamState;
}

/** A successful upstream response, with the means to release its timer and slot. */
export interface UpstreamCall {
  response: Response;
  /** Z.ai's request id (`x-request-id`-style header, or null until the body says). */
  requestId: string | null;
  /** Aborts the upstream request (client gone) and frees the slot; safe to call more than once. */
  abort(): void;
  /** Stops the total-time timer and frees the slot once the body is fully read. */
  finish(): void;
  /** Whether the call was cut short by UPSTREAM_TIMEOUT_MS. */
  readonly timedOut: () => boolean;
}

/** What a call needs besides its body: the options with defaults, the pool and the governor. */
interface Shared {
  options: UpstreamOptions;
  retries: number;
  pool: KeyPool;
  governor: Governor;
}

/** Builds the client of one upstream; everything it keeps (pool, queue) is its own. */
export function createUpstream(options: UpstreamOptions): Upstream {
  const pool = createKeyPool(options.keys, {
    concurrency: options.concurrency ?? 0,
    now: options.now ?? Date.now,
    log: options.log ?? console.log,
  });
  const governor = createGovernor(pool, { queueTimeoutMs: options.queueTimeoutMs ?? 30_000 });
  const shared: Shared = { options, retries: options.retries ?? 2, pool, governor };
  return {
    call(body, callOptions = {}) {
      if (options.keys.length === 0) {
        return Promise.reject(
          new ApiError(
            503,
            "unavailable",
            "The gateway has no Z.ai key: the operator must set UPSTREAM_API_KEY",
          ),
        );
      }
      return callThroughPool(shared, body, callOptions);
    },
    state: () => ({
      url: publicUrl(options.url),
      queued: governor.queued(),
      keys: pool.snapshot(),
    }),
  };
}

/** The error when the upstream took longer than UPSTREAM_TIMEOUT_MS. */
export function timeoutError(timeoutMs: number): ApiError {
  return new ApiError(
    504,
    "timeout",
    `Z.ai did not answer within ${timeoutMs} ms (UPSTREAM_TIMEOUT_MS): retry, or ask for a shorter answer`,
  );
}

function clientGone(): ApiError {
  return new ApiError(499, "invalid_request", "Client closed the request before Z.ai answered");
}

/** The URL without credentials, for the admin view. */
function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.href.replace(/\/$/, "");
  } catch {
    return "";
  }
}

/**
 * One call: a slot, an attempt, and on a failure before the first byte another key at once
 * (spent or refused), or a retry (on another key when one is free, else the same after a backoff),
 * at most `retries` times and within `timeoutMs` overall.
 */
async function callThroughPool(
  shared: Shared,
  body: GlmRequest,
  callOptions: CallOptions,
): Promise<UpstreamCall> {
  const { options, pool, governor } = shared;
  const { signal: clientSignal, user = "", stats = { queuedMs: 0, attempts: 0 } } = callOptions;
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Runs when the total time is up; frees the slot of a call already returned. */
  let onTimeout = () => {};
  const abort = () => controller.abort();
  if (clientSignal?.aborted) abort();
  clientSignal?.addEventListener("abort", abort, { once: true });
  const stop = () => {
    clearTimeout(timer);
    clientSignal?.removeEventListener("abort", abort);
  };
  /** Why the call stopped, when its signal aborted. */
  const stopped = (error: unknown) => {
    if (timedOut) return timeoutError(options.timeoutMs);
    if (clientSignal?.aborted) return clientGone();
    return error;
  };

  let retriesLeft = shared.retries;
  let failoversLeft = options.keys.length;
  let avoid: PooledKey | undefined;
  try {
    while (true) {
      const waitStarted = performance.now();
      let lease: Lease;
      try {
        lease = await governor.acquire({ user, signal: controller.signal, avoid, again: !!avoid });
      } finally {
        stats.queuedMs += performance.now() - waitStarted;
      }
      timer ??= setTimeout(() => {
        timedOut = true;
        controller.abort(timeoutError(options.timeoutMs));
        onTimeout();
      }, options.timeoutMs);
      stats.attempts++;
      let attempt: Response | Failure;
      try {
        attempt = await sendAttempt(options, lease.key.key, body, controller.signal);
      } catch (error) {
        lease.release();
        throw error;
      }
      if (attempt instanceof Response) {
        pool.recordSuccess(lease.key);
        const done = () => {
          stop();
          lease.release();
        };
        onTimeout = done;
        return {
          response: attempt,
          requestId: attempt.headers.get("x-request-id") ?? attempt.headers.get("request-id"),
          abort: () => {
            controller.abort();
            done();
          },
          finish: done,
          timedOut: () => timedOut,
        };
      }
      pool.recordFailure(lease.key, attempt);
      lease.release();
      avoid = lease.key;
      if (isFailover(attempt.kind) && failoversLeft-- > 0) {
        governor.keysChanged();
        continue;
      }
      if (attempt.kind === "final" || isFailover(attempt.kind) || retriesLeft-- <= 0) {
        throw attempt.error;
      }
      // After a 1302 that left the key full under its learned limit, the limit now holds the key:
      // the request waits for a slot in the queue rather than sleeping. Otherwise another key with
      // a free slot, or a backoff.
      const { key } = lease;
      const held = attempt.kind === "busy" && key.limitSource === "learned" &&
        key.inFlight >= key.limit;
      if (!held && !pool.hasFreeOther(key)) {
        await sleep(backoffMs(), controller.signal);
      }
    }
  } catch (error) {
    stop();
    throw controller.signal.aborted ? stopped(error) : error;
  }
}

/** One attempt with one key: the response when its status is 2xx, else what failed. */
async function sendAttempt(
  options: UpstreamOptions,
  key: string,
  body: GlmRequest,
  signal: AbortSignal,
): Promise<Response | Failure> {
  let response: Response;
  try {
    response = await options.fetch(`${options.url}/chat/completions`, {
      method: "POST",
      headers: {
        "authorization": `Bearer ${key}`,
        "content-type": "application/json",
        "accept": body.stream ? "text/event-stream" : "application/json",
        "accept-language": "en-US,en",
      },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const message = (error as Error).message;
    return {
      kind: failureKind(undefined, undefined),
      label: "connection",
      error: new ApiError(502, "upstream", "Cannot reach Z.ai: retry later", {
        cause: `UPSTREAM_URL ${options.url}: ${message}`,
      }),
      detail: message,
      message,
      retryAfterHeader: null,
    };
  }
  if (response.ok) return response;
  const errorBody = await readErrorBody(response);
  if (signal.aborted) throw signal.reason;
  const { code, message = "" } = parseZaiError(errorBody);
  const retryAfterHeader = response.headers.get("retry-after");
  return {
    kind: failureKind(response.status, code),
    label: code ?? `http_${response.status}`,
    error: upstreamError(response.status, errorBody, {
      retryAfter: retryAfterHeader,
      secrets: options.keys,
    }),
    detail: redact(
      `${code ? `[${code}] ` : ""}${message || `HTTP ${response.status}`}`,
      options.keys,
    ),
    message,
    retryAfterHeader,
  };
}
