/** createHandler(deps): the one route table; auth and limits wrap the client routes. */

import {
  type AnthropicContext,
  handleComplete,
  handleCountTokens,
  handleMessages,
} from "./anthropic/routes.ts";
import type { Config } from "./core/config.ts";
import { ApiError, type Dialect, errorResponse, toApiError } from "./core/errors.ts";
import { storeError } from "./core/kv.ts";
import {
  logDebug,
  logRequest,
  type LogSink,
  type RequestLog,
  type RequestTrace,
} from "./core/log.ts";
import { ADMIN_ROUTES, type AdminContext, authorizeAdmin } from "./admin/routes.ts";
import { CONSOLE_API_ROUTES } from "./admin/console_api.ts";
import { renderConsolePage } from "./admin/console_page.ts";
import { RecentRequests } from "./admin/recent_requests.ts";
import { renderDocsPage } from "./docs_page/page.ts";
import { type Admission, clientKey, type Governance } from "./governance/governance.ts";
import { handleChatCompletions } from "./openai/route.ts";
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

/** Deps with every optional filled in, and the upstream built from them. */
interface AppDeps extends Required<Deps> {
  upstream: Upstream;
  /** This process's most recent client requests, for the console. */
  recent: RecentRequests;
}

/** What every handler gets besides the request. */
interface RequestContext {
  deps: AppDeps;
  url: URL;
  /** The path's `:name` segments, decoded. */
  params: Record<string, string>;
  trace: RequestTrace;
  /** Set once the path is a client route: its request then joins the recent requests. */
  client?: boolean;
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

const docs: PublicHandler = (request, ctx) => renderDocsPage(request, ctx.deps.config, ctx.url);
const operatorConsole: PublicHandler = (request) =>
  renderConsolePage(request, { upstreamRoute: ROUTES.some((r) => r.path === "/admin/upstream") });

/** Every route the gateway serves. `:name` segments match any one segment. */
const ROUTES: Route[] = [
  { path: "/", access: "public", methods: { GET: docs } },
  { path: "/docs", access: "public", methods: { GET: docs } },
  { path: "/health", access: "public", methods: { GET: healthResponse } },
  { path: "/v1/models", access: "client", methods: { GET: modelsResponse } },
  { path: "/v1/chat/completions", access: "client", methods: { POST: handleChatCompletions } },
  { path: "/v1/messages", access: "client", methods: { POST: handleMessages } },
  { path: "/v1/messages/count_tokens", access: "client", methods: { POST: handleCountTokens } },
  { path: "/v1/complete", access: "client", methods: { POST: handleComplete } },
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

async function dispatch(request: Request, ctx: RequestContext, path: string): Promise<Response> {
  const { deps } = ctx;
  const isAdmin = path === "/admin" || path.startsWith("/admin/");
  if (isAdmin) {
    if (!deps.config.adminKey) throw unknownPath(path);
    if (path !== "/admin") authorizeAdmin(request, deps.config.adminKey); // the page holds no data
  }
  const found = findRoute(path);
  if (!found) throw unknownPath(path);
  const { route, params } = found;
  const method = request.method === "HEAD" && !route.methods.HEAD ? "GET" : request.method;
  if (!Object.hasOwn(route.methods, method)) {
    const allowed = Object.keys(route.methods).join(", ");
    throw new ApiError(
      405,
      "method_not_allowed",
      `Method ${request.method} is not allowed on ${path}: use ${allowed}`,
      { headers: { allow: allowed } },
    );
  }
  ctx.params = params;
  switch (route.access) {
    case "public":
      return route.methods[method](request, ctx);
    case "admin": {
      const admin: AdminContext = {
        config: deps.config,
        kv: deps.kv,
        now: deps.now,
        url: ctx.url,
        params,
        settled: () => deps.governance.settled(),
        recent: deps.recent,
      };
      return await route.methods[method](request, admin).catch((error) => {
        throw storeError(error);
      });
    }
    case "client":
      ctx.client = true;
      return await runClientRoute(request, ctx, route.methods[method]);
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
  const { caller, startEarly, decision } = await deps.governance.admit(clientKey(request));
  trace.user = caller.user;
  trace.keyId = caller.keyId;
  if (!startEarly) await decision;
  const client: ClientContext = {
    config: deps.config,
    kv: deps.kv,
    upstream: deps.upstream,
    keepaliveMs: deps.keepaliveMs,
    log: deps.log,
    now: deps.now,
    trace,
    governance: deps.governance,
    caller,
    decision,
    admission: { startEarly, decision },
    meter: (model, usage) => deps.governance.record(caller, model, usage),
  };
  let response: Response;
  try {
    response = await handler(request, client);
  } catch (error) {
    const headers = await decision; // a refusal outranks what the route ran into
    if (error instanceof ApiError) Object.assign(error.headers, headers);
    throw error;
  }
  try {
    return withHeaders(response, await decision);
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
  const full: AppDeps = {
    ...withDefaults,
    upstream: createUpstream({
      url: config.upstreamUrl,
      keys: config.upstreamApiKeys,
      timeoutMs: config.upstreamTimeoutMs,
      fetch: withDefaults.fetch,
    }),
    recent: new RecentRequests({ now: withDefaults.now() }),
  };
  return async (request) => {
    const started = performance.now();
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
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
    const ctx: RequestContext = { deps: full, url, params: {}, trace };
    try {
      response = await dispatch(request, ctx, path);
    } catch (error) {
      const apiError = toApiError(error);
      failure = apiError.status === 500 ? String(error) : apiError.message;
      response = errorResponse(apiError, dialectOf(request, path));
    }
    const log = () => {
      const entry: RequestLog = {
        method: request.method,
        path,
        status: response.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        model: trace.model,
        user: trace.user,
        keyId: trace.keyId,
        promptTokens: trace.promptTokens,
        completionTokens: trace.completionTokens,
        upstreamRequestId: trace.upstreamRequestId,
        error: failure ?? trace.streamError,
      };
      logRequest(full.log, entry);
      if (ctx.client) full.recent.add(entry, full.now());
    };
    if (trace.streamEnd) trace.streamEnd.then(log);
    else log();
    return response;
  };
}
