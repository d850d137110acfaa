/** The GLM client: one call to `{UPSTREAM_URL}/chat/completions` with timeouts, abort and header hygiene. */

import type { Config } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";
import { upstreamError } from "./errors.ts";

/** A GLM chat request body (OpenAI-style with GLM extensions). */
export type GlmRequest = Record<string, unknown>;

/** What {@link callUpstream} needs. */
export interface UpstreamDeps {
  config: Readonly<Config>;
  fetch: typeof fetch;
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

let poolCursor = 0;

function nextUpstreamKey(keys: readonly string[]): string {
  const key = keys[poolCursor % keys.length];
  poolCursor = (poolCursor + 1) % keys.length;
  return key;
}

/** The error when the upstream took longer than UPSTREAM_TIMEOUT_MS. */
export function timeoutError(timeoutMs: number): ApiError {
  return new ApiError(
    504,
    "timeout",
    `Z.ai did not answer within ${timeoutMs} ms (UPSTREAM_TIMEOUT_MS): retry, or ask for a shorter answer`,
  );
}

async function readErrorBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends one chat request upstream. Resolves once response headers arrive with a 2xx status;
 * throws an ApiError otherwise. The caller must call `finish()` or `abort()` when done.
 */
export async function callUpstream(
  deps: UpstreamDeps,
  body: GlmRequest,
  clientSignal?: AbortSignal,
): Promise<UpstreamCall> {
  const { config } = deps;
  if (config.upstreamApiKeys.length === 0) {
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
    controller.abort(timeoutError(config.upstreamTimeoutMs));
  }, config.upstreamTimeoutMs);
  const abort = () => {
    clearTimeout(timer);
    controller.abort();
  };
  const finish = () => clearTimeout(timer);
  if (clientSignal?.aborted) abort();
  clientSignal?.addEventListener("abort", abort, { once: true });

  let response: Response;
  try {
    response = await deps.fetch(`${config.upstreamUrl}/chat/completions`, {
      method: "POST",
      headers: {
        "authorization": `Bearer ${nextUpstreamKey(config.upstreamApiKeys)}`,
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
    if (timedOut) throw timeoutError(config.upstreamTimeoutMs);
    if (clientSignal?.aborted) {
      throw new ApiError(499, "invalid_request", "Client closed the request before Z.ai answered");
    }
    throw new ApiError(
      502,
      "upstream",
      `Cannot reach Z.ai at ${config.upstreamUrl} (${
        (error as Error).message
      }): retry later, or check UPSTREAM_URL`,
    );
  }
  const requestId = response.headers.get("x-request-id") ?? response.headers.get("request-id");
  if (!response.ok) {
    const errorBody = await readErrorBody(response).finally(() => {
      finish();
      clientSignal?.removeEventListener("abort", abort);
    });
    throw upstreamError(response.status, errorBody, response.headers.get("retry-after"));
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
