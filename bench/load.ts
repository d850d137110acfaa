/**
 * The benchmark's load generator, in a process of its own. It reads one JSON job per line on stdin
 * and answers each with JSON lines on stdout (the last one has `"done": true`). Jobs:
 *
 * - `closed`: `concurrency` workers send the same request back to back for `durationMs`; latency
 *   is from the call to the last byte of the body.
 * - `stream`: `count` streaming requests one after another: time to the response headers, to the
 *   first body byte, to the first content token, and to the end.
 * - `hold`: opens `streams` streams at once, reports `"open"` when each has its first byte, keeps
 *   reading them for `holdMs`, then aborts them all.
 *
 * Usage: deno run -A bench/load.ts  (driven by bench/run.ts)
 */

/** One HTTP request to replay. */
export interface RequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A job for the load generator. */
export type Job =
  | { op: "closed"; id: number; request: RequestSpec; concurrency: number; durationMs: number }
  | { op: "stream"; id: number; request: RequestSpec; count: number }
  | { op: "hold"; id: number; request: RequestSpec; streams: number; holdMs: number };

/** What a `closed` job reports. */
export interface ClosedResult {
  id: number;
  done: true;
  ok: number;
  errors: number;
  errorSample?: string;
  elapsedMs: number;
  /** Milliseconds per successful request. */
  latencies: number[];
}

/** What a `stream` job reports, in milliseconds per stream. */
export interface StreamResult {
  id: number;
  done: true;
  errors: number;
  errorSample?: string;
  headers: number[];
  firstByte: number[];
  firstToken: number[];
  total: number[];
  bytes: number[];
}

/** What a `hold` job reports: first when every stream is open (`open`), then at the end. */
export interface HoldResult {
  id: number;
  done: boolean;
  opened: number;
  errors: number;
  errorSample?: string;
  /** Time until the last stream had its first byte. */
  openMs: number;
  /** Body bytes received over all streams (at the end). */
  bytes?: number;
}

const CONTENT_TOKEN = /"content":"[^"]/;

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function post(request: RequestSpec, signal?: AbortSignal): Promise<Response> {
  return fetch(request.url, {
    method: "POST",
    headers: request.headers,
    body: request.body,
    signal,
  });
}

async function failureText(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  return `HTTP ${response.status}: ${text.slice(0, 300)}`;
}

async function runClosed(job: Extract<Job, { op: "closed" }>): Promise<ClosedResult> {
  const latencies: number[] = [];
  let errors = 0;
  let errorSample: string | undefined;
  const started = performance.now();
  const deadline = started + job.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const response = await post(job.request);
        if (response.status !== 200) {
          errors++;
          errorSample ??= await failureText(response);
          continue;
        }
        await response.arrayBuffer();
        latencies.push(round(performance.now() - t0));
      } catch (error) {
        errors++;
        errorSample ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return {
    id: job.id,
    done: true,
    ok: latencies.length,
    errors,
    errorSample,
    elapsedMs: round(performance.now() - started),
    latencies,
  };
}

async function runStreams(job: Extract<Job, { op: "stream" }>): Promise<StreamResult> {
  const result: StreamResult = {
    id: job.id,
    done: true,
    errors: 0,
    headers: [],
    firstByte: [],
    firstToken: [],
    total: [],
    bytes: [],
  };
  const decoder = new TextDecoder();
  for (let i = 0; i < job.count; i++) {
    const t0 = performance.now();
    try {
      const response = await post(job.request);
      const headers = performance.now() - t0;
      if (response.status !== 200 || !response.body) {
        result.errors++;
        result.errorSample ??= await failureText(response);
        continue;
      }
      let firstByte = 0;
      let firstToken = 0;
      let bytes = 0;
      let tail = "";
      for await (const chunk of response.body) {
        const at = performance.now() - t0;
        if (!firstByte) firstByte = at;
        bytes += chunk.byteLength;
        if (!firstToken) {
          const text = tail + decoder.decode(chunk, { stream: true });
          if (CONTENT_TOKEN.test(text)) firstToken = at;
          tail = text.slice(-32);
        }
      }
      result.headers.push(round(headers));
      result.firstByte.push(round(firstByte));
      result.firstToken.push(round(firstToken));
      result.total.push(round(performance.now() - t0));
      result.bytes.push(bytes);
    } catch (error) {
      result.errors++;
      result.errorSample ??= String(error);
    }
  }
  return result;
}

async function runHold(
  job: Extract<Job, { op: "hold" }>,
  report: (line: HoldResult) => void,
): Promise<HoldResult> {
  const abort = new AbortController();
  const state = { opened: 0, errors: 0, bytes: 0, errorSample: undefined as string | undefined };
  const started = performance.now();
  const firstBytes: Promise<void>[] = [];
  const drains: Promise<void>[] = [];
  for (let i = 0; i < job.streams; i++) {
    const { promise: opened, resolve } = Promise.withResolvers<void>();
    firstBytes.push(opened);
    drains.push((async () => {
      try {
        const response = await post(job.request, abort.signal);
        if (response.status !== 200 || !response.body) {
          state.errors++;
          state.errorSample ??= await failureText(response);
          return;
        }
        // Aborting the fetch does not end a body already being read: cancel the reader too.
        const reader = response.body.getReader();
        abort.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
        let first = true;
        while (true) {
          const { done, value } = await reader.read();
          if (done) break;
          state.bytes += value.byteLength;
          if (first) {
            first = false;
            state.opened++;
            resolve();
          }
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          state.errors++;
          state.errorSample ??= String(error);
        }
      } finally {
        resolve();
      }
    })());
  }
  await Promise.all(firstBytes);
  const openMs = round(performance.now() - started);
  report({ id: job.id, done: false, opened: state.opened, errors: state.errors, openMs });
  await new Promise((resolve) => setTimeout(resolve, job.holdMs));
  abort.abort();
  await Promise.all(drains);
  return {
    id: job.id,
    done: true,
    opened: state.opened,
    errors: state.errors,
    errorSample: state.errorSample,
    openMs,
    bytes: state.bytes,
  };
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let newline;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer.trim()) yield buffer;
}

const encoder = new TextEncoder();

function send(value: unknown): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
}

if (import.meta.main) {
  for await (const line of lines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    const job = JSON.parse(line) as Job;
    if (job.op === "closed") send(await runClosed(job));
    else if (job.op === "stream") send(await runStreams(job));
    else send(await runHold(job, send));
  }
}
