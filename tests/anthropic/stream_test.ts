import assert from "node:assert/strict";
import type { Anthropic } from "../support/clients.ts";
import { TEST_KEY } from "../support/gateway.ts";
import {
  anthropicClient,
  type AnthropicGateway,
  collapse,
  eventShape,
  parseSse,
  postRaw,
  type SseEvent,
  startAnthropicGateway,
} from "../support/anthropic.ts";

const TOOLS: Anthropic.Tool[] = [
  { name: "read_file", input_schema: { type: "object", properties: { path: { type: "string" } } } },
  { name: "list_dir", input_schema: { type: "object" } },
];

async function streamEvents(gw: AnthropicGateway, body: Record<string, unknown>) {
  const response = await postRaw(gw, "/v1/messages", { max_tokens: 500, stream: true, ...body }, {
    "x-api-key": TEST_KEY,
    accept: "application/json",
  });
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = parseSse(response.text);
  for (const { event, data } of events) assert.equal(data.type, event);
  return events;
}

function deltas(events: SseEvent[], type: string): string[] {
  return events.filter((e) => e.event === "content_block_delta" && e.data.delta.type === type)
    .map((e) => e.data.delta[type === "input_json_delta" ? "partial_json" : type.split("_")[0]]);
}

Deno.test("the exact event grammar: thinking with signature, then text", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Let me think it over",
    text: "Hello there world",
  });
  const events = await streamEvents(gw, {
    model: "glm-5",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.deepEqual(collapse(eventShape(events)), [
    "message_start",
    "ping",
    "start:thinking",
    "thinking_delta+",
    "signature_delta",
    "stop",
    "start:text",
    "text_delta+",
    "stop",
    "message_delta",
    "message_stop",
  ]);
  const start = events[0].data.message;
  assert.match(start.id, /^msg_/);
  assert.deepEqual(
    { ...start, id: "" },
    {
      id: "",
      type: "message",
      role: "assistant",
      model: "glm-5",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  );
  const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data);
  assert.deepEqual(starts, [
    {
      type: "content_block_start",
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    },
    { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
  ]);
  const stops = events.filter((e) => e.event === "content_block_stop").map((e) => e.data.index);
  assert.deepEqual(stops, [0, 1]);
  const thinking = deltas(events, "thinking_delta").join("");
  assert.equal(thinking, "Let me think it over");
  assert.equal(deltas(events, "text_delta").join(""), "Hello there world");
  const [signature] = deltas(events, "signature_delta");
  assert.match(signature, /^[A-Za-z0-9+/]{43}=$/);
  const messageDelta = events.at(-2)!.data;
  assert.deepEqual(messageDelta.delta, { stop_reason: "end_turn", stop_sequence: null });
  assert.equal(typeof messageDelta.usage.output_tokens, "number");

  // The streamed signature verifies: the thinking goes back upstream as reasoning_content.
  await postRaw(gw, "/v1/messages", {
    model: "glm-5",
    max_tokens: 10,
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "thinking", thinking, signature }] },
      { role: "user", content: "more" },
    ],
  });
  assert.equal(gw.upstream.requests.at(-1)!.body.messages[1].reasoning_content, thinking);
});

Deno.test("tool use streams input_json_delta as GLM's tool_stream fragments arrive", async () => {
  await using gw = await startAnthropicGateway();
  const toolCalls = [
    { name: "read_file", arguments: '{"path":"/etc/hosts"}' },
    { name: "list_dir", arguments: '{"dir":"/tmp","all":true}' },
  ];
  for (const model of ["glm-5", "glm-4.5"]) {
    gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "Checking.", toolCalls });
    const events = await streamEvents(gw, {
      model,
      tools: TOOLS,
      messages: [{ role: "user", content: "look" }],
    });
    const incremental = model === "glm-5";
    assert.equal(gw.upstream.requests.at(-1)!.body.tool_stream, incremental ? true : undefined);
    const jsonDeltas = incremental
      ? ["input_json_delta", "input_json_delta"]
      : ["input_json_delta"];
    assert.deepEqual(eventShape(events).slice(2, -2), [
      "start:text",
      "text_delta",
      "stop",
      "start:tool_use",
      ...jsonDeltas,
      "stop",
      "start:tool_use",
      ...jsonDeltas,
      "stop",
    ]);
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data);
    assert.deepEqual(starts.map((s) => s.index), [0, 1, 2]);
    for (const [i, call] of toolCalls.entries()) {
      const block = starts[i + 1].content_block;
      assert.equal(block.name, call.name);
      assert.deepEqual(block.input, {});
      assert.match(block.id, /^[A-Za-z0-9_-]+$/);
      const json = events.filter((e) => e.data.index === i + 1 && e.data.delta?.partial_json)
        .map((e) => e.data.delta.partial_json).join("");
      assert.equal(json, call.arguments);
    }
    assert.equal(events.at(-2)!.data.delta.stop_reason, "tool_use");
  }
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "", toolCalls });
  const stream = anthropicClient(gw).messages.stream({
    model: "glm-5",
    max_tokens: 100,
    tools: TOOLS,
    messages: [{ role: "user", content: "look" }],
  });
  const partials: string[] = [];
  stream.on("inputJson", (partial) => partials.push(partial));
  const message = await stream.finalMessage();
  assert.deepEqual(message.content.map((b) => b.type === "tool_use" && b.input), [
    { path: "/etc/hosts" },
    { dir: "/tmp", all: true },
  ]);
  assert.equal(partials.join(""), toolCalls.map((c) => c.arguments).join(""));
});

Deno.test("the stream field decides, never the Accept header", async () => {
  await using gw = await startAnthropicGateway();
  const body = { model: "glm-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };
  const json = await postRaw(gw, "/v1/messages", body, {
    "x-api-key": TEST_KEY,
    accept: "text/event-stream",
  });
  assert.match(json.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(json.body.type, "message");
  assert.equal(gw.upstream.requests.at(-1)!.body.stream, false);
  const events = await streamEvents(gw, body);
  assert.equal(events.at(-1)!.event, "message_stop");
});

Deno.test("the SDK's stream helpers see thinking, signature, text and the final message", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Hmm, a greeting.",
    text: "Hello! How are you?",
  });
  const stream = anthropicClient(gw).messages.stream({
    model: "glm-4.7",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  });
  const seen = { text: "", thinking: "", signature: "" };
  stream.on("text", (delta) => seen.text += delta);
  stream.on("thinking", (delta) => seen.thinking += delta);
  stream.on("signature", (signature) => seen.signature = signature);
  const message = await stream.finalMessage();
  assert.equal(seen.text, "Hello! How are you?");
  assert.equal(seen.thinking, "Hmm, a greeting.");
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "Hmm, a greeting.", signature: seen.signature },
    { type: "text", text: "Hello! How are you?" },
  ]);
  assert.equal(message.stop_reason, "end_turn");
});

Deno.test("stop sequences are matched by the gateway and reported in message_delta", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "alpha beta ### gamma",
    textChunks: 7,
  });
  const events = await streamEvents(gw, {
    model: "glm-5",
    stop_sequences: ["###"],
    messages: [{ role: "user", content: "go" }],
  });
  assert.equal(deltas(events, "text_delta").join(""), "alpha beta ");
  assert.deepEqual(events.at(-2)!.data.delta, {
    stop_reason: "stop_sequence",
    stop_sequence: "###",
  });
  assert.equal(gw.upstream.requests.at(-1)!.body.stop, undefined);
});

Deno.test("keepalives while upstream is silent are ping events", async () => {
  await using gw = await startAnthropicGateway({ keepaliveMs: 5 });
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "slow answer", chunkDelayMs: 60 });
  const events = await streamEvents(gw, {
    model: "glm-5",
    messages: [{ role: "user", content: "x" }],
  });
  const pings = events.filter((e) => e.event === "ping");
  assert.ok(pings.length > 1, `only ${pings.length} ping`);
  for (const ping of pings) assert.deepEqual(ping.data, { type: "ping" });
  assert.equal(events.at(-1)!.event, "message_stop");
});

Deno.test("an upstream failure mid-stream ends the stream with event: error", async () => {
  await using gw = await startAnthropicGateway();
  const scripts = [
    { injectData: '{"error":{"code":"1234","message":"network error"}}', pattern: /network error/ },
    { resetAfterChunks: 4, chunkDelayMs: 5, pattern: /connection to Z\.ai broke/ },
  ];
  for (const { pattern, ...script } of scripts) {
    gw.upstream.enqueue({
      kind: "answer",
      reasoning: "",
      text: "one two three four five",
      ...script,
    });
    const events = await streamEvents(gw, {
      model: "glm-5",
      messages: [{ role: "user", content: "x" }],
    });
    const last = events.at(-1)!;
    assert.equal(last.event, "error");
    assert.equal(last.data.error.type, "api_error");
    assert.match(last.data.error.message, pattern);
    assert.ok(!events.some((e) => e.event === "message_stop"));
  }
  gw.upstream.enqueue({
    kind: "answer",
    text: "one two three",
    resetAfterChunks: 3,
    chunkDelayMs: 5,
  });
  const stream = anthropicClient(gw).messages.stream({
    model: "glm-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "x" }],
  });
  await assert.rejects(stream.finalMessage(), /connection to Z\.ai broke/);
});

Deno.test("a client that goes away aborts the upstream stream", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({ kind: "answer", text: "a b c d e f g h i j k l", chunkDelayMs: 30 });
  const aborted = gw.upstream.nextAbort();
  const controller = new AbortController();
  const response = await gw.fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    signal: controller.signal,
    headers: { "x-api-key": TEST_KEY, "content-type": "application/json" },
    body: JSON.stringify({
      model: "glm-5",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "x" }],
    }),
  });
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.cancel().catch(() => {});
  await aborted;
  assert.equal(gw.upstream.aborted, 1);
});
