/** The gateway's one route table: every path, who may call it, and the handler of each method. */

import {
  type AnthropicContext,
  handleComplete,
  handleCountTokens,
  handleMessages,
} from "./anthropic/routes.ts";
import type { Config } from "./core/config.ts";
import type { LogSink, RequestTrace } from "./core/log.ts";
import type { Service } from "./core/services.ts";
import { ADMIN_ROUTES, type AdminContext } from "./admin/routes.ts";
import { CONSOLE_API_ROUTES } from "./admin/console_api.ts";
import { renderConsolePage } from "./admin/console_page.ts";
import type { RecentRequests } from "./admin/recent_requests.ts";
import { renderDocsPage } from "./docs_page/page.ts";
import type { Admission, Governance } from "./governance/governance.ts";
import { handleChatCompletions } from "./openai/route.ts";
import { handleResponses, responseNotStored } from "./responses/route.ts";
import { healthResponse, keyInfoResponse, modelsResponse } from "./routes.ts";
import type { Upstream } from "./upstream/client.ts";

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
export interface ServedService {
  service: Readonly<Service>;
  upstream: Upstream;
}

/** Deps with every optional filled in, and one upstream per service built from them. */
export interface AppDeps extends Required<Deps> {
  /** This process's most recent client requests, for the console. */
  recent: RecentRequests;
  /** Every service by slug, in the configured order. */
  services: Map<string, ServedService>;
  /** The first service: the one the root routes serve. */
  defaultService: ServedService;
}

/** What every handler gets besides the request. */
export interface RequestContext {
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

/** What a client route gets: a chat context (with KV for the Anthropic routes) and its admission. */
export type ClientContext = AnthropicContext & Pick<Admission, "caller" | "decision"> & {
  governance: Governance;
};

export type PublicHandler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;
export type ClientHandler = (request: Request, ctx: ClientContext) => Promise<Response> | Response;
export type AdminHandler = (request: Request, ctx: AdminContext) => Promise<Response>;

export type Route =
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
export function findRoute(
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
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

/** Whether CORS applies: a client route, or anything under `/v1/` (so its 404 is readable). */
export function isClientPath(path: string): boolean {
  return path.startsWith("/v1/") || findRoute(path)?.route.access === "client";
}
