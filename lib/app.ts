/**
 * createHandler(deps): the one route table, served at the root (the default service) and under
 * `/s/{slug}` for every service; auth and limits wrap the client routes, CORS answers for them.
 */

import {
  type AnthropicContext,
  handleComplete,
  handleCountTokens,
  handleMessages,
} from "./anthropic/routes.ts";
import type { Config } from "./core/config.ts";
import { preflightResponse, withCors } from "./core/cors.ts";
import { ApiError, type Dialect, errorResponse, toApiError } from "./core/errors.ts";
import { storeError } from "./core/kv.ts";
import {
  logDebug,
  logRequest,
  type LogSink,
  type RequestLog,
  type RequestTrace,
} from "./core/log.ts";
import { type Service, servicePath, splitServicePath } from "./core/services.ts";
import { ADMIN_ROUTES, type AdminContext, authorizeAdmin } from "./admin/routes.ts";
import { CONSOLE_API_ROUTES } from "./admin/console_api.ts";
import { renderConsolePage } from "./admin/console_page.ts";
import { RecentRequests } from "./admin/recent_requests.ts";
import { renderDocsPage } from "./docs_page/page.ts";
import { type Admission, clientKey, type Governance } from "./governance/governance.ts";
import { handleChatCompletions } from "./openai/route.ts";
import { handleResponses, responseNotStored } from "./responses/route.ts";
import { healthResponse, keyInfoResponse, modelsResponse } from "./routes.ts";
import { createUpstream, type Upstream } from "./upstream/client.ts";

/** What the handler needs from the outside world; tests inject their own. */
export interface Deps {
  config: Readonly<Config>;
  kv: Deno.Kv;
  governance: Governance;
  /** The fetch used for upstream calls. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Silence after which a stream gets a keepalive comment / ping. */
  keepaliveMs?: number;
  /** Where log lines go (default: `console.log`). */
  log?: LogSink;
}

/** A service and the Z.ai client of its upstream. */
interface ServedService {
  service: Readonly<Service>;
  upstream: Upstream;
}

/** Deps with every optional filled in, and one upstream per service built from them. */
interface AppDeps extends Required<Deps> {
  /** This process's most recent client requests, for the console. */
  recent: RecentRequests;
  /** Every service by slug, in the configured order. */
  services: Map<string, ServedService>;
  /** The first service: the one the root routes serve. */
  defaultService: ServedService;
}

/** What every handler gets besides the request. */
interface RequestContext {
  deps: AppDeps;
  url: URL;
  /** The path's `:name` segments, decoded. */
  params: Record<string, string>;
  trace: RequestTrace;
  /** Headers every response to this request carries, error or not (rate-limit state). */
  headers: Record<string, string>;
  /** The service the request is for: its `/s/{slug}`, else the default one. */
  service: ServedService;
  /** `/s/{slug}` when the request came under it, else empty. */
  basePath: string;
}

/** Where a request goes: the route path within its service, and which service. */
interface Target {
  /** The path as requested (for messages). */
  fullPath: string;
  /** The path within the service: the whole path, or what follows `/s/{slug}`. */
  path: string;
  /** The slug of `/s/{slug}`, or undefined at the root. */
  slug?: string;
  /** The service; undefined for an unknown slug. */
  served?: ServedService;
}

/** What a client route gets: a chat context (with KV for the Anthropic routes) and its admission. */
type ClientContext = AnthropicContext & Pick<Admission, "caller" | "decision"> & {
  governance: Governance;
};

type PublicHandler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;
type ClientHandler = (request: Request, ctx: ClientContext) => Promise<Response> | Response;
type AdminHandler = (request: Request, ctx: AdminContext) => Promise<Response>;

type Route =
  | { path: string; access: "public"; methods: Record<string, PublicHandler> }
  | { path: string; access: "client"; methods: Record<string, ClientHandler> }
  | { path: string; access: "admin"; methods: Record<string, AdminHandler> };

const docs: PublicHandler = (request, ctx) =>
  renderDocsPage(request, ctx.deps.config, {
    url: ctx.url,
    service: ctx.service.service,
    basePath: ctx.basePath,
  });
const operatorConsole: PublicHandler = (request) =>
  renderConsolePage(request, { upstreamRoute: ROUTES.some((r) => r.path === "/admin/upstream") });

/**
 * Every route the gateway serves. `:name` segments match any one segment. Public and client
 * routes also work under `/s/{slug}`, for that service.
 */
const ROUTES: Route[] = [
  { path: "/", access: "public", methods: { GET: docs } },
  { path: "/docs", access: "public", methods: { GET: docs } },
  { path: "/health", access: "public", methods: { GET: healthResponse } },
  { path: "/v1/models", access: "client", methods: { GET: modelsResponse } },
  { path: "/v1/chat/completions", access: "client", methods: { POST: handleChatCompletions } },
  { path: "/v1/messages", access: "client", methods: { POST: handleMessages } },
  { path: "/v1/messages/count_tokens", access: "client", methods: { POST: handleCountTokens } },
  { path: "/v1/complete", access: "client", methods: { POST: handleComplete } },
  { path: "/v1/responses", access: "client", methods: { POST: handleResponses } },
  {
    path: "/v1/responses/:id",
    access: "client",
    methods: { GET: responseNotStored, DELETE: responseNotStored },
  },
  {
    path: "/v1/key",
    access: "client",
    methods: {
      GET: (request, ctx) =>
        keyInfoResponse(ctx.governance, ctx.caller, ctx.decision, {
          url: new URL(request.url),
          kv: ctx.kv,
          now: ctx.now,
        }),
    },
  },
  { path: "/admin", access: "public", methods: { GET: operatorConsole } },
  ...ADMIN_ROUTES.map((route): Route => ({ ...route, access: "admin" })),
  ...CONSOLE_API_ROUTES.map((route): Route => ({ ...route, access: "admin" })),
];

/** The route of a path and its `:name` parameters, or undefined. */
function findRoute(path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split("/");
  for (const route of ROUTES) {
    const pattern = route.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodeSegment(segments[i]);
        return segments[i] !== "";
      }
      return part === segments[i];
    });
    if (matches) return { route, params };
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function unknownPath(path: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `Unknown path ${path}: see GET / for the routes this gateway serves`,
  );
}

function unknownService(slug: string, services: Map<string, ServedService>): ApiError {
  const known = [...services.keys()].map(servicePath).join(", ");
  return new ApiError(
    404,
    "not_found",
    `Unknown service ${JSON.stringify(slug)}: this gateway serves ${known} (see GET /)`,
  );
}

function disabledService(service: Readonly<Service>): ApiError {
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
function withServiceName(error: unknown, service: Readonly<Service>): unknown {
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

/** Which service a path is for, and the route path within it. */
function targetOf(deps: AppDeps, fullPath: string): Target {
  const scoped = splitServicePath(fullPath);
  if (!scoped) return { fullPath, path: fullPath, served: deps.defaultService };
  const rest = scoped.rest.replace(/\/+$/, "") || "/";
  return { fullPath, path: rest, slug: scoped.slug, served: deps.services.get(scoped.slug) };
}

/** Whether CORS applies: a client route, or anything under `/v1/` (so its 404 is readable). */
function isClientPath(path: string): boolean {
  return path.startsWith("/v1/") || findRoute(path)?.route.access === "client";
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
