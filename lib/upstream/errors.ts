/** Z.ai error bodies and business codes → the gateway's ApiError (contract's error table). */

import { ApiError } from "../core/errors.ts";

const AUTH_CODES = new Set(["1000", "1001", "1002", "1003", "1004"]);
const INVALID_CODES = new Set([
  "1200",
  "1210",
  "1211",
  "1212",
  "1213",
  "1214",
  "1215",
  "1231",
  "1261",
  "1300",
  "1301",
]);
const QUOTA_CODES = new Set([
  "1110",
  "1112",
  "1113",
  "1121",
  "1304",
  "1308",
  "1309",
  "1310",
  "1311",
]);
const RATE_CODES = new Set(["1302", "1303", "1313"]);
const OVERLOAD_CODES = new Set(["1305", "1312"]);

/** Default wait suggested for upstream rate limits without a reset time. */
const DEFAULT_RETRY_SECONDS = 60;

/** Z.ai's `{code, message}` from any of its error body shapes. */
export function parseZaiError(body: unknown): { code?: string; message?: string } {
  if (typeof body === "string") return { message: body.slice(0, 500) || undefined };
  if (!body || typeof body !== "object") return {};
  const record = body as Record<string, unknown>;
  const inner =
    (record.error && typeof record.error === "object" ? record.error : record) as Record<
      string,
      unknown
    >;
  const code = inner.code ?? inner.type;
  return {
    code: code === undefined || code === null ? undefined : String(code),
    message: typeof inner.message === "string" ? inner.message : undefined,
  };
}

/** Seconds until a "reset at YYYY-MM-DD HH:MM:SS" time in Z.ai's clock (UTC+8), if the message has one. */
export function secondsUntilReset(message: string, now = Date.now()): number | undefined {
  const match = message.match(/(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/);
  if (!match) return undefined;
  const reset = Date.parse(`${match[1]}T${match[2]}+08:00`);
  if (Number.isNaN(reset)) return undefined;
  return Math.max(1, Math.ceil((reset - now) / 1000));
}

function retryAfterOf(header: string | null, message: string): number {
  const fromHeader = header ? Number(header) : NaN;
  if (Number.isFinite(fromHeader) && fromHeader > 0) return fromHeader;
  return secondsUntilReset(message) ?? DEFAULT_RETRY_SECONDS;
}

/** Maps an upstream error (HTTP status + body) to what the client sees. */
export function upstreamError(
  status: number,
  body: unknown,
  retryAfterHeader: string | null = null,
): ApiError {
  const { code, message: upstreamMessage } = parseZaiError(body);
  const detail = `${code ? `[${code}] ` : ""}${upstreamMessage ?? `HTTP ${status}`}`;
  const options = { code: code ? `zai_${code}` : `upstream_${status}` };
  if ((code && AUTH_CODES.has(code)) || status === 401 || status === 403) {
    return new ApiError(
      502,
      "upstream",
      `Z.ai refused the gateway's own key (${detail}): the operator must check UPSTREAM_API_KEY; your key is fine`,
      options,
    );
  }
  if (code && QUOTA_CODES.has(code)) {
    const retryAfter = retryAfterOf(retryAfterHeader, upstreamMessage ?? "");
    return new ApiError(
      429,
      "quota",
      `Z.ai quota exhausted (${detail}): retry after ${retryAfter} s`,
      {
        ...options,
        retryAfter,
      },
    );
  }
  if ((code && (RATE_CODES.has(code) || OVERLOAD_CODES.has(code))) || status === 429) {
    const retryAfter = retryAfterOf(retryAfterHeader, upstreamMessage ?? "");
    const kind = code && OVERLOAD_CODES.has(code) ? "overloaded" : "rate_limit";
    return new ApiError(
      429,
      kind,
      `Z.ai is rate limiting (${detail}): retry after ${retryAfter} s`,
      {
        ...options,
        retryAfter,
      },
    );
  }
  if ((code && INVALID_CODES.has(code)) || status === 400 || status === 422) {
    return new ApiError(400, "invalid_request", `Z.ai rejected the request: ${detail}`, options);
  }
  if (status >= 500) {
    return new ApiError(502, "upstream", `Z.ai failed (${detail}): retry later`, options);
  }
  return new ApiError(
    502,
    "upstream",
    `Z.ai answered HTTP ${status} (${detail}): check UPSTREAM_URL, or retry later`,
    options,
  );
}

/** The family of a Z.ai business code, for the key pool and retries. */
export type ZaiCodeClass = "auth" | "invalid" | "quota" | "rate" | "overload";

/** Which family a Z.ai code belongs to (undefined: none known). */
export function zaiCodeClass(code: string | undefined): ZaiCodeClass | undefined {
  if (code === undefined) return undefined;
  if (AUTH_CODES.has(code)) return "auth";
  if (INVALID_CODES.has(code)) return "invalid";
  if (QUOTA_CODES.has(code)) return "quota";
  if (RATE_CODES.has(code)) return "rate";
  if (OVERLOAD_CODES.has(code)) return "overload";
  return undefined;
}
