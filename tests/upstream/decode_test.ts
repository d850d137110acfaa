/** upstream/decode.ts: every upstream quirk turned into a clean event sequence. */

import assert from "node:assert/strict";
import { ApiError } from "../../lib/core/errors.ts";
import type { GlmEvent } from "../../lib/core/glm.ts";
import { completionEvents, GlmChunkDecoder, glmEvents } from "../../lib/upstream/decode.ts";
import type { SseMessage } from "../../lib/upstream/sse.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

function data(value: unknown): SseMessage {
  return { data: typeof value === "string" ? value : JSON.stringify(value) };
}

function chunk(delta: Loose, extra: Loose = {}): SseMessage {
  return data({
    id: "20250926190600dac6456f42ba4e48",
    model: "glm-4.5",
    choices: [{ index: 0, delta, ...extra }],
    ...(extra.usage ? { usage: extra.usage } : {}),
  });
}

function decode(messages: SseMessage[]): GlmEvent[] {
  const decoder = new GlmChunkDecoder();
  return [...messages.flatMap((m) => decoder.push(m)), ...decoder.end()];
}

const USAGE = {
  prompt_tokens: 207,
  completion_tokens: 96,
  total_tokens: 303,
  prompt_tokens_details: { cached_tokens: 43 },
};

Deno.test("the leading \\n before reasoning is dropped; text starts clean", () => {
  const events = decode([
    chunk({ role: "assistant", content: "\n" }),
    chunk({ role: "assistant", reasoning_content: "The" }),
    chunk({ role: "assistant", content: "", reasoning_content: " user" }),
    chunk({ role: "assistant", content: "Hello" }),
    chunk({ role: "assistant", content: " day" }),
    chunk({ role: "assistant", content: "" }, { finish_reason: "stop", usage: USAGE }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events, [
    { type: "reasoning", text: "The" },
    { type: "reasoning", text: " user" },
    { type: "text", text: "Hello" },
    { type: "text", text: " day" },
    { type: "usage", promptTokens: 207, completionTokens: 96, cachedTokens: 43 },
    { type: "finish", reason: "stop" },
  ]);
});

Deno.test("the simple_streaming shape (reasoning \\n first) gives the same events", () => {
  const events = decode([
    chunk({ role: "assistant", content: "", reasoning_content: "\n" }),
    chunk({ role: "assistant", reasoning_content: "Think" }),
    chunk({ role: "assistant", content: "Olá!" }, { finish_reason: "stop" }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events.map((e) => e.type), ["reasoning", "reasoning", "text", "finish"]);
  assert.equal(events.filter((e) => e.type === "text").length, 1);
});

Deno.test("whitespace before text without reasoning is kept (it may be indentation)", () => {
  const events = decode([
    chunk({ content: "  " }),
    chunk({ content: "indented" }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events[0], { type: "text", text: "  indented" });
});

Deno.test("a repeated finish_reason yields exactly one finish, after usage", () => {
  const events = decode([
    chunk({ role: "assistant", content: "\n" }),
    chunk({
      tool_calls: [{
        id: "call_51a97502d6444997b56fd204",
        index: 0,
        type: "function",
        function: { name: "weather", arguments: '{"location": "Florence,Italy"}' },
      }],
    }, { finish_reason: "tool_calls" }),
    chunk({ role: "assistant", content: "" }, { finish_reason: "tool_calls", usage: USAGE }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events, [
    { type: "tool_call_start", index: 0, id: "call_51a97502d6444997b56fd204", name: "weather" },
    { type: "tool_call_args", index: 0, json: '{"location": "Florence,Italy"}' },
    { type: "usage", promptTokens: 207, completionTokens: 96, cachedTokens: 43 },
    { type: "finish", reason: "tool_calls" },
  ]);
});

Deno.test("tool_stream fragments open the call once and pass argument pieces on", () => {
  const events = decode([
    chunk({ role: "assistant", reasoning_content: "Inspect first. " }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "call-1",
        type: "function",
        function: { name: "write_file", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"text":"Hello' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: ' world"}' } }] }),
    chunk({}, { finish_reason: "tool_calls", usage: USAGE }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events.slice(1, 4), [
    { type: "tool_call_start", index: 0, id: "call-1", name: "write_file" },
    { type: "tool_call_args", index: 0, json: '{"text":"Hello' },
    { type: "tool_call_args", index: 0, json: ' world"}' },
  ]);
  assert.equal(events.filter((e) => e.type === "tool_call_start").length, 1);
  assert.deepEqual(events.at(-1), { type: "finish", reason: "tool_calls" });
});

Deno.test("tool calls without id or index get generated ones; object arguments become JSON", () => {
  const events = decode([
    chunk({ tool_calls: [{ function: { name: "a", arguments: { x: 1 } } }] }),
    chunk({ tool_calls: [{ function: { name: "b" } }] }),
    data("[DONE]"),
  ]);
  const starts = events.filter((e) => e.type === "tool_call_start") as Loose[];
  assert.deepEqual(starts.map((s) => [s.index, s.name]), [[0, "a"], [1, "b"]]);
  for (const start of starts) assert.match(start.id, /^call_[0-9a-f]{32}$/);
  assert.notEqual(starts[0].id, starts[1].id);
  assert.deepEqual(events[1], { type: "tool_call_args", index: 0, json: '{"x":1}' });
  assert.equal(events.filter((e) => e.type === "tool_call_args").length, 1);
});

Deno.test("a \\n\\n content around a tool call is not text", () => {
  const events = decode([
    chunk({ content: "\n\n" }),
    chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "{}" } }] }),
    chunk({ content: "\n" }, { finish_reason: "tool_calls" }),
    data("[DONE]"),
  ]);
  assert.deepEqual(events.map((e) => e.type), ["tool_call_start", "tool_call_args", "finish"]);
});

Deno.test("an error object inside the stream ends it with a mapped error", () => {
  const decoder = new GlmChunkDecoder();
  const before = decoder.push(chunk({ content: "Part" }));
  const error = decoder.push(data({ error: { code: "1301", message: "unsafe" } }));
  assert.deepEqual(before, [{ type: "text", text: "Part" }]);
  assert.equal(error.length, 1);
  const event = error[0] as Extract<GlmEvent, { type: "error" }>;
  assert.equal(event.type, "error");
  assert.equal(event.error.status, 400);
  assert.equal(event.error.code, "zai_1301");
  assert.match(event.error.message, /unsafe/);
  assert.deepEqual(decoder.push(chunk({ content: "more" })), [], "nothing after the error");
  assert.deepEqual(decoder.end(), []);
});

Deno.test("an `event: error` message is an error even without an error field", () => {
  const decoder = new GlmChunkDecoder();
  const events = decoder.push({ event: "error", data: '{"code":"1305","message":"overloaded"}' });
  assert.equal(events[0].type, "error");
  assert.equal((events[0] as Loose).error.status, 429);
});

Deno.test("finish reasons: unknown → stop, network_error → error, none and no [DONE] → error", () => {
  const unknown = decode([chunk({ content: "x" }, { finish_reason: "abort" }), data("[DONE]")]);
  assert.deepEqual(unknown.at(-1), { type: "finish", reason: "stop" });

  const network = decode([chunk({ content: "x" }, { finish_reason: "network_error" })]);
  assert.equal(network.at(-1)?.type, "error");
  assert.match((network.at(-1) as Loose).error.message, /network error/);

  const cut = decode([chunk({ content: "x" })]);
  assert.equal(cut.at(-1)?.type, "error");
  assert.match((cut.at(-1) as Loose).error.message, /before the answer finished/);

  const doneOnly = decode([chunk({ content: "x" }), data("[DONE]")]);
  assert.deepEqual(doneOnly.at(-1), { type: "finish", reason: "stop" });

  for (const reason of ["length", "sensitive", "model_context_window_exceeded"]) {
    const events = decode([chunk({ content: "x" }, { finish_reason: reason }), data("[DONE]")]);
    assert.deepEqual(events.at(-1), { type: "finish", reason });
  }
});

Deno.test("lines that are not JSON are skipped; [DONE] ends the decoder", () => {
  const decoder = new GlmChunkDecoder();
  assert.deepEqual(decoder.push(data("not json")), []);
  assert.deepEqual(decoder.push(data(" [DONE] ")), [{ type: "finish", reason: "stop" }]);
  assert.deepEqual(decoder.push(chunk({ content: "late" })), []);
  assert.deepEqual(decoder.end(), []);
});

Deno.test("completionEvents reads a whole response the same way", () => {
  const events = completionEvents({
    choices: [{
      finish_reason: "tool_calls",
      index: 0,
      message: {
        content: "\n\n",
        reasoning_content: "The user is asking for the weather.",
        role: "assistant",
        tool_calls: [{
          function: { arguments: '{"location": "Florence,Italy"}', name: "weather" },
          id: "call_-8303649628005950554",
          index: 0,
          type: "function",
        }],
      },
    }],
    usage: USAGE,
  });
  assert.deepEqual(events, [
    { type: "reasoning", text: "The user is asking for the weather." },
    { type: "tool_call_start", index: 0, id: "call_-8303649628005950554", name: "weather" },
    { type: "tool_call_args", index: 0, json: '{"location": "Florence,Italy"}' },
    { type: "usage", promptTokens: 207, completionTokens: 96, cachedTokens: 43 },
    { type: "finish", reason: "tool_calls" },
  ]);
  assert.deepEqual(completionEvents({}), [{ type: "finish", reason: "stop" }]);
  const failed = completionEvents({ error: { code: "1302", message: "busy" } });
  assert.equal(failed.length, 1);
  assert.equal(failed[0].type, "error");
  assert.equal((failed[0] as Loose).error.status, 429);
});

function sseStream(messages: SseMessage[], failure?: Error): ReadableStream<SseMessage> {
  const queue = [...messages];
  return new ReadableStream({
    pull(controller) {
      const next = queue.shift();
      if (next) controller.enqueue(next);
      else if (failure) controller.error(failure);
      else controller.close();
    },
  }, { highWaterMark: 0 });
}

async function collect(source: AsyncIterable<GlmEvent>): Promise<GlmEvent[]> {
  const out: GlmEvent[] = [];
  for await (const event of source) out.push(event);
  return out;
}

Deno.test("glmEvents: a read failure before the finish becomes the caller's error", async () => {
  const failure = new ApiError(504, "timeout", "too slow");
  let seen: unknown;
  const events = await collect(glmEvents(
    sseStream([chunk({ content: "Half" }, { usage: USAGE })], new Error("reset")),
    (error) => {
      seen = error;
      return failure;
    },
  ));
  assert.equal((seen as Error).message, "reset");
  assert.deepEqual(events.map((e) => e.type), ["text", "usage", "error"]);
  assert.equal((events.at(-1) as Loose).error, failure);
});

Deno.test("glmEvents: a read failure after the finish still finishes cleanly", async () => {
  const events = await collect(glmEvents(
    sseStream([chunk({ content: "All" }, { finish_reason: "stop" })], new Error("reset")),
    () => new ApiError(502, "upstream", "should not be used"),
  ));
  assert.deepEqual(events, [{ type: "text", text: "All" }, { type: "finish", reason: "stop" }]);
});

Deno.test("glmEvents: a stream that just ends without [DONE] or finish is an error", async () => {
  const events = await collect(glmEvents(
    sseStream([chunk({ content: "Half" })]),
    () => new ApiError(502, "upstream", "unused"),
  ));
  assert.deepEqual(events.map((e) => e.type), ["text", "error"]);
});
