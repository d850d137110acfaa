/** The GLM client: one call to `{UPSTREAM_URL}/chat/completions` with timeouts, abort and header hygiene. */

import { ApiError } from "../core/errors.ts";
import type { GlmRequest } from "../core/glm.ts";
import { readErrorBody, upstreamError } from "./errors.ts";

/** One upstream: where it is, its keys, and how long a call may take. */
export interface UpstreamOptions {
  /** Base URL, e.g. `https://api.z.ai/api/paas/v4` (no trailing slash). */
  url: string;
  /** The operator's Z.ai keys: a pool. */
  keys: readonly string[];
  /** Total time allowed for one call (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  fetch: typeof fetch;
}

/** The Z.ai client of one upstream. */
export interface Upstream {
  /**
   * Sends one chat request. Resolves once response headers arrive with a 2xx status; throws an
   * ApiError otherwise. The caller must call `finish()` or `abort()` on the result when done.
   */
  call(body: GlmRequest, clientSignal?: AbortSignal): Promise<UpstreamCall>;
}

/** A successful upstream response, with the means to release its timer. */
export interface UpstreamCall {
  response: Response;
  /** Z.ai's request id (`x-request-id`-style header, or null until the body says). */
  requestId: string | null;
  /** Aborts the upstream request (client gone); safe to call more than once. */
  abort(): void;
  /** Stops the total-time timer once the body is fully read. */
  finish(): void;
  /** Whether the call was cut short by UPSTREAM_TIMEOUT_MS. */
  readonly timedOut: () => boolean;
}

/** Builds the client of one upstream; its keys take turns. */
export function createUpstream(options: UpstreamOptions): Upstream {
  let cursor = 0;
  return {
    call(body, clientSignal) {
      const key = options.keys[cursor++ % Math.max(1, options.keys.length)];
      return callWithKey(options, key, body, clientSignal);
    },
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

/** One attempt of {@link Upstream.call} with one key (undefined: none configured). */
async function callWithKey(
  options: UpstreamOptions,
  key: string | undefined,
  body: GlmRequest,
  clientSignal?: AbortSignal,
): Promise<UpstreamCall> {
  if (key === undefined) {
    throw new ApiError(
      503,
      "unavailable",
      "The gateway has no Z.ai key: the operator must set UPSTREAM_API_KEY",
    );
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(timeoutError(options.timeoutMs));
  }, options.timeoutMs);
  const abort = () => {
    clearTimeout(timer);
    controller.abort();
  };
  const finish = () => clearTimeout(timer);
  if (clientSignal?.aborted) abort();
  clientSignal?.addEventListener("abort", abort, { once: true });

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
      signal: controller.signal,
    });
  } catch (error) {
    finish();
    clientSignal?.removeEventListener("abort", abort);
    if (timedOut) throw timeoutError(options.timeoutMs);
    if (clientSignal?.aborted) {
      throw new ApiError(499, "invalid_request", "Client closed the request before Z.ai answered");
    }
    throw new ApiError(502, "upstream", "Cannot reach Z.ai: retry later", {
      cause: `UPSTREAM_URL ${options.url}: ${(error as Error).message}`,
    });
  }
  const requestId = response.headers.get("x-request-id") ?? response.headers.get("request-id");
  if (!response.ok) {
    const errorBody = await readErrorBody(response).finally(() => {
      finish();
      clientSignal?.removeEventListener("abort", abort);
    });
    throw upstreamError(response.status, errorBody, {
      retryAfter: response.headers.get("retry-after"),
      secrets: options.keys,
    });
  }
  return {
    response,
    requestId,
    abort,
    finish: () => {
      finish();
      clientSignal?.removeEventListener("abort", abort);
    },
    timedOut: () => timedOut,
  };
}
