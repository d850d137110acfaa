/** Structured logs, one JSON line per request; keys and tokens are always redacted. */

/** What one request log line holds. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  model?: string;
  user?: string;
  /** The slug of the service a client request was for. */
  service?: string;
  keyId?: string;
  promptTokens?: number;
  completionTokens?: number;
  upstreamRequestId?: string;
  /** Milliseconds the request waited for an upstream slot. */
  queuedMs?: number;
  error?: string;
}

/** Key-shaped strings and what each becomes; `$1` keeps a field name or scheme. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/sk-[A-Za-z0-9._-]{4,}/g, "sk-[redacted]"],
  // Z.ai keys: a 32-hex id, a dot, a secret.
  [/\b[0-9a-fA-F]{32}\.[A-Za-z0-9]{8,}/g, "[redacted]"],
  // JSON Web Tokens (Z.ai accepts them signed with a key).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, "[redacted]"],
  [/(Bearer\s+)[^\s"',<]+/gi, "$1[redacted]"],
  [/\b(Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/g, "$1[redacted]"],
  [
    /("(?:x-api-key|authorization|cookie|api[_-]?key|key|token|password|secret)"\s*:\s*")([^"]*)/gi,
    "$1[redacted]",
  ],
  // Header lines: `x-api-key: value` (an `Authorization: Bearer …` is handled above).
  [
    /\b((?:x-api-key|api-key|authorization|proxy-authorization|cookie)\s*:\s*)(?!(?:Bearer|Basic)\s)([^\s"',<;]+)/gi,
    "$1[redacted]",
  ],
  [/\b((?:api[_-]?key|key|token|password|secret)=)([^&\s"]+)/gi, "$1[redacted]"],
];

/**
 * Replaces anything that looks like a key or token with `[redacted]`, and every one of `secrets`
 * (e.g. the configured upstream keys) wherever it appears, whatever its shape.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  for (const secret of secrets) {
    if (secret) text = text.replaceAll(secret, "[redacted]");
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) text = text.replace(pattern, replacement);
  return text;
}

/** A sink for log lines (`console.log` in production); tests pass their own. */
export type LogSink = (line: string) => void;

/** What a request's log line reports beyond method, path and status; routes fill it in. */
export interface RequestTrace {
  /** Set for client routes: their requests join the console's recent requests. */
  client?: boolean;
  model?: string;
  upstreamRequestId?: string;
  user?: string;
  /** The slug of the service the request was for (client routes and `/s/{slug}`). */
  service?: string;
  /** The id of the client key (never the key itself). */
  keyId?: string;
  /** The metered usage of the request, once known. */
  promptTokens?: number;
  completionTokens?: number;
  /** Set by streaming routes: resolves when the stream has ended. */
  streamEnd?: Promise<void>;
  /** Why a stream ended early, if it did. */
  streamError?: string;
  /** Milliseconds the request waited for an upstream slot (set once it went upstream). */
  queuedMs?: number;
}

/** Writes one structured request line. */
export function logRequest(sink: LogSink, entry: RequestLog): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), ...entry })));
}

/** Writes one debug line (DEBUG_MODE only), redacted. */
export function logDebug(sink: LogSink, label: string, detail: unknown): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), debug: label, detail })));
}
