/** CORS for the client routes: the preflight answer and the headers every client response carries. */

/** Request headers a preflight always allows: what the OpenAI and Anthropic SDKs send. */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  "authorization",
  "x-api-key",
  "content-type",
  "accept",
  "anthropic-version",
  "anthropic-beta",
  "anthropic-dangerous-direct-browser-access",
  "openai-beta",
  "openai-organization",
  "openai-project",
  "x-stainless-arch",
  "x-stainless-async",
  "x-stainless-helper-method",
  "x-stainless-lang",
  "x-stainless-os",
  "x-stainless-package-version",
  "x-stainless-retry-count",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-timeout",
];

/** Response headers a browser script may read. */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "retry-after",
];

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 86_400;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_ECHOED_HEADERS = 64;

/** The `Access-Control-Allow-Origin` value for a request, or undefined when its origin may not call. */
export function allowedOrigin(origins: readonly string[], request: Request): string | undefined {
  if (origins.includes("*")) return "*";
  const origin = request.headers.get("origin")?.trim().toLowerCase();
  return origin && origins.includes(origin) ? origin : undefined;
}

/** Adds the CORS headers of a client-route answer (errors and streams included) to `response`. */
export function withCors(
  response: Response,
  origins: readonly string[],
  request: Request,
): Response {
  const origin = allowedOrigin(origins, request);
  try {
    if (origin !== "*") response.headers.append("vary", "Origin");
    if (origin === undefined) return response;
    response.headers.set("access-control-allow-origin", origin);
    response.headers.set("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
  } catch {
    // Immutable headers (a Response.error()): nothing to add to.
  }
  return response;
}

/**
 * The headers a preflight asks for (`Access-Control-Request-Headers`) that are header names,
 * added to {@link CORS_ALLOWED_HEADERS}: keys travel in headers, never in cookies, so any header
 * a browser script may send is allowed.
 */
function allowedHeaders(request: Request): string[] {
  const requested = (request.headers.get("access-control-request-headers") ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => HEADER_NAME.test(name))
    .slice(0, MAX_ECHOED_HEADERS);
  return [...new Set([...CORS_ALLOWED_HEADERS, ...requested])];
}

/** The 204 answer to an `OPTIONS` preflight on a client route that serves `methods`. */
export function preflightResponse(
  origins: readonly string[],
  request: Request,
  methods: readonly string[],
): Response {
  const allow = [...new Set([...methods, "OPTIONS"])].join(", ");
  const response = new Response(null, {
    status: 204,
    headers: {
      allow,
      "access-control-allow-methods": allow,
      "access-control-allow-headers": allowedHeaders(request).join(", "),
      "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
      vary: "Access-Control-Request-Headers",
    },
  });
  return withCors(response, origins, request);
}
