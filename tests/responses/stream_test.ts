/** `/v1/responses` streaming: the event grammar of responses-api.md over raw HTTP. */

import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { checkGrammar, parseEvents, postResponses } from "./grammar.ts";

const WEATHER = {
  type: "function",
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

Deno.test("text and reasoning: reasoning item, then message item, then response.completed", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Let me think about it.",
    text: "Hello there, friend.",
    usage: { prompt_tokens: 12, completion_tokens: 9, cached_tokens: 4 },
  });
  const reply = await postResponses(gw, { model: "glm-4.6", input: "hi", stream: true });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("content-type") ?? "", /^text\/event-stream/);
  assert.ok(!reply.text.includes("[DONE]"), "no [DONE] sentinel");
  const events = parseEvents(reply.text);
  const { items, last } = checkGrammar(events);
  assert.equal(last.event, "response.completed");
  assert.deepEqual(items.map((item) => item.type), ["reasoning", "message"]);
  assert.equal(items[0].summary[0].text, "Let me think about it.");
  assert.equal(items[1].content[0].text, "Hello there, friend.", "GLM's leading newline dropped");
  assert.deepEqual(last.data.response.usage, {
    input_tokens: 12,
    input_tokens_details: { cached_tokens: 4 },
    output_tokens: 9,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 21,
  });
  assert.equal(last.data.response.model, "glm-4.6");
  const sent = gw.upstream.requests[0].body;
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.messages, [{ role: "user", content: "hi" }]);
});

Deno.test("a whole tool call (no tool_stream): function_call item, one arguments delta", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Need the weather.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  });
  // glm-4.5 has no tool_stream: Z.ai sends the whole call in one chunk, tagged tool_calls.
  const reply = await postResponses(gw, {
    model: "glm-4.5",
    input: "weather?",
    tools: [WEATHER],
    stream: true,
  });
  const events = parseEvents(reply.text);
  const { items, last } = checkGrammar(events);
  assert.equal(gw.upstream.requests[0].body.tool_stream, undefined);
  assert.equal(last.event, "response.completed");
  assert.deepEqual(items.map((item) => item.type), ["reasoning", "function_call"]);
  const call = items[1];
  assert.equal(call.name, "get_weather");
  assert.equal(call.arguments, '{"city":"Paris"}');
  assert.match(call.call_id, /^call_/);
  const deltas = events.filter((e) => e.event === "response.function_call_arguments.delta");
  assert.equal(deltas.length, 1);
  const order = events.map((e) => e.event);
  assert.deepEqual(order.slice(-4), [
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
  ]);
});

Deno.test("tool_stream fragments: arguments arrive in several deltas, two calls", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "",
    toolCalls: [
      { name: "get_weather", arguments: '{"city":"Paris"}' },
      { name: "get_weather", arguments: '{"city":"Rome"}' },
    ],
  });
  const reply = await postResponses(gw, {
    model: "glm-4.6",
    input: "weather in Paris and Rome?",
    tools: [WEATHER],
    stream: true,
  });
  assert.equal(gw.upstream.requests[0].body.tool_stream, true);
  const events = parseEvents(reply.text);
  const { items } = checkGrammar(events);
  assert.deepEqual(items.map((item) => [item.type, item.arguments]), [
    ["function_call", '{"city":"Paris"}'],
    ["function_call", '{"city":"Rome"}'],
  ]);
  assert.notEqual(items[0].call_id, items[1].call_id);
  const deltas = events.filter((e) => e.event === "response.function_call_arguments.delta");
  assert.ok(deltas.length >= 4, "fragments are relayed as they come");
});

Deno.test("a namespaced tool's call names its namespace (how Codex dispatches it)", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "",
    toolCalls: [{ name: "wait_agent", arguments: '{"targets":["a"]}' }],
  });
  const reply = await postResponses(gw, {
    model: "glm-4.6",
    input: "wait",
    stream: true,
    tools: [WEATHER, {
      type: "namespace",
      name: "multi_agent_v1",
      description: "Sub-agents",
      tools: [{ type: "function", name: "wait_agent", parameters: { type: "object" } }],
    }, { type: "web_search", external_web_access: false }],
  });
  const sent = gw.upstream.requests[0].body;
  assert.deepEqual(sent.tools.map((t: { function: { name: string } }) => t.function.name), [
    "get_weather",
    "wait_agent",
  ]);
  const { items } = checkGrammar(parseEvents(reply.text));
  assert.equal(items[0].name, "wait_agent");
  assert.equal(items[0].namespace, "multi_agent_v1");
});

Deno.test("finish_reason length → response.incomplete with max_output_tokens", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "cut short", finish: "length" });
  const reply = await postResponses(gw, { model: "glm-4.6", input: "go", stream: true });
  const { last } = checkGrammar(parseEvents(reply.text));
  assert.equal(last.event, "response.incomplete");
  assert.equal(last.data.response.status, "incomplete");
  assert.deepEqual(last.data.response.incomplete_details, { reason: "max_output_tokens" });
  assert.equal(typeof last.data.response.usage.output_tokens, "number");
});

Deno.test("a failure after the stream started → response.failed, then an error event", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four five",
    resetAfterChunks: 2,
  });
  const reply = await postResponses(gw, { model: "glm-4.6", input: "go", stream: true });
  assert.equal(reply.status, 200);
  const events = parseEvents(reply.text);
  const { last } = checkGrammar(events);
  assert.equal(last.event, "response.failed");
  assert.equal(last.data.response.status, "failed");
  assert.equal(last.data.response.error.code, "server_error");
  assert.match(last.data.response.error.message, /retry/);
  assert.equal(events.at(-1)!.event, "error");
  assert.equal(events.at(-1)!.data.message, last.data.response.error.message);
});

Deno.test("a Z.ai rate limit inside the stream → response.failed that Codex retries", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "partial",
    injectData: JSON.stringify({ error: { code: "1302", message: "High concurrency" } }),
  });
  const reply = await postResponses(gw, { model: "glm-4.6", input: "go", stream: true });
  const { last } = checkGrammar(parseEvents(reply.text));
  assert.equal(last.event, "response.failed");
  assert.equal(last.data.response.error.code, "rate_limit_exceeded");
  // Codex reads the delay from "try again in N s".
  assert.match(last.data.response.error.message, /try again in \d+s/);
});

Deno.test("keepalive comments while Z.ai is silent are not events", async () => {
  await using gw = await startGateway({ keepaliveMs: 20 });
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "slow answer", chunkDelayMs: 80 });
  const reply = await postResponses(gw, { model: "glm-4.6", input: "go", stream: true });
  assert.match(reply.text, /^: keepalive$/m);
  const { last, items } = checkGrammar(parseEvents(reply.text));
  assert.equal(last.event, "response.completed");
  assert.equal(items[0].content[0].text, "slow answer");
});
