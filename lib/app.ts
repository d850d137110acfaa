/**
 * createHandler(deps): serves the route table (lib/route_table.ts) at the root, for the default
 * service, and under `/s/{slug}` for every service; auth and limits wrap the client routes, CORS
 * answers for them, and every request gets one log line.
 */

import { preflightResponse, withCors } from "./core/cors.ts";
import { ApiError, type Dialect, errorResponse, toApiError } from "./core/errors.ts";
import { storeError } from "./core/kv.ts";
import { logDebug, logRequest, type RequestLog, type RequestTrace } from "./core/log.ts";
import { servicePath } from "./core/services.ts";
import { type AdminContext, authorizeAdmin } from "./admin/routes.ts";
import { RecentRequests } from "./admin/recent_requests.ts";
import { clientKey } from "./governance/governance.ts";
import { createUpstream } from "./upstream/client.ts";
import {
  type AppDeps,
  type ClientContext,
  type ClientHandler,
  type Deps,
  findRoute,
  isClientPath,
  type RequestContext,
  type ServedService,
} from "./route_table.ts";
import {
  disabledService,
  type Target,
  targetOf,
  unknownService,
  withServiceName,
} from "./service_target.ts";

export type { Deps } from "./route_table.ts";

function unknownPath(path: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `Unknown path ${path}: see GET / for the routes this gateway serves`,
  );
}

function dialectOf(request: Request, path: string): Dialect {
  if (path.startsWith("/v1/messages") || path === "/v1/complete") return "anthropic";
  return request.headers.has("anthropic-version") ? "anthropic" : "openai";
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) {
    try {
      response.headers.set(name, value);
    } catch {
      // Immutable headers (e.g. a Response.error()); nothing to add to.
      return response;
    }
  }
  return response;
}

async function dispatch(
  request: Request,
  ctx: Omit<RequestContext, "service">,
  target: Target,
): Promise<Response> {
  const { deps } = ctx;
  const { path, fullPath } = target;
  const isAdmin = path === "/admin" || path.startsWith("/admin/");
  if (isAdmin) {
    if (target.slug !== undefined || !deps.config.adminKey) throw unknownPath(fullPath);
    if (path !== "/admin") authorizeAdmin(request, deps.config.adminKey); // the page holds no data
  }
  const found = findRoute(path);
  if (!found) throw unknownPath(fullPath);
  const { route, params } = found;
  if (request.method === "OPTIONS" && route.access === "client") {
    return preflightResponse(deps.config.corsOrigins, request, Object.keys(route.methods));
  }
  if (route.access !== "admin") {
    if (!target.served) throw unknownService(target.slug!, deps.services);
    if (target.slug !== undefined || route.access === "client") {
      ctx.trace.service = target.served.service.slug;
      if (!target.served.service.enabled) throw disabledService(target.served.service);
    }
  }
  const service = target.served ?? deps.defaultService;
  const method = request.method === "HEAD" && !route.methods.HEAD ? "GET" : request.method;
  if (!Object.hasOwn(route.methods, method)) {
    const allowed = Object.keys(route.methods).join(", ");
    throw new ApiError(
      405,
      "method_not_allowed",
      `Method ${request.method} is not allowed on ${fullPath}: use ${allowed}`,
      { headers: { allow: allowed } },
    );
  }
  const routeCtx: RequestContext = { ...ctx, params, service };
  switch (route.access) {
    case "public":
      return route.methods[method](request, routeCtx);
    case "admin": {
      const admin: AdminContext = {
        config: deps.config,
        kv: deps.kv,
        now: deps.now,
        url: ctx.url,
        params,
        settled: () => deps.governance.settled(),
        upstreamState: () =>
          [...deps.services.values()].map(({ service, upstream }) => ({
            ...upstream.state(),
            service: service.slug,
          })),
        recent: deps.recent,
      };
      return await route.methods[method](request, admin).catch((error) => {
        throw storeError(error);
      });
    }
    case "client":
      ctx.trace.client = true;
      return await runClientRoute(request, routeCtx, route.methods[method]);
  }
}

/**
 * Authenticates and admits a client request, then runs its route. A route may start its upstream
 * call before the decision (early start); the decision always settles before the response goes.
 */
async function runClientRoute(
  request: Request,
  ctx: RequestContext,
  handler: ClientHandler,
): Promise<Response> {
  const { deps, trace } = ctx;
  const { service, upstream } = ctx.service;
  const { caller, startEarly, decision } = await deps.governance.admit(clientKey(request));
  trace.user = caller.user;
  trace.keyId = caller.keyId;
  if (!startEarly) await decision;
  const client: ClientContext = {
    config: deps.config,
    kv: deps.kv,
    upstream,
    keepaliveMs: deps.keepaliveMs,
    log: deps.log,
    now: deps.now,
    trace,
    governance: deps.governance,
    caller,
    decision,
    admission: { startEarly, decision },
    meter: (model, usage) => deps.governance.record(caller, model, usage, service.slug),
  };
  let response: Response;
  try {
    response = await handler(request, client);
  } catch (error) {
    Object.assign(ctx.headers, await decision); // a refusal outranks what the route ran into
    throw withServiceName(error, service);
  }
  try {
    Object.assign(ctx.headers, await decision);
    return response;
  } catch (refusal) {
    await response.body?.cancel();
    throw refusal;
  }
}

/** Builds the gateway's request handler. */
export function createHandler(deps: Deps): (request: Request) => Promise<Response> {
  const withDefaults: Required<Deps> = {
    fetch: globalThis.fetch,
    now: Date.now,
    keepaliveMs: 15_000,
    log: console.log,
    ...deps,
  };
  const { config } = withDefaults;
  const services = new Map<string, ServedService>();
  for (const service of config.services) {
    const upstream = createUpstream({
      url: service.url,
      keys: service.keys,
      timeoutMs: config.upstreamTimeoutMs,
      fetch: withDefaults.fetch,
      retries: config.upstreamRetries,
      concurrency: config.upstreamConcurrency,
      queueTimeoutMs: config.upstreamQueueTimeoutMs,
      now: withDefaults.now,
      log: withDefaults.log,
    });
    services.set(service.slug, { service, upstream });
  }
  const full: AppDeps = {
    ...withDefaults,
    services,
    defaultService: services.get(config.services[0].slug)!,
    recent: new RecentRequests({ now: withDefaults.now() }),
  };
  return async (request) => {
    const started = performance.now();
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const target = targetOf(full, path);
    const trace: RequestTrace = {};
    if (config.debugMode) {
      logDebug(full.log, "client request", {
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
      });
    }
    let response: Response;
    let failure: string | undefined;
    const headers: Record<string, string> = {};
    try {
      const basePath = target.slug === undefined ? "" : servicePath(target.slug);
      const ctx = { deps: full, url, params: {}, trace, basePath, headers };
      response = await dispatch(request, ctx, target);
    } catch (error) {
      const apiError = toApiError(error);
      failure = apiError.status === 500
        ? String(error)
        : apiError.cause === undefined
        ? apiError.message
        : `${apiError.message} (${apiError.cause})`;
      response = errorResponse(apiError, dialectOf(request, target.path));
    }
    withHeaders(response, headers);
    if (isClientPath(target.path)) response = withCors(response, config.corsOrigins, request);
    const log = () => {
      const entry: RequestLog = {
        method: request.method,
        path,
        status: response.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        model: trace.model,
        user: trace.user,
        service: trace.service,
        keyId: trace.keyId,
        promptTokens: trace.promptTokens,
        completionTokens: trace.completionTokens,
        upstreamRequestId: trace.upstreamRequestId,
        queuedMs: trace.queuedMs,
        error: failure ?? trace.streamError,
      };
      logRequest(full.log, entry);
      if (trace.client) full.recent.add(entry, full.now());
    };
    if (trace.streamEnd) trace.streamEnd.then(log);
    else log();
    return response;
  };
}
