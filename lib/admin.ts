/** `/admin/*`: key and user management (placeholder until the KV layer lands). */

import type { AppDeps } from "./app.ts";
import { ApiError } from "./errors.ts";

/** Handles an admin request. */
export function handleAdmin(request: Request, _deps: AppDeps): Promise<Response> {
  const path = new URL(request.url).pathname;
  return Promise.reject(new ApiError(404, "not_found", `Unknown path ${path}`));
}
