/**
 * A Z.ai imitation for tests and the benchmark, with its quirks: no `object` field, the role in
 * every delta, a leading "\n" content chunk, reasoning deltas, finish_reason only at the end (twice
 * for tool calls), whole tool calls in one chunk unless `tool_stream`, usage only in the last chunk,
 * Z.ai error bodies. Like Z.ai it limits how many requests one key may have in flight (1302 beyond
 * it), refuses a spent key (1308 with a reset time), and can fail each request's first attempt. It
 * records every request it receives and every stream a client abandoned.
 */

/** A scripted answer: what the model "says". Unset fields follow the request (echo). */
export interface AnswerScript {
  kind: "answer";
  reasoning?: string;
  text?: string;
  /** The text, computed from the request body (e.g. to quote a tool result); wins over `text`. */
  // deno-lint-ignore no-explicit-any
  reply?: (body: any) => string;
  toolCalls?: { name: string; arguments: string }[];
  finish?: string;
  /** Send finish_reason on the last two chunks, as Z.ai does after tool calls. */
  repeatFinish?: boolean;
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number } | null;
  /** Delay before the response headers. */
  delayMs?: number;
  /** Delay before each stream chunk. */
  chunkDelayMs?: number;
  /** Delay before the first stream chunk (default: chunkDelayMs); 0 sends it with the headers. */
  firstChunkDelayMs?: number;
  /** Split the text into this many chunks (default: by word). */
  textChunks?: number;
  /** Stream: stop after this many chunks and cut the connection. */
  resetAfterChunks?: number;
  /** Stream: send this `data:` line (raw JSON) before the end, e.g. a Z.ai error object. */
  injectData?: string;
}

/** A scripted failure before the body: an HTTP status with a Z.ai error body. */
export interface ErrorScript {
  kind: "error";
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Delay before the response. */
  delayMs?: number;
}

/** Accept the request and never answer (for timeouts). */
export interface HangScript {
  kind: "hang";
}

/** One scripted upstream behaviour. */
export type Script = AnswerScript | ErrorScript | HangScript;

/** A request the fake upstream received. */
export interface RecordedRequest {
  path: string;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** A running fake upstream. */
export interface FakeUpstream extends AsyncDisposable {
  /** Base URL to use as UPSTREAM_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Requests whose client went away before the end of the answer. */
  aborted: number;
  /** Queues a script for the next request (FIFO); unqueued requests get an echo answer. */
  enqueue(script: Script): void;
  /** Resolves when the next stream is abandoned by its reader. */
  nextAbort(): Promise<void>;
  /** Spends `key` (1308 "… will reset at `resetAt`", Z.ai's clock), or makes it usable (null). */
  setSpent(key: string, resetAt: string | null): void;
  /** Most requests one key had in flight at once, over every key. */
  readonly maxInFlight: number;
  /** How many requests got 1302 for going over `concurrencyPerKey`. */
  readonly concurrencyRefusals: number;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

// deno-lint-ignore no-explicit-any
function lastUserText(body: any): string {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    if (Array.isArray(m.content)) {
      return m.content.filter((p: { type: string }) => p.type === "text").map((
        p: { text: string },
      ) => p.text).join(" ");
    }
  }
  return "";
}

// deno-lint-ignore no-explicit-any
function resolveAnswer(script: AnswerScript, body: any) {
  const thinking = body?.thinking?.type !== "disabled";
  const userText = lastUserText(body);
  let text = script.reply?.(body) ?? script.text ?? `Echo: ${userText}`;
  let finish = script.finish ?? (script.toolCalls?.length ? "tool_calls" : "stop");
  const stop = Array.isArray(body?.stop) ? body.stop[0] : undefined;
  if (stop && text.includes(stop)) {
    text = text.slice(0, text.indexOf(stop));
    finish = "stop";
  }
  const reasoning = script.reasoning ??
    (thinking ? `Thinking about: ${userText.slice(0, 40)}` : "");
  const completion = Math.ceil((text.length + reasoning.length) / 4);
  if (typeof body?.max_tokens === "number" && completion > body.max_tokens && !script.finish) {
    text = text.slice(0, Math.max(0, body.max_tokens * 4 - reasoning.length));
    finish = "length";
  }
  const prompt = Math.ceil(JSON.stringify(body?.messages ?? []).length / 4);
  const usage = script.usage === null ? null : {
    prompt_tokens: script.usage?.prompt_tokens ?? prompt,
    completion_tokens: script.usage?.completion_tokens ?? completion,
    total_tokens: (script.usage?.prompt_tokens ?? prompt) +
      (script.usage?.completion_tokens ?? completion),
    prompt_tokens_details: { cached_tokens: script.usage?.cached_tokens ?? 0 },
  };
  return { text, reasoning, finish, usage, toolCalls: script.toolCalls ?? [] };
}

function zaiId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  return stamp + crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

function splitText(text: string, pieces?: number): string[] {
  if (!text) return [];
  if (pieces && pieces > 0) {
    const size = Math.ceil(text.length / pieces);
    const out: string[] = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out;
  }
  return text.match(/\S*\s*/g)!.filter(Boolean);
}

// deno-lint-ignore no-explicit-any
function completionBody(script: AnswerScript, body: any): unknown {
  const answer = resolveAnswer(script, body);
  const id = zaiId();
  // deno-lint-ignore no-explicit-any
  const message: any = {
    role: "assistant",
    content: answer.toolCalls.length ? "\n\n" + answer.text : answer.text,
  };
  if (answer.reasoning) message.reasoning_content = answer.reasoning;
  if (answer.toolCalls.length) {
    message.tool_calls = answer.toolCalls.map((call, index) => ({
      function: { arguments: call.arguments, name: call.name },
      id: `call_-${Math.floor(Math.random() * 1e18)}`,
      index,
      type: "function",
    }));
  }
  return {
    choices: [{ finish_reason: answer.finish, index: 0, message }],
    created: Math.floor(Date.now() / 1000),
    id,
    model: body?.model,
    request_id: id,
    ...(answer.usage ? { usage: answer.usage } : {}),
  };
}

// deno-lint-ignore no-explicit-any
function streamLines(script: AnswerScript, body: any): string[] {
  const answer = resolveAnswer(script, body);
  const base = { id: zaiId(), created: Math.floor(Date.now() / 1000), model: body?.model };
  // deno-lint-ignore no-explicit-any
  const line = (delta: any, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ ...base, choices: [{ index: 0, ...extra, delta }] });
  const lines: string[] = [];
  if (answer.reasoning) {
    lines.push(line({ role: "assistant", content: "\n" }));
    for (const piece of splitText(answer.reasoning)) {
      lines.push(line({ role: "assistant", reasoning_content: piece }));
    }
  }
  for (const piece of splitText(answer.text, script.textChunks)) {
    lines.push(line({ role: "assistant", content: piece }));
  }
  const finishExtra = { finish_reason: answer.finish };
  if (answer.toolCalls.length) {
    answer.toolCalls.forEach((call, index) => {
      const id = `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
      if (body?.tool_stream) {
        lines.push(
          line({
            tool_calls: [{
              index,
              id,
              type: "function",
              function: { name: call.name, arguments: "" },
            }],
          }),
        );
        const half = Math.ceil(call.arguments.length / 2);
        for (const part of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
          if (part) lines.push(line({ tool_calls: [{ index, function: { arguments: part } }] }));
        }
      } else {
        const tagged = script.repeatFinish !== false ? finishExtra : {};
        lines.push(
          line({
            tool_calls: [{
              id,
              index,
              type: "function",
              function: { name: call.name, arguments: call.arguments },
            }],
          }, tagged),
        );
      }
    });
  } else if (script.repeatFinish) {
    lines.push(line({ role: "assistant", content: "" }, finishExtra));
  }
  if (script.injectData) lines.push(script.injectData);
  const final = JSON.parse(line({ role: "assistant", content: "" }, finishExtra));
  if (answer.usage) final.usage = answer.usage;
  lines.push(JSON.stringify(final));
  lines.push("[DONE]");
  return lines;
}

/** Options of {@link startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** Delay before the response headers of every answer that sets none. */
  delayMs?: number;
  /** The script of a request when none is queued (default: an echo answer). */
  script?: (body: unknown) => Script | undefined;
  /** Keep every request in `requests` (default true; the benchmark turns it off). */
  record?: boolean;
  /** The keys it accepts (default: {@link FAKE_UPSTREAM_KEY}); any other gets 401 code 1002. */
  keys?: string[];
  /** Most requests one key may have in flight; beyond it, 429 code 1302 at once. */
  concurrencyPerKey?: number;
  /** Each distinct request body fails its first attempt with this (e.g. 1305, or a 500). */
  failFirstAttempt?: ErrorScript;
}

/** Z.ai's words for going over the concurrency of a key. */
const CONCURRENCY_MESSAGE =
  "High concurrency usage of this API, please reduce concurrency or contact customer service to increase limits";

function zaiErrorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/** Starts a fake Z.ai on 127.0.0.1 with a random port. */
export function startFakeUpstream(options: FakeUpstreamOptions = {}): FakeUpstream {
  const queue: Script[] = [];
  const requests: RecordedRequest[] = [];
  const abortWaiters: (() => void)[] = [];
  const state = { aborted: 0, maxInFlight: 0, concurrencyRefusals: 0 };
  const keys = new Set(options.keys ?? [FAKE_UPSTREAM_KEY]);
  const spent = new Map<string, string>();
  const inFlight = new Map<string, number>();
  const attempted = new Set<string>();
  const onAbort = () => {
    state.aborted++;
    abortWaiters.shift()?.();
  };
  /** Counts a request of `key` in flight; the returned function ends it (once). */
  const enter = (key: string) => {
    const count = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, count);
    state.maxInFlight = Math.max(state.maxInFlight, count);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      inFlight.set(key, inFlight.get(key)! - 1);
    };
  };

  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    const text = await request.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (options.record !== false) requests.push({ path, headers: request.headers, body });
    const key = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
    const resetAt = spent.get(key);
    if (resetAt !== undefined) {
      return zaiErrorResponse(
        429,
        "1308",
        `Usage limit reached for 5 hour. Your limit will reset at ${resetAt}`,
      );
    }
    const limit = options.concurrencyPerKey;
    if (limit !== undefined && keys.has(key) && (inFlight.get(key) ?? 0) >= limit) {
      state.concurrencyRefusals++;
      return zaiErrorResponse(429, "1302", CONCURRENCY_MESSAGE);
    }
    const firstAttempt = options.failFirstAttempt && !attempted.has(text);
    if (firstAttempt) attempted.add(text);
    const script: Script = (firstAttempt ? options.failFirstAttempt : undefined) ??
      queue.shift() ?? options.script?.(body) ?? { kind: "answer" };
    const leave = enter(key);
    if (script.kind === "hang") {
      return new Promise<Response>((resolve) => {
        request.signal.addEventListener("abort", () => {
          leave();
          onAbort();
          resolve(new Response(null, { status: 499 }));
        });
      });
    }
    if (!path.endsWith("/chat/completions") || request.method !== "POST") {
      leave();
      return Response.json({ error: { code: "1222", message: "API does not exist" } }, {
        status: 404,
      });
    }
    if (!keys.has(key)) {
      leave();
      return Response.json({
        error: {
          code: "1002",
          message:
            "Authorization Token is invalid, please ensure that the Authorization Token is correctly provided.",
        },
      }, { status: 401 });
    }
    const delay = script.delayMs ?? options.delayMs ?? 0;
    if (delay) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        request.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (request.signal.aborted) {
        leave();
        onAbort();
        return new Response(null, { status: 499 });
      }
    }
    if (script.kind === "error") {
      leave();
      return new Response(JSON.stringify(script.body), {
        status: script.status,
        headers: { "content-type": "application/json", ...script.headers },
      });
    }
    // deno-lint-ignore no-explicit-any
    if (!(body as any)?.stream) {
      leave();
      return Response.json(completionBody(script, body));
    }
    const lines = streamLines(script, body);
    let sent = 0;
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const delay = sent === 0
          ? script.firstChunkDelayMs ?? script.chunkDelayMs
          : script.chunkDelayMs;
        if (delay) await new Promise((r) => timer = setTimeout(r, delay));
        if (script.resetAfterChunks !== undefined && sent >= script.resetAfterChunks) {
          finished = true;
          leave();
          controller.error(new Error("connection reset by fake upstream"));
          return;
        }
        // The answer is complete once its last chunk (finish and usage) goes out.
        if (sent >= lines.length - 2) leave();
        controller.enqueue(encoder.encode(`data: ${lines[sent++]}\n\n`));
        if (sent === lines.length) {
          // Like Z.ai, end the body right after [DONE] (no further pull, no pending delay).
          finished = true;
          controller.close();
        }
      },
      cancel() {
        // A pull may be waiting out chunkDelayMs; it is never resumed.
        clearTimeout(timer);
        leave();
        if (!finished) onAbort();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream;charset=UTF-8" } });
  });

  const url = `http://127.0.0.1:${server.addr.port}/api/paas/v4`;
  const close = async () => {
    await server.shutdown();
  };
  return {
    url,
    requests,
    get aborted() {
      return state.aborted;
    },
    enqueue: (script) => queue.push(script),
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    setSpent(key, resetAt) {
      if (resetAt === null) spent.delete(key);
      else spent.set(key, resetAt);
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get concurrencyRefusals() {
      return state.concurrencyRefusals;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The upstream key the fake accepts. */
export const FAKE_UPSTREAM_KEY = "test-upstream-key";
