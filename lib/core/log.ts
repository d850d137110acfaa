/** Structured logs, one JSON line per request; keys and tokens are always redacted. */

/** What one request log line holds. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  model?: string;
  user?: string;
  keyId?: string;
  promptTokens?: number;
  completionTokens?: number;
  upstreamRequestId?: string;
  error?: string;
}

const SECRET_PATTERNS: RegExp[] = [
  /sk-[A-Za-z0-9._-]{4,}/g,
  /(Bearer\s+)[^\s"',]+/gi,
  /("(?:x-api-key|authorization|cookie|api[_-]?key|key|token|password|secret)"\s*:\s*")([^"]*)/gi,
  /\b((?:api[_-]?key|key|token|password|secret)=)([^&\s"]+)/gi,
];

/** Replaces anything that looks like a key or token with `[redacted]`. */
export function redact(text: string): string {
  return text
    .replace(SECRET_PATTERNS[0], "sk-[redacted]")
    .replace(SECRET_PATTERNS[1], "$1[redacted]")
    .replace(SECRET_PATTERNS[2], "$1[redacted]")
    .replace(SECRET_PATTERNS[3], "$1[redacted]");
}

/** A sink for log lines (`console.log` in production); tests pass their own. */
export type LogSink = (line: string) => void;

/** What a request's log line reports beyond method, path and status; routes fill it in. */
export interface RequestTrace {
  model?: string;
  upstreamRequestId?: string;
  user?: string;
  /** The id of the client key (never the key itself). */
  keyId?: string;
  /** The metered usage of the request, once known. */
  promptTokens?: number;
  completionTokens?: number;
  /** Set by streaming routes: resolves when the stream has ended. */
  streamEnd?: Promise<void>;
  /** Why a stream ended early, if it did. */
  streamError?: string;
}

/** Writes one structured request line. */
export function logRequest(sink: LogSink, entry: RequestLog): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), ...entry })));
}

/** Writes one debug line (DEBUG_MODE only), redacted. */
export function logDebug(sink: LogSink, label: string, detail: unknown): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), debug: label, detail })));
}
