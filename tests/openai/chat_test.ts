/** OpenAI route, non-streaming: what an SDK user sees, and what reached the fake Z.ai. */

import assert from "node:assert/strict";
import type { OpenAI } from "../support/clients.ts";
import { TEST_KEY } from "../support/gateway.ts";
import { ask, openAIClient, postChat, startOpenAIGateway } from "../support/openai_client.ts";
import { FAKE_UPSTREAM_KEY } from "../support/fake_upstream.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

Deno.test("a create without a stream field gets JSON, and upstream is asked for JSON", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "Let me think.", text: "Hello there." });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("hi"),
  });
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.model, "glm-4.6");
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(completion.choices[0].message.content, "Hello there.");
  assert.equal((completion.choices[0].message as Loose).reasoning_content, "Let me think.");
  assert.equal(completion.choices[0].finish_reason, "stop");

  assert.equal(gw.upstream.requests.length, 1);
  const sent = gw.upstream.requests[0];
  assert.equal(sent.path, "/api/paas/v4/chat/completions");
  assert.equal(sent.body.stream, false);
  assert.equal(sent.body.model, "glm-4.6");
  assert.deepEqual(sent.body.messages, [{ role: "user", content: "hi" }]);
  assert.equal(sent.headers.get("accept"), "application/json");
});

Deno.test("upstream gets the operator's key and none of the client's identity", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create(
    { model: "glm-4.6", messages: ask("who am I?") },
    { headers: { cookie: "session=secret-cookie", "x-custom-client": "mine" } },
  );
  const headers = gw.upstream.requests[0].headers;
  assert.equal(headers.get("authorization"), `Bearer ${FAKE_UPSTREAM_KEY}`);
  assert.equal(headers.get("cookie"), null);
  assert.equal(headers.get("x-api-key"), null);
  assert.equal(headers.get("x-custom-client"), null);
  assert.doesNotMatch(headers.get("user-agent") ?? "", /OpenAI/i);
  for (const [name, value] of headers) {
    assert.doesNotMatch(name, /^x-stainless/i, `header ${name} leaked upstream`);
    assert.ok(!value.includes(TEST_KEY), `the client's key leaked upstream in ${name}`);
  }
});

Deno.test("model ids match case-insensitively and the response echoes the id sent", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "GLM-4.6",
    messages: ask("case"),
  });
  assert.equal(completion.model, "GLM-4.6");
  assert.equal(gw.upstream.requests[0].body.model, "glm-4.6");
});

Deno.test("a model alias maps a Claude name to its GLM model", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "claude-haiku-4-5",
    messages: ask("alias"),
  });
  assert.equal(completion.model, "claude-haiku-4-5");
  assert.equal(gw.upstream.requests[0].body.model, "glm-4.5-air");
});

Deno.test("temperature and top_p are clamped into GLM's ranges", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("sample"),
    temperature: 1.5,
    top_p: 0,
  });
  assert.equal(completion.choices[0].message.content, "Echo: sample");
  assert.equal(gw.upstream.requests[0].body.temperature, 1);
  assert.equal(gw.upstream.requests[0].body.top_p, 0.01);
});

Deno.test("max_completion_tokens is sent as max_tokens", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("short"),
    max_completion_tokens: 4000,
  });
  assert.equal(completion.choices[0].finish_reason, "stop");
  const sent = gw.upstream.requests[0].body;
  assert.equal(sent.max_tokens, 4000);
  assert.equal("max_completion_tokens" in sent, false);
});

Deno.test("max_tokens above MAX_OUTPUT_TOKENS is lowered, not rejected", async () => {
  await using gw = await startOpenAIGateway({ env: { MAX_OUTPUT_TOKENS: "3" } });
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "A rather long answer that goes on.",
  });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("long"),
    max_tokens: 100_000,
  });
  assert.equal(gw.upstream.requests[0].body.max_tokens, 3);
  assert.equal(completion.choices[0].finish_reason, "length");
  assert.equal(completion.choices[0].message.content, "A rather lon");
});

Deno.test("fields GLM does not support are not forwarded", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("extras"),
    n: 1,
    presence_penalty: 0.5,
    frequency_penalty: 0.5,
    seed: 42,
    logprobs: true,
    top_logprobs: 2,
    logit_bias: { "50256": -100 },
    parallel_tool_calls: false,
    metadata: { team: "a" },
    store: true,
    service_tier: "auto",
  });
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.content, "Echo: extras");
  const sent = gw.upstream.requests[0].body;
  for (
    const field of [
      "n",
      "presence_penalty",
      "frequency_penalty",
      "seed",
      "logprobs",
      "top_logprobs",
      "logit_bias",
      "parallel_tool_calls",
      "metadata",
      "store",
      "service_tier",
    ]
  ) {
    assert.equal(field in sent, false, `${field} reached upstream`);
  }
  assert.deepEqual(Object.keys(sent).sort(), ["messages", "model", "stream"]);
});

Deno.test("user of 6–128 characters becomes user_id; a shorter one is dropped", async () => {
  await using gw = await startOpenAIGateway();
  const client = openAIClient(gw);
  await client.chat.completions.create({ model: "glm-4.6", messages: ask("a"), user: "alice-42" });
  await client.chat.completions.create({ model: "glm-4.6", messages: ask("b"), user: "bob" });
  const long = "x".repeat(200);
  await client.chat.completions.create({ model: "glm-4.6", messages: ask("c"), user: long });
  const [first, second, third] = gw.upstream.requests.map((r) => r.body);
  assert.equal(first.user_id, "alice-42");
  assert.equal("user" in first, false);
  assert.equal("user_id" in second, false);
  assert.equal(typeof third.user_id, "string");
  assert.ok(third.user_id.length >= 6 && third.user_id.length <= 128);
  assert.notEqual(third.user_id, long);
});

Deno.test("stop: the first sequence goes upstream, the others are matched by the gateway", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "alpha STOP beta END gamma" });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("count"),
    stop: ["END", "STOP"],
  });
  assert.deepEqual(gw.upstream.requests[0].body.stop, ["END"]);
  assert.equal(completion.choices[0].message.content, "alpha ");
  assert.equal(completion.choices[0].finish_reason, "stop");
});

Deno.test("a string stop is sent upstream as a one-element list", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "one two three" });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("count"),
    stop: "three",
  });
  assert.deepEqual(gw.upstream.requests[0].body.stop, ["three"]);
  assert.equal(completion.choices[0].message.content, "one two ");
});

Deno.test("a tool call comes back as OpenAI tool_calls, and tools reach upstream", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Need the weather.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("Weather in Paris?"),
    tools: [WEATHER_TOOL],
    tool_choice: "auto",
  });
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null, "the upstream's blank content is not passed on");
  assert.equal(choice.message.tool_calls?.length, 1);
  const call = choice.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.type, "function");
  assert.match(call.id, /^call_/);
  assert.equal(call.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Paris" });

  const sent = gw.upstream.requests[0].body;
  assert.deepEqual(sent.tools, [WEATHER_TOOL]);
  assert.equal(sent.tool_choice, "auto");
  assert.equal("tool_stream" in sent, false, "tool_stream is for streaming only");
});

Deno.test("tool results sent back as tool messages reach upstream intact", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", text: "It is 21 C in Paris." });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    tools: [WEATHER_TOOL],
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_abc123",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_abc123", content: [{ type: "text", text: "21 C" }] },
    ],
  });
  assert.equal(completion.choices[0].message.content, "It is 21 C in Paris.");
  assert.deepEqual(gw.upstream.requests[0].body.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "call_abc123",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_abc123", content: "21 C" },
  ]);
});

Deno.test("tool_choice none drops the tools; required and named become auto", async () => {
  await using gw = await startOpenAIGateway();
  const client = openAIClient(gw);
  const base = { model: "glm-4.6", messages: ask("tools?"), tools: [WEATHER_TOOL] };
  const none = await client.chat.completions.create({ ...base, tool_choice: "none" });
  await client.chat.completions.create({ ...base, tool_choice: "required" });
  await client.chat.completions.create({
    ...base,
    tool_choice: { type: "function", function: { name: "get_weather" } },
  });
  assert.equal(none.choices[0].message.content, "Echo: tools?");
  const [first, second, third] = gw.upstream.requests.map((r) => r.body);
  assert.equal("tools" in first, false);
  assert.equal("tool_choice" in first, false);
  assert.equal(second.tool_choice, "auto");
  assert.equal(second.tools.length, 1);
  assert.equal(third.tool_choice, "auto");
  assert.equal(third.tools.length, 1);
});

for (
  const [mode, expectContent, expectReasoning] of [
    ["reasoning_content", "The answer.", "Pondering."],
    ["think_tags", "<think>Pondering.</think>The answer.", undefined],
    ["none", "The answer.", undefined],
  ] as const
) {
  Deno.test(`REASONING_OUTPUT=${mode} shapes the non-streaming message`, async () => {
    await using gw = await startOpenAIGateway({ env: { REASONING_OUTPUT: mode } });
    gw.upstream.enqueue({ kind: "answer", reasoning: "Pondering.", text: "The answer." });
    const completion = await openAIClient(gw).chat.completions.create({
      model: "glm-4.6",
      messages: ask("think"),
    });
    const message = completion.choices[0].message as Loose;
    assert.equal(message.content, expectContent);
    assert.equal(message.reasoning_content, expectReasoning);
    assert.equal(gw.upstream.requests.length, 1);
    assert.equal("thinking" in gw.upstream.requests[0].body, false);
  });
}

Deno.test("reasoning_effort turns GLM thinking on or off", async () => {
  await using gw = await startOpenAIGateway();
  const client = openAIClient(gw);
  const off = await client.chat.completions.create({
    model: "glm-4.6",
    messages: ask("quick"),
    reasoning_effort: "minimal",
  });
  const on = await client.chat.completions.create({
    model: "glm-4.6",
    messages: ask("deep"),
    reasoning_effort: "high",
  });
  const none = await client.chat.completions.create({
    model: "glm-4.6",
    messages: ask("none"),
    reasoning_effort: "none" as Loose,
  });
  assert.equal((off.choices[0].message as Loose).reasoning_content, undefined);
  assert.equal((on.choices[0].message as Loose).reasoning_content, "Thinking about: deep");
  assert.equal((none.choices[0].message as Loose).reasoning_content, undefined);
  const [first, second, third] = gw.upstream.requests.map((r) => r.body);
  assert.deepEqual(first.thinking, { type: "disabled" });
  assert.deepEqual(second.thinking, { type: "enabled" });
  assert.deepEqual(third.thinking, { type: "disabled" });
  for (const body of [first, second, third]) assert.equal("reasoning_effort" in body, false);
});

Deno.test("reasoning_content on assistant history is forwarded", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [
      { role: "user", content: "first" },
      { role: "assistant", content: "one", reasoning_content: "I counted." } as Loose,
      { role: "user", content: "second" },
    ],
  });
  assert.deepEqual(gw.upstream.requests[0].body.messages[1], {
    role: "assistant",
    content: "one",
    reasoning_content: "I counted.",
  });
});

Deno.test("image parts reach a vision model as parts", async () => {
  await using gw = await startOpenAIGateway();
  const parts: OpenAI.Chat.ChatCompletionContentPart[] = [
    { type: "text", text: "What is this?" },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
  ];
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6v",
    messages: [{ role: "user", content: parts }],
  });
  assert.equal(completion.choices[0].message.content, "Echo: What is this?");
  assert.deepEqual(gw.upstream.requests[0].body.messages[0].content, [
    { type: "text", text: "What is this?" },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
  ]);
});

Deno.test("an image sent to a text model is a 400 naming the model", async () => {
  await using gw = await startOpenAIGateway();
  const reply = await postChat(gw, {
    model: "glm-4.6",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
      ],
    }],
  });
  assert.equal(reply.status, 400);
  assert.equal(reply.json.error.type, "invalid_request_error");
  assert.match(reply.json.error.message, /glm-4\.6/);
  assert.match(reply.json.error.message, /vision/);
  assert.equal(reply.json.error.param, "messages[0].content");
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("text-part arrays are flattened to a string for text models", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [
      { role: "system", content: [{ type: "text", text: "Be " }, { type: "text", text: "kind." }] },
      { role: "user", content: [{ type: "text", text: "Hello, " }, { type: "text", text: "you" }] },
    ],
  });
  assert.equal(completion.choices[0].message.content, "Echo: Hello, you");
  assert.deepEqual(gw.upstream.requests[0].body.messages, [
    { role: "system", content: "Be kind." },
    { role: "user", content: "Hello, you" },
  ]);
});

Deno.test("the developer role reaches GLM as system", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "developer", content: "Rules." }, { role: "user", content: "go" }],
  });
  assert.deepEqual(gw.upstream.requests[0].body.messages[0], { role: "system", content: "Rules." });
});

for (
  const [upstream, expected] of [
    ["stop", "stop"],
    ["length", "length"],
    ["sensitive", "content_filter"],
    ["model_context_window_exceeded", "length"],
  ] as const
) {
  Deno.test(`upstream finish_reason ${upstream} is reported as ${expected}`, async () => {
    await using gw = await startOpenAIGateway();
    gw.upstream.enqueue({ kind: "answer", text: "Partial", finish: upstream });
    const completion = await openAIClient(gw).chat.completions.create({
      model: "glm-4.6",
      messages: ask("finish"),
    });
    assert.equal(completion.choices[0].finish_reason, expected);
    assert.equal(completion.choices[0].message.content, "Partial");
  });
}

Deno.test("usage carries the upstream counts and cached prompt tokens", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    usage: { prompt_tokens: 120, completion_tokens: 30, cached_tokens: 40 },
  });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("usage"),
  });
  assert.equal(completion.usage?.prompt_tokens, 120);
  assert.equal(completion.usage?.completion_tokens, 30);
  assert.equal(completion.usage?.total_tokens, 150);
  assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 40);
});

Deno.test("response_format json_schema is sent as GLM's json_object", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("json"),
    response_format: {
      type: "json_schema",
      json_schema: { name: "x", schema: { type: "object" } },
    },
  });
  assert.deepEqual(gw.upstream.requests[0].body.response_format, { type: "json_object" });
});

Deno.test("GET /health answers without touching upstream", async () => {
  await using gw = await startOpenAIGateway();
  const response = await gw.fetch(`${gw.url}/health`);
  const body = await response.json();
  assert.equal(response.status, 200);
  assert.equal(body.status, "ok");
  assert.equal(typeof body.version, "string");
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("GET /v1/models lists the models in OpenAI's shape", async () => {
  await using gw = await startOpenAIGateway();
  const client = openAIClient(gw);
  const ids: string[] = [];
  for await (const model of client.models.list()) {
    assert.equal(model.object, "model");
    assert.equal(typeof model.created, "number");
    assert.equal(typeof model.owned_by, "string");
    ids.push(model.id);
  }
  for (const id of ["glm-5", "glm-4.6", "glm-4.6v", "glm-4.5-air", "glm-4.7-flash"]) {
    assert.ok(ids.includes(id), `${id} is listed`);
  }
  const raw = await gw.fetch(`${gw.url}/v1/models`, {
    headers: { authorization: `Bearer ${TEST_KEY}` },
  });
  assert.equal((await raw.json()).object, "list");
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("GET /v1/models answers in Anthropic's shape when anthropic-version is sent", async () => {
  await using gw = await startOpenAIGateway();
  const response = await gw.fetch(`${gw.url}/v1/models`, {
    headers: { "x-api-key": TEST_KEY, "anthropic-version": "2023-06-01" },
  });
  const body = await response.json();
  assert.equal(response.status, 200);
  assert.equal(body.has_more, false);
  assert.equal(body.first_id, body.data[0].id);
  assert.equal(body.last_id, body.data.at(-1).id);
  const glm46 = body.data.find((m: Loose) => m.id === "glm-4.6");
  assert.equal(glm46.type, "model");
  assert.equal(typeof glm46.display_name, "string");
  assert.ok(!Number.isNaN(Date.parse(glm46.created_at)));
});

Deno.test("each request gets one structured log line", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create({ model: "GLM-4.6", messages: ask("log me") });
  await gw.fetch(`${gw.url}/nowhere`).then((r) => r.body?.cancel());
  const lines = gw.logs.map((line) => JSON.parse(line));
  const chat = lines.filter((l) => l.path === "/v1/chat/completions");
  assert.equal(chat.length, 1);
  assert.equal(chat[0].method, "POST");
  assert.equal(chat[0].status, 200);
  assert.equal(chat[0].model, "GLM-4.6");
  assert.equal(typeof chat[0].durationMs, "number");
  assert.ok(!Number.isNaN(Date.parse(chat[0].time)));
  assert.match(chat[0].upstreamRequestId, /^\d{14}[0-9a-f]{16}$/, "Z.ai's id of the answer");
  const missing = lines.filter((l) => l.path === "/nowhere");
  assert.equal(missing.length, 1);
  assert.equal(missing[0].status, 404);
  assert.equal(missing[0].method, "GET");
});

Deno.test("DEBUG_MODE logs request detail with every key redacted", async () => {
  await using gw = await startOpenAIGateway({ env: { DEBUG_MODE: "true" } });
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask(`my key is ${TEST_KEY}, keep it safe`),
  });
  const stream = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("stream too"),
    stream: true,
  });
  for await (const _chunk of stream) { /* drain */ }
  await gw.fetch(`${gw.url}/v1/models`, {
    headers: { authorization: "Bearer sk-wrong-key-123456" },
  })
    .then((r) => r.body?.cancel());
  const all = gw.logs.join("\n");
  assert.ok(
    gw.logs.some((l) => l.includes('"debug":"upstream request"') && l.includes("keep it safe")),
    "the upstream request is logged in detail",
  );
  assert.ok(gw.logs.some((l) => l.includes('"debug":"upstream response"')));
  assert.ok(!all.includes(TEST_KEY), "the client's key is in the logs");
  assert.ok(!all.includes(FAKE_UPSTREAM_KEY), "the upstream key is in the logs");
  assert.ok(!all.includes("sk-wrong-key-123456"), "a rejected key is in the logs");
});

Deno.test("without DEBUG_MODE, message contents stay out of the logs", async () => {
  await using gw = await startOpenAIGateway();
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: ask("private words"),
  });
  assert.ok(gw.logs.length > 0);
  assert.ok(!gw.logs.join("\n").includes("private words"));
});
