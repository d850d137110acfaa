/** One error type for the whole gateway, rendered per client dialect in one place. */

/** Which API family a route speaks; errors are rendered in its dialect. */
export type Dialect = "openai" | "anthropic";

/** What went wrong, independent of dialect. */
export type ErrorKind =
  | "invalid_request"
  | "authentication"
  | "permission"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "request_too_large"
  | "rate_limit"
  | "quota"
  | "upstream"
  | "overloaded"
  | "timeout"
  | "unavailable";

/** Optional details of an {@link ApiError}. */
export interface ApiErrorOptions {
  /** The request field at fault, for 400s. */
  param?: string;
  /** A machine-readable code (for upstream errors, Z.ai's business code). */
  code?: string;
  /** Seconds the client should wait; sets `Retry-After`. */
  retryAfter?: number;
  /** Extra response headers (e.g. rate-limit headers). */
  headers?: Record<string, string>;
  /** Detail for the log line only, never sent to a client (the log redacts key shapes only). */
  cause?: string;
}

/** An error a client sees: HTTP status, kind, and a message that says what to do. */
export class ApiError extends Error {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly param?: string;
  readonly code?: string;
  readonly retryAfter?: number;
  readonly headers: Record<string, string>;

  constructor(status: number, kind: ErrorKind, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    this.param = options.param;
    this.code = options.code;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }
}

/** A 400 naming the field at fault. */
export function invalidField(param: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", message, { param });
}

const OPENAI_TYPES: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  quota: "insufficient_quota",
  upstream: "api_error",
  overloaded: "rate_limit_error",
  timeout: "timeout_error",
  unavailable: "api_error",
};

const ANTHROPIC_TYPES: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  conflict: "invalid_request_error",
  request_too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  quota: "rate_limit_error",
  upstream: "api_error",
  overloaded: "overloaded_error",
  timeout: "api_error",
  unavailable: "api_error",
};

const DEFAULT_CODES: Record<ErrorKind, string> = {
  invalid_request: "invalid_request",
  authentication: "invalid_api_key",
  permission: "permission_denied",
  not_found: "not_found",
  method_not_allowed: "method_not_allowed",
  conflict: "conflict",
  request_too_large: "request_too_large",
  rate_limit: "rate_limit_exceeded",
  quota: "insufficient_quota",
  upstream: "upstream_error",
  overloaded: "overloaded",
  timeout: "upstream_timeout",
  unavailable: "service_unavailable",
};

/** Turns anything thrown into an {@link ApiError}; unknown errors become a 500 that hides details. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    500,
    "upstream",
    "Internal error in the gateway: please retry, and report it if it persists",
  );
}

/** The JSON error body in a dialect. */
export function errorBody(error: ApiError, dialect: Dialect): Record<string, unknown> {
  if (dialect === "anthropic") {
    return { type: "error", error: { type: ANTHROPIC_TYPES[error.kind], message: error.message } };
  }
  const body: Record<string, unknown> = {
    message: error.message,
    type: OPENAI_TYPES[error.kind],
    code: error.code ?? DEFAULT_CODES[error.kind],
  };
  if (error.param !== undefined) body.param = error.param;
  return { error: body };
}

/** The headers an error response carries besides its body (Retry-After and any extras). */
export function errorHeaders(error: ApiError): Headers {
  const headers = new Headers(error.headers);
  headers.set("content-type", "application/json");
  if (error.retryAfter !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(error.retryAfter))));
  }
  return headers;
}

/** Renders an error as a JSON response in the route's dialect. */
export function errorResponse(error: unknown, dialect: Dialect): Response {
  const apiError = toApiError(error);
  return new Response(JSON.stringify(errorBody(apiError, dialect)), {
    status: apiError.status,
    headers: errorHeaders(apiError),
  });
}
