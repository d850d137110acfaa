/** Anthropic routes (placeholder). */

import type { RouteContext } from "./app.ts";
import { ApiError } from "./errors.ts";

function notYet(): Promise<Response> {
  return Promise.reject(new ApiError(404, "not_found", "Not implemented yet"));
}

/** `POST /v1/messages`. */
export function handleMessages(_r: Request, _c: RouteContext): Promise<Response> {
  return notYet();
}
/** `POST /v1/messages/count_tokens`. */
export function handleCountTokens(_r: Request, _c: RouteContext): Promise<Response> {
  return notYet();
}
/** `POST /v1/complete`. */
export function handleComplete(_r: Request, _c: RouteContext): Promise<Response> {
  return notYet();
}
