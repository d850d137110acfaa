/** Z.ai error bodies and business codes → the gateway's ApiError (contract's error table). */

import { ApiError } from "../core/errors.ts";
import { redact } from "../core/log.ts";

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

/** What is read of an upstream error body at most; the rest is never read. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Characters of Z.ai's own message a client sees at most. */
const MAX_SHOWN = 500;
/** Characters of an upstream body the log line keeps. */
const MAX_LOGGED = 2000;
/** What a Z.ai business code looks like (`1302`, `500`, `invalid_request_error`). */
const CODE_SHAPE = /^[A-Za-z0-9_.-]{1,40}$/;

/** Default wait suggested for upstream rate limits without a reset time. */
const DEFAULT_RETRY_SECONDS = 60;

/** `{code, message}` from a JSON error body (Z.ai's shapes, or `{"error": "…"}`); nothing from text. */
export function parseZaiError(body: unknown): { code?: string; message?: string } {
  if (!body || typeof body !== "object") return {};
  const record = body as Record<string, unknown>;
  if (typeof record.error === "string") return { message: record.error };
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

/** How {@link upstreamError} treats what upstream sent. */
export interface UpstreamErrorOptions {
  /** The response's `Retry-After` header. */
  retryAfter?: string | null;
  /** Strings never to pass on, whatever their shape: the configured upstream keys. */
  secrets?: readonly string[];
}

/** Z.ai's code and message as a client may see them: redacted, short, a code only if code-like. */
function clientDetail(
  body: unknown,
  secrets: readonly string[],
): { code?: string; message?: string; raw?: string } {
  const { code, message } = parseZaiError(body);
  const safeCode = code !== undefined && CODE_SHAPE.test(code) && redact(code, secrets) === code
    ? code
    : undefined;
  const shown = message === undefined
    ? undefined
    : clip(redactedStart(message, secrets), MAX_SHOWN);
  return { code: safeCode, message: shown || undefined, raw: message };
}

/** The log's account of what upstream sent: redacted, whitespace folded, clipped. */
function logDetail(body: unknown, secrets: readonly string[]): string | undefined {
  const text = typeof body === "string" ? body : JSON.stringify(body) ?? "";
  if (text.trim() === "") return undefined;
  const excerpt = clip(redactedStart(text, secrets).replace(/\s+/g, " "), MAX_LOGGED);
  return `upstream body: ${excerpt}`;
}

/**
 * The start of `text`, redacted. Redaction runs on a prefix well past what is shown, so that a key
 * cut by the prefix is never within what is shown, and a huge text costs no more than the prefix.
 */
function redactedStart(text: string, secrets: readonly string[]): string {
  return redact(text.slice(0, MAX_ERROR_BODY_BYTES), secrets);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Maps an upstream error (HTTP status + body: its JSON, or its text) to what the client sees.
 * Clients get a short message with Z.ai's code and message when it sent a JSON error, both
 * redacted; anything else upstream sent (an HTML page of a proxy, say) goes only to the log, as
 * the error's redacted `cause`.
 */
export function upstreamError(
  status: number,
  body: unknown,
  options: UpstreamErrorOptions = {},
): ApiError {
  const secrets = options.secrets ?? [];
  const { code, message: zaiMessage, raw } = clientDetail(body, secrets);
  const detail = [code && `[${code}]`, zaiMessage].filter(Boolean).join(" ") || undefined;
  const said = detail ? ` (${detail})` : "";
  const base = {
    code: code ? `zai_${code}` : `upstream_${status}`,
    cause: logDetail(body, secrets),
  };
  if ((code && AUTH_CODES.has(code)) || status === 401 || status === 403) {
    return new ApiError(
      502,
      "upstream",
      `Z.ai refused the gateway's own key${said}: the operator must check UPSTREAM_API_KEY; your key is fine`,
      base,
    );
  }
  if (code && QUOTA_CODES.has(code)) {
    const retryAfter = retryAfterOf(options.retryAfter ?? null, raw ?? "");
    return new ApiError(429, "quota", `Z.ai quota exhausted${said}: retry after ${retryAfter} s`, {
      ...base,
      retryAfter,
    });
  }
  if ((code && (RATE_CODES.has(code) || OVERLOAD_CODES.has(code))) || status === 429) {
    const retryAfter = retryAfterOf(options.retryAfter ?? null, raw ?? "");
    const kind = code && OVERLOAD_CODES.has(code) ? "overloaded" : "rate_limit";
    return new ApiError(429, kind, `Z.ai is rate limiting${said}: retry after ${retryAfter} s`, {
      ...base,
      retryAfter,
    });
  }
  if ((code && INVALID_CODES.has(code)) || status === 400 || status === 422) {
    return new ApiError(
      400,
      "invalid_request",
      `Z.ai rejected the request${detail ? `: ${detail}` : ` (HTTP ${status})`}`,
      base,
    );
  }
  if (status >= 500) {
    const failed = detail ? `Z.ai failed${said}` : `Z.ai answered ${status}`;
    return new ApiError(502, "upstream", `${failed}: retry later`, base);
  }
  return new ApiError(
    502,
    "upstream",
    `Z.ai answered ${status}${said}: check UPSTREAM_URL, or retry later`,
    base,
  );
}

/**
 * An upstream error body, read up to {@link MAX_ERROR_BODY_BYTES} (the rest is cancelled, never
 * read): its JSON, or its text when it is not JSON (or was cut).
 */
export async function readErrorBody(response: Response): Promise<unknown> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      const kept = value.subarray(0, MAX_ERROR_BODY_BYTES - size);
      size += kept.length;
      text += decoder.decode(kept, { stream: true });
    }
  } catch {
    // The body broke off (timeout, reset): what arrived is all there is.
  }
  reader.cancel().catch(() => {});
  text += decoder.decode();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
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
