import assert from "node:assert/strict";
import type { Anthropic } from "../support/clients.ts";
import {
  anthropicClient,
  type AnthropicGateway,
  postRaw,
  startAnthropicGateway,
} from "../support/anthropic.ts";

type Params = Anthropic.MessageCreateParamsNonStreaming;

/** The same request through `messages.create` and through `messages.stream(...).finalMessage()`. */
async function bothWays(gw: AnthropicGateway, params: Params) {
  const client = anthropicClient(gw);
  const json = await client.messages.create(params);
  const streamed = await client.messages.stream(params).finalMessage();
  return { json, streamed };
}

function upstreamBody(gw: AnthropicGateway, fromEnd = 1) {
  return gw.upstream.requests.at(-fromEnd)!.body;
}

Deno.test("text answer: system blocks, alias, echoed model, usage; streaming and not", async () => {
  await using gw = await startAnthropicGateway();
  const params: Params = {
    model: "claude-sonnet-4-6",
    max_tokens: 256,
    system: [
      { type: "text", text: "You are terse." },
      { type: "text", text: "Answer in English.", cache_control: { type: "ephemeral" } },
    ],
    messages: [{ role: "user", content: "Say hi" }],
  };
  const { json, streamed } = await bothWays(gw, params);
  for (const [message, stream] of [[json, false], [streamed, true]] as const) {
    assert.match(message.id, /^msg_/);
    assert.equal(message.type, "message");
    assert.equal(message.role, "assistant");
    assert.equal(message.model, "claude-sonnet-4-6");
    assert.deepEqual(message.content.map((b) => b.type), ["thinking", "text"]);
    assert.equal((message.content[1] as Anthropic.TextBlock).text, "Echo: Say hi");
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.stop_sequence, null);
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    const sent = upstreamBody(gw, stream ? 1 : 2);
    assert.equal(sent.model, "glm-5");
    assert.equal(sent.stream, stream);
    assert.deepEqual(sent.messages, [
      { role: "system", content: "You are terse.\n\nAnswer in English." },
      { role: "user", content: "Say hi" },
    ]);
  }
});

Deno.test("thinking round trip: only a block with a valid signature reaches GLM", async () => {
  await using gw = await startAnthropicGateway();
  const client = anthropicClient(gw);
  const first = await client.messages.create({
    model: "glm-5",
    max_tokens: 200,
    thinking: { type: "enabled", budget_tokens: 2048 },
    messages: [{ role: "user", content: "What is 2+2?" }],
  });
  assert.deepEqual(upstreamBody(gw).thinking, { type: "enabled" });
  const thinking = first.content[0] as Anthropic.ThinkingBlock;
  assert.equal(thinking.type, "thinking");
  assert.equal(thinking.thinking, "Thinking about: What is 2+2?");
  assert.match(thinking.signature, /^[A-Za-z0-9+/]{43}=$/);
  const streamed = await client.messages.stream({
    model: "glm-5",
    max_tokens: 200,
    messages: [{ role: "user", content: "What is 3+3?" }],
  }).finalMessage();
  const streamedThinking = streamed.content[0] as Anthropic.ThinkingBlock;
  assert.match(streamedThinking.signature, /^[A-Za-z0-9+/]{43}=$/);

  await client.messages.create({
    model: "glm-5",
    max_tokens: 200,
    messages: [
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
      { role: "user", content: "And 3+3?" },
      { role: "assistant", content: streamed.content as Anthropic.ContentBlockParam[] },
      { role: "user", content: "Tampered:" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Forged thoughts", signature: thinking.signature },
          { type: "thinking", thinking: "Unsigned thoughts", signature: "" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "text", text: "4" },
        ],
      },
      { role: "user", content: "Thanks" },
    ],
  });
  assert.deepEqual(upstreamBody(gw).messages, [
    { role: "user", content: "What is 2+2?" },
    {
      role: "assistant",
      content: "Echo: What is 2+2?",
      reasoning_content: "Thinking about: What is 2+2?",
    },
    { role: "user", content: "And 3+3?" },
    {
      role: "assistant",
      content: "Echo: What is 3+3?",
      reasoning_content: "Thinking about: What is 3+3?",
    },
    { role: "user", content: "Tampered:" },
    { role: "assistant", content: "4" },
    { role: "user", content: "Thanks" },
  ]);
});

Deno.test("a tool loop: tool_use out, tool_result back, GLM sees the exact conversation", async () => {
  await using gw = await startAnthropicGateway();
  const client = anthropicClient(gw);
  const tools: Anthropic.Tool[] = [{
    name: "get_weather",
    description: "Weather of a city",
    input_schema: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  }];
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Need the weather.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  });
  const first = await client.messages.create({
    model: "glm-4.7",
    max_tokens: 500,
    tools,
    tool_choice: { type: "any" },
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
  assert.equal(first.stop_reason, "tool_use");
  assert.deepEqual(first.content.map((b) => b.type), ["thinking", "tool_use"]);
  const use = first.content[1] as Anthropic.ToolUseBlock;
  assert.equal(use.name, "get_weather");
  assert.deepEqual(use.input, { city: "Paris" });
  assert.match(use.id, /^[A-Za-z0-9_-]+$/);
  const sentFirst = upstreamBody(gw);
  assert.equal(sentFirst.tool_choice, "auto");
  assert.equal(sentFirst.tool_stream, undefined);
  assert.deepEqual(sentFirst.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather of a city",
      parameters: tools[0].input_schema,
    },
  }]);

  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "It is sunny in Paris." });
  const second = await client.messages.create({
    model: "glm-4.7",
    max_tokens: 500,
    tools,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
      {
        role: "user",
        content: [
          { type: "text", text: "Here you go." },
          { type: "tool_result", tool_use_id: use.id, content: "Sunny, 24 C" },
          {
            type: "tool_result",
            tool_use_id: "toolu_other",
            is_error: true,
            content: [{ type: "text", text: "City not found" }],
          },
        ],
      },
    ],
  });
  assert.equal(second.stop_reason, "end_turn");
  assert.deepEqual(second.content, [{ type: "text", text: "It is sunny in Paris." }]);
  assert.deepEqual(upstreamBody(gw).messages, [
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "Need the weather.",
      tool_calls: [{
        id: use.id,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: use.id, content: "Sunny, 24 C" },
    { role: "tool", tool_call_id: "toolu_other", content: "[error] City not found" },
    { role: "user", content: "Here you go." },
  ]);
});

Deno.test("tool arguments that are not a JSON object are kept under _raw_arguments", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    text: "",
    toolCalls: [{ name: "a", arguments: "{broken" }, { name: "b", arguments: "" }],
  });
  const message = await anthropicClient(gw).messages.create({
    model: "glm-4.5",
    max_tokens: 100,
    tools: [{ name: "a", input_schema: { type: "object" } }, {
      name: "b",
      input_schema: { type: "object" },
    }],
    messages: [{ role: "user", content: "go" }],
  });
  const uses = message.content.filter((b) => b.type === "tool_use") as Anthropic.ToolUseBlock[];
  assert.deepEqual(uses.map((u) => u.input), [{ _raw_arguments: "{broken" }, {}]);
});

Deno.test("images: data URL / URL upstream for a vision model, 400 naming the model otherwise", async () => {
  await using gw = await startAnthropicGateway();
  const client = anthropicClient(gw);
  const content: Anthropic.ContentBlockParam[] = [
    { type: "text", text: "What is this?" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
  ];
  await client.messages.create({
    model: "glm-4.6v",
    max_tokens: 100,
    messages: [{ role: "user", content }],
  });
  assert.deepEqual(upstreamBody(gw).messages[0].content, [
    { type: "text", text: "What is this?" },
    { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
  ]);
  const requests = gw.upstream.requests.length;
  await assert.rejects(
    client.messages.create({
      model: "glm-5",
      max_tokens: 100,
      messages: [{ role: "user", content }],
    }),
    // deno-lint-ignore no-explicit-any
    (error: any) => {
      assert.equal(error.status, 400);
      const body = error.error;
      assert.equal(body.type, "error");
      assert.equal(body.error.type, "invalid_request_error");
      assert.match(body.error.message, /Model glm-5 does not accept images/);
      assert.match(body.error.message, /messages\[0\]\.content\[1\]/);
      return true;
    },
  );
  assert.equal(gw.upstream.requests.length, requests);
});

Deno.test("every stop reason, streaming and not", async () => {
  await using gw = await startAnthropicGateway();
  const cases = [
    { script: { text: "Done." }, stop: "end_turn", sequence: null, text: "Done." },
    { script: { text: "Cut sho", finish: "length" }, stop: "max_tokens", text: "Cut sho" },
    {
      script: { text: "Too long", finish: "model_context_window_exceeded" },
      stop: "max_tokens",
      text: "Too long",
    },
    { script: { text: "", finish: "sensitive" }, stop: "refusal", text: undefined },
    {
      script: { text: "Count: one two STOP three zzz" },
      stop: "stop_sequence",
      sequence: "STOP",
      text: "Count: one two ",
    },
    {
      script: { text: "", toolCalls: [{ name: "t", arguments: "{}" }] },
      stop: "tool_use",
      text: undefined,
    },
  ];
  for (const c of cases) {
    for (let i = 0; i < 2; i++) gw.upstream.enqueue({ kind: "answer", reasoning: "", ...c.script });
    const { json, streamed } = await bothWays(gw, {
      model: "glm-4.6",
      max_tokens: 1000,
      stop_sequences: ["zzz", "STOP"],
      tools: [{ name: "t", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: "go" }],
    });
    for (const message of [json, streamed]) {
      assert.equal(message.stop_reason, c.stop, JSON.stringify(c));
      assert.equal(message.stop_sequence, c.sequence ?? null);
      const text = message.content.find((b) => b.type === "text") as Anthropic.TextBlock;
      assert.equal(text?.text, c.text);
    }
    assert.equal(upstreamBody(gw).stop, undefined);
  }
});

Deno.test("usage: input_tokens excludes cached tokens, which are cache_read_input_tokens", async () => {
  await using gw = await startAnthropicGateway();
  const usage = { prompt_tokens: 1200, completion_tokens: 34, cached_tokens: 1000 };
  for (let i = 0; i < 2; i++) gw.upstream.enqueue({ kind: "answer", usage });
  const { json, streamed } = await bothWays(gw, {
    model: "glm-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
  });
  for (const message of [json, streamed]) {
    assert.equal(message.usage.input_tokens, 200);
    assert.equal(message.usage.cache_read_input_tokens, 1000);
    assert.equal(message.usage.cache_creation_input_tokens, 0);
    assert.equal(message.usage.output_tokens, 34);
  }
});

Deno.test("request fields: sampling, limits, thinking, tool_choice, metadata", async () => {
  await using gw = await startAnthropicGateway({ env: { MAX_OUTPUT_TOKENS: "50000" } });
  const client = anthropicClient(gw);
  const tools: Anthropic.Tool[] = [{ name: "t", input_schema: { type: "object" } }];
  const base = { messages: [{ role: "user" as const, content: "hi" }] };
  // Sampling fields are not in this SDK's types, but clients still send them.
  await client.messages.create({
    ...base,
    model: "glm-5",
    max_tokens: 64000,
    temperature: 0.3,
    top_p: 0,
    top_k: 40,
    thinking: { type: "disabled" },
    metadata: { user_id: "user-123456" },
  } as Params, { timeout: 60_000 });
  let sent = upstreamBody(gw);
  assert.equal(sent.max_tokens, 50000);
  assert.equal(sent.temperature, 0.3);
  assert.equal(sent.top_p, 0.01);
  assert.equal(sent.top_k, undefined);
  assert.deepEqual(sent.thinking, { type: "disabled" });
  assert.equal(sent.user_id, "user-123456");

  await client.messages.create({ ...base, model: "glm-4.6v", max_tokens: 40000 }, {
    timeout: 60_000,
  });
  assert.equal(upstreamBody(gw).max_tokens, 32768);
  assert.equal(upstreamBody(gw).thinking, undefined);

  await client.messages.create({
    ...base,
    model: "glm-4-32b-0414-128k",
    max_tokens: 10,
    // deno-lint-ignore no-explicit-any
    thinking: { type: "adaptive" } as any,
  });
  assert.equal(upstreamBody(gw).thinking, undefined, "no thinking switch for a model without it");

  await client.messages.create({
    ...base,
    model: "glm-5",
    max_tokens: 10,
    tools,
    tool_choice: { type: "none" },
  });
  sent = upstreamBody(gw);
  assert.equal(sent.tools, undefined);
  assert.equal(sent.tool_choice, undefined);

  await client.messages.stream({
    ...base,
    model: "glm-5",
    max_tokens: 10,
    tools,
    tool_choice: { type: "tool", name: "t" },
  }).finalMessage();
  sent = upstreamBody(gw);
  assert.equal(sent.tool_choice, "auto");
  assert.equal(sent.tool_stream, true);
});

Deno.test("count_tokens: deterministic, grows with content, counts tools and images", async () => {
  await using gw = await startAnthropicGateway();
  const count = async (body: Record<string, unknown>) => {
    const response = await postRaw(gw, "/v1/messages/count_tokens", body);
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(Object.keys(response.body), ["input_tokens"]);
    return response.body.input_tokens as number;
  };
  const short = { model: "glm-5", messages: [{ role: "user", content: "Hello there" }] };
  const first = await count(short);
  assert.equal(first, await count(short));
  assert.equal(first, 4 + 3); // one message + "Hello there" (11 ASCII chars / 4, rounded up)
  const withSystem = await count({ ...short, system: "You are a careful assistant." });
  assert.ok(withSystem > first);
  const longer = await count({
    ...short,
    messages: [...short.messages, { role: "assistant", content: "x".repeat(400) }],
  });
  assert.equal(longer, first + 4 + 100);
  const tool = { name: "read_file", description: "Reads a file", input_schema: { type: "object" } };
  const withTool = await count({ ...short, tools: [tool] });
  assert.equal(withTool, first + 3 + 3 + 5);
  const history = await count({
    model: "glm-5",
    messages: [
      { role: "user", content: "Read it" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "I should read it", signature: "whatever" },
          { type: "tool_use", id: "toolu_1", name: "read_file", input: { path: "/etc/hosts" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "ok" }] },
    ],
  });
  assert.equal(history, 4 + 2 + (4 + 4 + 3 + 6) + (4 + 1));
  const image = { type: "image", source: { type: "url", url: "https://example.com/a.png" } };
  const withImage = await count({
    model: "glm-4.6v",
    messages: [{ role: "user", content: [{ type: "text", text: "Hello there" }, image] }],
  });
  assert.equal(withImage, first + 1000);
  assert.equal(gw.upstream.requests.length, 0);
  const bad = await postRaw(gw, "/v1/messages/count_tokens", { model: "glm-5", messages: [] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /messages/);
});
