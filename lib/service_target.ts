/** Which service a request is for: `/s/{slug}/…` or the root, and the errors that go with it. */

import { ApiError } from "./core/errors.ts";
import { type Service, servicePath, splitServicePath } from "./core/services.ts";
import type { AppDeps, ServedService } from "./route_table.ts";

/** Where a request goes: the route path within its service, and which service. */
export interface Target {
  /** The path as requested (for messages). */
  fullPath: string;
  /** The path within the service: the whole path, or what follows `/s/{slug}`. */
  path: string;
  /** The slug of `/s/{slug}`, or undefined at the root. */
  slug?: string;
  /** The service; undefined for an unknown slug. */
  served?: ServedService;
}

/** Which service a path is for, and the route path within it. */
export function targetOf(deps: AppDeps, fullPath: string): Target {
  const scoped = splitServicePath(fullPath);
  if (!scoped) return { fullPath, path: fullPath, served: deps.defaultService };
  const rest = scoped.rest.replace(/\/+$/, "") || "/";
  return { fullPath, path: rest, slug: scoped.slug, served: deps.services.get(scoped.slug) };
}

export function unknownService(slug: string, services: Map<string, ServedService>): ApiError {
  const known = [...services.keys()].map(servicePath).join(", ");
  return new ApiError(
    404,
    "not_found",
    `Unknown service ${JSON.stringify(slug)}: this gateway serves ${known} (see GET /)`,
  );
}

export function disabledService(service: Readonly<Service>): ApiError {
  return new ApiError(
    503,
    "unavailable",
    `Service ${service.slug} (${service.name}) is disabled on this gateway: ` +
      `use another service (see GET /), or ask the operator to enable it`,
  );
}

/**
 * The upstream client's "no Z.ai key: set UPSTREAM_API_KEY" 503, told in terms of the service and
 * the variable its keys come from.
 */
export function withServiceName(error: unknown, service: Readonly<Service>): unknown {
  const noKey = error instanceof ApiError && error.status === 503 &&
    error.message.includes("UPSTREAM_API_KEY");
  if (!noKey || service.keys.length > 0) return error;
  return new ApiError(
    503,
    error.kind,
    `Service ${service.slug} (${service.name}) has no Z.ai key: ` +
      `the operator must set ${service.keysEnv}`,
    { code: error.code, retryAfter: error.retryAfter, headers: error.headers },
  );
}
