/** createHandler(deps): the route table; auth and limits wrap the client routes. */

import type { Config } from "./core/config.ts";
import { ApiError, type Dialect, errorResponse, toApiError } from "./core/errors.ts";
import {
  type Caller,
  clientKey,
  type Governance,
  type PendingAdmission,
} from "./governance/types.ts";
import { logDebug, logRequest, type LogSink } from "./core/log.ts";
import { modelsResponse } from "./routes.ts";
import { handleChatCompletions } from "./openai/route.ts";
import { handleComplete, handleCountTokens, handleMessages } from "./anthropic/routes.ts";
import { handleAdmin } from "./admin/routes.ts";
import { renderDocsPage } from "./docs_page/page.ts";
import { VERSION } from "./core/version.ts";

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
  /** Where log lines go (default: stdout). */
  log?: LogSink;
}

/** Deps with every optional filled in. */
export type AppDeps = Required<Deps>;

/** What a request's log line reports; routes fill it in. */
export interface RequestTrace {
  model?: string;
  upstreamRequestId?: string;
  user?: string;
  /** Set by streaming routes: resolves when the stream has ended. */
  streamEnd?: Promise<void>;
  /** Why a stream ended early, if it did. */
  streamError?: string;
}

/** What a client route handler receives besides the request. */
export interface RouteContext {
  deps: AppDeps;
  caller: Caller;
  /**
   * The request's admission. Decided already unless `admission.early`: then the route may start
   * its upstream call at once but must abandon it if this rejects (see runChat).
   */
  admission: PendingAdmission;
  /** Filled in by the route for the log line. */
  trace: RequestTrace;
}

/** A client route: runs after auth and limits pass. */
export type ClientRoute = (request: Request, ctx: RouteContext) => Promise<Response>;

/** A route open to anyone (docs, health). */
type PublicRoute = (request: Request, deps: AppDeps) => Promise<Response> | Response;

type RouteEntry =
  | { client: false; methods: Record<string, PublicRoute> }
  | { client: true; methods: Record<string, ClientRoute> };

const docs: PublicRoute = (request, deps) => renderDocsPage(request, deps.config);

const ROUTES: Record<string, RouteEntry> = {
  "/": { client: false, methods: { GET: docs } },
  "/docs": { client: false, methods: { GET: docs } },
  "/health": { client: false, methods: { GET: healthResponse } },
  "/v1/models": { client: true, methods: { GET: modelsResponse } },
  "/v1/chat/completions": { client: true, methods: { POST: handleChatCompletions } },
  "/v1/messages": { client: true, methods: { POST: handleMessages } },
  "/v1/messages/count_tokens": { client: true, methods: { POST: handleCountTokens } },
  "/v1/complete": { client: true, methods: { POST: handleComplete } },
  "/v1/key": { client: true, methods: { GET: keyInfoResponse } },
};

function healthResponse(): Response {
  return Response.json({ status: "ok", version: VERSION });
}

async function keyInfoResponse(_request: Request, ctx: RouteContext): Promise<Response> {
  ctx.admission.hurry();
  await ctx.admission; // the remaining count includes this request
  return Response.json(await ctx.deps.governance.describe(ctx.caller));
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
  deps: AppDeps,
  path: string,
  trace: RequestTrace,
) {
  if (path.startsWith("/admin/") || path === "/admin") return handleAdmin(request, deps);
  const entry = ROUTES[path];
  if (!entry) {
    throw new ApiError(
      404,
      "not_found",
      `Unknown path ${path}: see GET / for the routes this gateway serves`,
    );
  }
  const method = request.method === "HEAD" && !entry.methods.HEAD ? "GET" : request.method;
  if (!Object.hasOwn(entry.methods, method)) {
    const allowed = Object.keys(entry.methods).join(", ");
    throw new ApiError(
      405,
      "method_not_allowed",
      `Method ${request.method} is not allowed on ${path}: use ${allowed}`,
      {
        headers: { allow: allowed },
      },
    );
  }
  if (!entry.client) {
    return entry.methods[method](request, deps);
  }
  const admission = deps.governance.admit(clientKey(request));
  // Handled here so that a refusal of an early start, awaited below, is never "unhandled".
  admission.catch(() => {});
  const caller = admission.early ?? (await admission).caller;
  trace.user = caller.user;
  let response: Response;
  try {
    response = await entry.methods[method](request, { deps, caller, admission, trace });
  } catch (error) {
    admission.hurry();
    const { headers } = await admission; // a refusal outranks what the route ran into
    if (error instanceof ApiError) Object.assign(error.headers, headers);
    throw error;
  }
  admission.hurry();
  try {
    return withHeaders(response, (await admission).headers);
  } catch (refusal) {
    await response.body?.cancel();
    throw refusal;
  }
}

/** Paths made only of these need no normalizing: `new URL()` would return them as they are. */
const PLAIN_PATH = /^\/[A-Za-z0-9/_-]*$/;

/** The pathname of an absolute URL; the URL parser only for paths it could change. */
function pathOf(url: string): string {
  const authority = url.indexOf("//") + 2;
  let end = url.length;
  for (const mark of ["?", "#"]) {
    const at = url.indexOf(mark, authority);
    if (at !== -1 && at < end) end = at;
  }
  const start = url.indexOf("/", authority);
  if (start !== -1 && start < end) {
    const path = url.slice(start, end);
    if (PLAIN_PATH.test(path)) return path;
  }
  return new URL(url).pathname;
}

/** Builds the gateway's request handler. */
export function createHandler(deps: Deps): (request: Request) => Promise<Response> {
  const full: AppDeps = {
    fetch: globalThis.fetch,
    now: Date.now,
    keepaliveMs: 15_000,
    log: console.log,
    ...deps,
  };
  return async (request) => {
    const started = performance.now();
    const path = pathOf(request.url).replace(/\/+$/, "") || "/";
    const trace: RequestTrace = {};
    if (full.config.debugMode) {
      logDebug(full.log, "client request", {
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
      });
    }
    let response: Response;
    let failure: string | undefined;
    try {
      response = await dispatch(request, full, path, trace);
    } catch (error) {
      const apiError = toApiError(error);
      failure = apiError.status === 500 ? String(error) : apiError.message;
      response = errorResponse(apiError, dialectOf(request, path));
    }
    const log = () =>
      logRequest(full.log, {
        method: request.method,
        path,
        status: response.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        model: trace.model,
        user: trace.user,
        upstreamRequestId: trace.upstreamRequestId,
        error: failure ?? trace.streamError,
      });
    if (trace.streamEnd) trace.streamEnd.then(log);
    else log();
    return response;
  };
}
