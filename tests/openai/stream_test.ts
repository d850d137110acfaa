/** OpenAI route, streaming: chunks as a client reads them, and what reached the fake Z.ai. */

import assert from "node:assert/strict";
import type { OpenAI } from "../support/clients.ts";
import { TEST_KEY } from "../support/gateway.ts";
import {
  ask,
  joinDeltas,
  openAIClient,
  type OpenAIGateway,
  postChat,
  sseData,
  startOpenAIGateway,
} from "../support/openai_client.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

async function streamChunks(
  gw: OpenAIGateway,
  params: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, "stream">,
): Promise<OpenAI.Chat.ChatCompletionChunk[]> {
  const stream = await openAIClient(gw).chat.completions.create({ ...params, stream: true });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** What curl sends by default. */
const CURL = { accept: "*/*", "user-agent": "curl/8.5.0" };

function finishChunks(chunks: Loose[]): Loose[] {
  return chunks.filter((c) => c !== "[DONE]" && c.choices?.[0]?.finish_reason != null);
}

Deno.test("curl without a stream field gets a stream (DEFAULT_STREAM)", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "streamed by default" });
  const reply = await postChat(gw, { model: "glm-4.6", messages: ask("x") }, CURL);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = sseData(reply.text);
  assert.equal(events.at(-1), "[DONE]");
  assert.equal(joinDeltas(events, "content"), "streamed by default");
  assert.equal(gw.upstream.requests[0].body.stream, true);
  assert.equal(gw.upstream.requests[0].headers.get("accept"), "text/event-stream");
});

Deno.test("with DEFAULT_STREAM=false, curl without a stream field gets JSON", async () => {
  await using gw = await startOpenAIGateway({ env: { DEFAULT_STREAM: "false" } });
  gw.upstream.enqueue({ kind: "answer", text: "json please" });
  const reply = await postChat(gw, { model: "glm-4.6", messages: ask("x") }, CURL);
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(reply.json.object, "chat.completion");
  assert.equal(reply.json.choices[0].message.content, "json please");
  assert.equal(gw.upstream.requests[0].body.stream, false);
});

Deno.test("the stream field decides over Accept; Accept decides when it is absent", async () => {
  await using gw = await startOpenAIGateway({ env: { DEFAULT_STREAM: "false" } });
  const sse = await postChat(gw, { model: "glm-4.6", messages: ask("a") }, {
    accept: "text/event-stream",
  });
  const json = await postChat(gw, { model: "glm-4.6", messages: ask("b"), stream: false }, {
    accept: "text/event-stream",
  });
  const streamed = await postChat(gw, { model: "glm-4.6", messages: ask("c"), stream: true }, {
    accept: "application/json",
  });
  assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
  assert.equal(json.json.object, "chat.completion");
  assert.match(streamed.headers.get("content-type") ?? "", /^text\/event-stream/);
  assert.deepEqual(gw.upstream.requests.map((r) => r.body.stream), [true, false, true]);
});

Deno.test("an SDK stream: role first, reasoning then content, exactly one finish", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "First I think.",
    text: "Then I answer.",
    usage: { prompt_tokens: 11, completion_tokens: 7 },
  });
  const chunks = await streamChunks(gw, { model: "GLM-4.6", messages: ask("go") });
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  for (const chunk of chunks) {
    assert.equal(chunk.object, "chat.completion.chunk");
    assert.equal(chunk.model, "GLM-4.6");
    assert.equal(chunk.id, chunks[0].id);
  }
  assert.equal(joinDeltas(chunks, "reasoning_content"), "First I think.");
  assert.equal(joinDeltas(chunks, "content"), "Then I answer.");
  const contents = chunks.map((c) => c.choices[0]?.delta.content).filter((c) => c);
  assert.ok(!contents.some((c) => c!.trim() === ""), "no whitespace-only content delta");
  assert.ok(!joinDeltas(chunks, "content").startsWith("\n"), "the leading \\n is dropped");
  const finishes = finishChunks(chunks);
  assert.equal(finishes.length, 1);
  assert.equal(finishes[0].choices[0].finish_reason, "stop");
  assert.equal(chunks.at(-1), finishes[0], "the finish chunk is the last one");
  assert.equal(chunks.some((c) => c.usage), false, "no usage without include_usage");
  const sent = gw.upstream.requests[0].body;
  assert.equal(sent.stream, true);
  assert.equal(sent.model, "glm-4.6");
  assert.equal("stream_options" in sent, false);
});

Deno.test("the raw stream ends with the finish chunk then data: [DONE]", async () => {
  await using gw = await startOpenAIGateway();
  const reply = await postChat(gw, { model: "glm-4.6", messages: ask("raw"), stream: true });
  assert.equal(reply.headers.get("cache-control"), "no-cache");
  assert.ok(reply.text.endsWith("data: [DONE]\n\n"));
  const events = sseData(reply.text);
  assert.equal(events.filter((e) => e === "[DONE]").length, 1);
  assert.equal(events.at(-2).choices[0].finish_reason, "stop");
  assert.deepEqual(events.at(-2).choices[0].delta, {});
  assert.equal(events[0].choices[0].delta.role, "assistant");
});

Deno.test("include_usage adds a usage chunk with empty choices right before [DONE]", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    usage: { prompt_tokens: 50, completion_tokens: 9, cached_tokens: 20 },
  });
  const reply = await postChat(gw, {
    model: "glm-4.6",
    messages: ask("count"),
    stream: true,
    stream_options: { include_usage: true },
  });
  const events = sseData(reply.text);
  assert.equal(events.at(-1), "[DONE]");
  const usageChunk = events.at(-2);
  assert.deepEqual(usageChunk.choices, []);
  assert.deepEqual(usageChunk.usage, {
    prompt_tokens: 50,
    completion_tokens: 9,
    total_tokens: 59,
    prompt_tokens_details: { cached_tokens: 20 },
  });
  assert.equal(events.at(-3).choices[0].finish_reason, "stop");
  assert.equal(events.filter((e) => e !== "[DONE]" && e.usage).length, 1);

  const chunks = await streamChunks(gw, {
    model: "glm-4.6",
    messages: ask("sdk"),
    stream_options: { include_usage: true },
  });
  assert.equal(chunks.at(-1)?.choices.length, 0);
  assert.equal(typeof chunks.at(-1)?.usage?.total_tokens, "number");
});

Deno.test("a finish_reason repeated by upstream reaches the client once", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "Twice finished.", repeatFinish: true });
  const reply = await postChat(gw, { model: "glm-4.6", messages: ask("x"), stream: true });
  const events = sseData(reply.text);
  assert.equal(finishChunks(events).length, 1);
  assert.equal(joinDeltas(events, "content"), "Twice finished.");
});

Deno.test("glm-4.6 streams tool calls in fragments with tool_stream set upstream", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Need weather.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Paris","unit":"C"}' }],
  });
  const reply = await postChat(gw, {
    model: "glm-4.6",
    messages: ask("weather?"),
    tools: [WEATHER_TOOL],
    stream: true,
  });
  const sent = gw.upstream.requests[0].body;
  assert.equal(sent.tool_stream, true);
  assert.equal(sent.tool_choice, "auto");
  const events = sseData(reply.text).filter((e) => e !== "[DONE]");
  const toolDeltas = events.flatMap((e) => e.choices[0]?.delta?.tool_calls ?? []);
  assert.ok(toolDeltas.length >= 3, "a start and at least two argument fragments");
  assert.equal(toolDeltas[0].index, 0);
  assert.match(toolDeltas[0].id, /^call_/);
  assert.equal(toolDeltas[0].type, "function");
  assert.equal(toolDeltas[0].function.name, "get_weather");
  for (const fragment of toolDeltas.slice(1)) {
    assert.equal(fragment.index, 0);
    assert.equal(fragment.id, undefined);
  }
  const args = toolDeltas.map((d: Loose) => d.function.arguments ?? "").join("");
  assert.deepEqual(JSON.parse(args), { city: "Paris", unit: "C" });
  const finishes = finishChunks(events);
  assert.equal(finishes.length, 1);
  assert.equal(finishes[0].choices[0].finish_reason, "tool_calls");
  assert.equal(joinDeltas(events, "content"), "", "no stray content around the call");
});

Deno.test("glm-4.5 sends whole tool calls; the SDK assembles them; finish comes once", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    text: "",
    toolCalls: [
      { name: "get_weather", arguments: '{"city":"Rome"}' },
      { name: "get_weather", arguments: '{"city":"Oslo"}' },
    ],
  });
  const chunks = await streamChunks(gw, {
    model: "glm-4.5",
    messages: ask("two cities"),
    tools: [WEATHER_TOOL],
  });
  assert.equal("tool_stream" in gw.upstream.requests[0].body, false);
  const calls = new Map<number, { id?: string; name?: string; args: string }>();
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = calls.get(delta.index) ?? { args: "" };
      call.id ??= delta.id;
      call.name ??= delta.function?.name;
      call.args += delta.function?.arguments ?? "";
      calls.set(delta.index, call);
    }
  }
  assert.equal(calls.size, 2);
  assert.deepEqual(JSON.parse(calls.get(0)!.args), { city: "Rome" });
  assert.deepEqual(JSON.parse(calls.get(1)!.args), { city: "Oslo" });
  assert.notEqual(calls.get(0)!.id, calls.get(1)!.id);
  const finishes = finishChunks(chunks);
  assert.equal(finishes.length, 1);
  assert.equal(finishes[0].choices[0].finish_reason, "tool_calls");
});

Deno.test("SDK runner: a streamed tool call, then its result sent back", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Lima"}' }],
  });
  gw.upstream.enqueue({ kind: "answer", text: "Lima: 18 C." });
  const client = openAIClient(gw);
  const first = await client.chat.completions.stream({
    model: "glm-4.6",
    messages: ask("Lima?"),
    tools: [WEATHER_TOOL],
  }).finalChatCompletion();
  const call = first.choices[0].message.tool_calls![0] as Loose;
  assert.equal(call.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Lima" });
  const second = await client.chat.completions.stream({
    model: "glm-4.6",
    tools: [WEATHER_TOOL],
    messages: [
      ...ask("Lima?"),
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: call.id, content: "18 C" },
    ],
  }).finalChatCompletion();
  assert.equal(second.choices[0].message.content, "Lima: 18 C.");
  const messages = gw.upstream.requests[1].body.messages;
  assert.equal(messages[1].tool_calls[0].id, call.id);
  assert.equal(messages[1].tool_calls[0].function.arguments, '{"city":"Lima"}');
  assert.deepEqual(messages[2], { role: "tool", tool_call_id: call.id, content: "18 C" });
});

for (
  const [mode, content, reasoning] of [
    ["reasoning_content", "Result.", "Deep thought."],
    ["think_tags", "<think>Deep thought.</think>Result.", ""],
    ["none", "Result.", ""],
  ] as const
) {
  Deno.test(`REASONING_OUTPUT=${mode} shapes the stream`, async () => {
    await using gw = await startOpenAIGateway({ env: { REASONING_OUTPUT: mode } });
    gw.upstream.enqueue({ kind: "answer", reasoning: "Deep thought.", text: "Result." });
    const chunks = await streamChunks(gw, { model: "glm-4.6", messages: ask("think") });
    assert.equal(joinDeltas(chunks, "content"), content);
    assert.equal(joinDeltas(chunks, "reasoning_content"), reasoning);
    assert.equal(finishChunks(chunks).length, 1);
  });
}

Deno.test("think_tags closes the tag even when the answer is only a tool call", async () => {
  await using gw = await startOpenAIGateway({ env: { REASONING_OUTPUT: "think_tags" } });
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Call it.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: "{}" }],
  });
  const chunks = await streamChunks(gw, {
    model: "glm-4.6",
    messages: ask("x"),
    tools: [WEATHER_TOOL],
  });
  assert.equal(joinDeltas(chunks, "content"), "<think>Call it.</think>");
  assert.equal(finishChunks(chunks)[0].choices[0].finish_reason, "tool_calls");
});

Deno.test("streaming stop sequences: a second sequence cuts the text across chunks", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "alpha STOP beta END gamma", textChunks: 12 });
  const chunks = await streamChunks(gw, {
    model: "glm-4.6",
    messages: ask("x"),
    stop: ["END", "STOP"],
  });
  assert.deepEqual(gw.upstream.requests[0].body.stop, ["END"]);
  assert.equal(joinDeltas(chunks, "content"), "alpha ");
  const finishes = finishChunks(chunks);
  assert.equal(finishes.length, 1);
  assert.equal(finishes[0].choices[0].finish_reason, "stop");
});

Deno.test("a stream cut at a stop sequence still reports an estimated usage", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "alpha beta STOP gamma", textChunks: 6 });
  const chunks = await streamChunks(gw, {
    model: "glm-4.6",
    messages: ask("a question long enough to cost a few tokens"),
    stop: ["NEVER", "STOP"],
    stream_options: { include_usage: true },
  });
  assert.equal(joinDeltas(chunks, "content"), "alpha beta ");
  const usage = chunks.at(-1)?.usage;
  assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, JSON.stringify(usage));
});

Deno.test("a stream's log line is written when it ends, with Z.ai's request id", async () => {
  await using gw = await startOpenAIGateway();
  await streamChunks(gw, { model: "glm-4.6", messages: ask("log me") });
  await gw.governance.settled();
  const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.path === "/v1/chat/completions");
  assert.equal(line?.status, 200);
  assert.match(
    line?.upstreamRequestId ?? "",
    /^\d{14}[0-9a-f]+$/,
    "Z.ai's id from the first chunk",
  );
});

for (
  const [upstream, expected] of [
    ["sensitive", "content_filter"],
    ["model_context_window_exceeded", "length"],
    ["length", "length"],
  ] as const
) {
  Deno.test(`streamed finish_reason ${upstream} is reported as ${expected}`, async () => {
    await using gw = await startOpenAIGateway();
    gw.upstream.enqueue({ kind: "answer", text: "Cut", finish: upstream });
    const chunks = await streamChunks(gw, { model: "glm-4.6", messages: ask("x") });
    const finishes = finishChunks(chunks);
    assert.equal(finishes.length, 1);
    assert.equal(finishes[0].choices[0].finish_reason, expected);
  });
}

Deno.test("keepalive comments flow while upstream is silent", async () => {
  await using gw = await startOpenAIGateway({ keepaliveMs: 50 });
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "slow words here",
    chunkDelayMs: 200,
  });
  const reply = await postChat(gw, { model: "glm-4.6", messages: ask("x"), stream: true });
  assert.match(reply.text, /^: keepalive$/m);
  const events = sseData(reply.text);
  assert.equal(joinDeltas(events, "content"), "slow words here");
  assert.equal(events.at(-1), "[DONE]");
});

Deno.test("a client abort mid-stream reaches upstream within a second", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "a long and slow answer that goes on and on and on",
    chunkDelayMs: 100,
  });
  const controller = new AbortController();
  const response = await gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "glm-4.6", messages: ask("x"), stream: true }),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes('"content":"a ')) {
    const { value, done } = await reader.read();
    assert.equal(done, false, "the stream ended before the first content chunk");
    seen += decoder.decode(value);
  }
  const aborted = gw.upstream.nextAbort().then(() => true);
  controller.abort();
  await reader.read().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 1000);
  });
  const reached = await Promise.race([aborted, bound]);
  clearTimeout(timer);
  assert.equal(reached, true, "the fake upstream saw its reader go away within 1 s");
  assert.equal(gw.upstream.aborted, 1);
});

Deno.test("a client gone before the first event aborts upstream and is logged", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "late", firstChunkDelayMs: 3000 });
  const aborted = gw.upstream.nextAbort().then(() => true);
  const controller = new AbortController();
  const reply = gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "glm-4.6", messages: ask("x"), stream: true }),
    signal: controller.signal,
  }).then((r) => r.body?.cancel(), () => "aborted");
  while (gw.upstream.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await reply;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 1000);
  });
  const reached = await Promise.race([aborted, bound]);
  clearTimeout(timer);
  assert.equal(reached, true, "the fake upstream saw its reader go away within 1 s");
  await gw.governance.settled();
  await new Promise((r) => setTimeout(r, 50));
  const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.path === "/v1/chat/completions");
  assert.ok(line, "the request was logged");
  assert.equal(
    line.upstreamRequestId === undefined || typeof line.upstreamRequestId === "string",
    true,
  );
});

Deno.test("an SDK stream abandoned with break stops the upstream stream", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four five six seven eight",
    chunkDelayMs: 50,
  });
  const aborted = gw.upstream.nextAbort();
  const stream = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("x"),
    stream: true,
  });
  let content = "";
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta.content ?? "";
    if (content.includes("two")) break;
  }
  await aborted;
  assert.equal(gw.upstream.aborted, 1);
});
