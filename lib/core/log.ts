/** Structured logs, one JSON line per request; keys and tokens are always redacted. */

/** What one request log line holds. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  model?: string;
  user?: string;
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

/** A sink for log lines; tests pass their own. */
export type LogSink = (line: string) => void;

/** A sink that holds lines for a moment; `flush()` writes what it holds now. */
export type BufferedLogSink = LogSink & { flush(): void };

/** Writes bytes in full, synchronously (stdout by default). */
export type SyncWriter = (bytes: Uint8Array) => number;

const utf8 = new TextEncoder();

/**
 * Where the gateway's log lines go: on Deno Deploy, which records each `console.log` call as one
 * entry, a `console.log` per line; elsewhere {@link batchedLog}.
 */
export function processLog(onDeploy: boolean): BufferedLogSink {
  if (onDeploy) return Object.assign((line: string) => console.log(line), { flush: () => {} });
  return batchedLog();
}

/**
 * The process's log on stdout, one write per turn of the event loop: the lines of every request
 * that finished in the same turn go out together (at 32 clients, 16–24 µs less CPU per request
 * than a `console.log` per line, measured A/B). A write that fails (stdout closed) drops its lines
 * rather than the process. Call `flush()` before exiting.
 */
export function batchedLog(write: SyncWriter = (bytes) => Deno.stdout.writeSync(bytes)) {
  let held: string[] = [];
  const flush = () => {
    if (held.length === 0) return;
    let bytes = utf8.encode(held.join("\n") + "\n");
    held = [];
    try {
      while (bytes.length > 0) {
        const written = write(bytes);
        if (written <= 0) break;
        bytes = bytes.subarray(written);
      }
    } catch {
      // Nowhere to write to: the lines are lost, the gateway goes on.
    }
  };
  const sink = (line: string) => {
    if (held.push(line) === 1) setTimeout(flush, 0);
  };
  return Object.assign(sink, { flush }) satisfies BufferedLogSink;
}

/** Writes one structured request line. */
export function logRequest(sink: LogSink, entry: RequestLog): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), ...entry })));
}

/** Writes one debug line (DEBUG_MODE only), redacted. */
export function logDebug(sink: LogSink, label: string, detail: unknown): void {
  sink(redact(JSON.stringify({ time: new Date().toISOString(), debug: label, detail })));
}
