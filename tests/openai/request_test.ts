/** openai_request.ts: OpenAI Chat Completions bodies → GLM requests, without a server. */

import assert from "node:assert/strict";
import { loadConfig } from "../../lib/core/config.ts";
import { ApiError } from "../../lib/core/errors.ts";
import { planOpenAIChat } from "../../lib/openai/request.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const CONFIG = loadConfig({});
const JSON_ACCEPT = "application/json";

function plan(
  body: Record<string, unknown>,
  options: { accept?: string | null; env?: Loose } = {},
) {
  const config = options.env ? loadConfig(options.env) : CONFIG;
  return Promise.resolve().then(() =>
    planOpenAIChat(
      { model: "glm-4.6", messages: [{ role: "user", content: "hi" }], ...body },
      config,
      new Headers(
        options.accept === null ? {} : { accept: options.accept ?? JSON_ACCEPT },
      ),
    )
  );
}

async function rejects(body: Record<string, unknown>, param: string): Promise<ApiError> {
  const error = await plan(body).then(() => undefined, (e) => e);
  assert.ok(error instanceof ApiError, `expected a 400 for ${JSON.stringify(body)}`);
  assert.equal(error.status, 400);
  assert.equal(error.param, param);
  return error;
}

Deno.test("a minimal request becomes a minimal GLM request", async () => {
  const result = await plan({});
  assert.deepEqual(result.glm, {
    model: "glm-4.6",
    messages: [{ role: "user", content: "hi" }],
    stream: false,
  });
  assert.equal(result.stream, false);
  assert.equal(result.includeUsage, false);
  assert.deepEqual(result.stopSequences, []);
  assert.equal(result.model.requested, "glm-4.6");
  assert.equal(result.model.info?.id, "glm-4.6");
  assert.equal((await plan({}, { accept: null })).glm.stream, true, "DEFAULT_STREAM=true");
  const off = await plan({}, { accept: null, env: { DEFAULT_STREAM: "false" } });
  assert.equal(off.glm.stream, false);
});

Deno.test("model ids: case-insensitive table match, aliases, unknown ids as sent", async () => {
  const upper = await plan({ model: "GLM-4.5-Air" });
  assert.equal(upper.glm.model, "glm-4.5-air");
  assert.equal(upper.model.requested, "GLM-4.5-Air");
  const alias = await plan({ model: "claude-sonnet-4-5-20250929" });
  assert.equal(alias.glm.model, "glm-5");
  const unknown = await plan({ model: "glm-9-preview" });
  assert.equal(unknown.glm.model, "glm-9-preview");
  assert.equal(unknown.model.info, undefined);
  const custom = await plan({ model: "gpt-4o-mini" }, {
    env: { MODEL_ALIASES: "gpt-4o*=glm-4.7" },
  });
  assert.equal(custom.glm.model, "glm-4.7");
});

Deno.test("sampling: temperature clamped to [0,1], top_p to [0.01,1]", async () => {
  const cases: [number, number, number, number][] = [
    [1.5, 0, 1, 0.01],
    [2, 1, 1, 1],
    [0, 0.5, 0, 0.5],
    [0.7, 0.005, 0.7, 0.01],
  ];
  for (const [temperature, topP, sentTemperature, sentTopP] of cases) {
    const { glm } = await plan({ temperature, top_p: topP });
    assert.equal(glm.temperature, sentTemperature);
    assert.equal(glm.top_p, sentTopP);
  }
});

Deno.test("max tokens: max_completion_tokens first, lowered to the gateway's and the model's limits", async () => {
  assert.equal((await plan({ max_tokens: 100 })).glm.max_tokens, 100);
  assert.equal(
    (await plan({ max_completion_tokens: 200, max_tokens: 100 })).glm.max_tokens,
    200,
  );
  assert.equal((await plan({ max_tokens: 10_000_000 })).glm.max_tokens, 131072);
  assert.equal(
    (await plan({ max_tokens: 5000 }, { env: { MAX_OUTPUT_TOKENS: "1000" } })).glm.max_tokens,
    1000,
  );
  assert.equal((await plan({ model: "glm-4.6v", max_tokens: 100_000 })).glm.max_tokens, 32768);
  assert.equal(
    (await plan({ model: "something-new", max_tokens: 100_000 })).glm.max_tokens,
    100_000,
  );
});

Deno.test("stop: strings and arrays; one goes upstream, all are matched locally", async () => {
  const single = await plan({ stop: "END" });
  assert.deepEqual(single.glm.stop, ["END"]);
  assert.deepEqual(single.stopSequences, ["END"]);
  const many = await plan({ stop: ["", "A", "B", "C"] });
  assert.deepEqual(many.glm.stop, ["A"]);
  assert.deepEqual(many.stopSequences, ["A", "B", "C"]);
  assert.equal("stop" in (await plan({ stop: [] })).glm, false);
  assert.equal("stop" in (await plan({ stop: "" })).glm, false);
  await rejects({ stop: ["a", "b", "c", "d", "e"] }, "stop");
  await rejects({ stop: [1] }, "stop");
});

Deno.test("unsupported OpenAI fields are dropped; n=1 is accepted, n>1 refused", async () => {
  const { glm } = await plan({
    n: 1,
    presence_penalty: 1,
    frequency_penalty: 1,
    seed: 7,
    logprobs: true,
    top_logprobs: 3,
    logit_bias: {},
    parallel_tool_calls: true,
    metadata: { a: "b" },
    store: false,
    service_tier: "default",
    modalities: ["text"],
    prediction: { type: "content", content: "x" },
    audio: null,
  });
  assert.deepEqual(Object.keys(glm).sort(), ["messages", "model", "stream"]);
  await rejects({ n: 2 }, "n");
});

Deno.test("user → user_id: 6–128 characters as is, shorter dropped, longer hashed", async () => {
  assert.equal((await plan({ user: "user-123" })).glm.user_id, "user-123");
  assert.equal("user_id" in (await plan({ user: "abc" })).glm, false);
  assert.equal("user_id" in (await plan({ user: 12345678 })).glm, false);
  const long = "u".repeat(129);
  const hashed = (await plan({ user: long })).glm.user_id as string;
  assert.match(hashed, /^u-[0-9a-f]{64}$/);
  assert.equal((await plan({ user: long })).glm.user_id, hashed, "stable for the same user");
  assert.equal((await plan({ user: "x".repeat(128) })).glm.user_id, "x".repeat(128));
});

const TOOL = {
  type: "function",
  function: {
    name: "lookup",
    description: "Look a thing up",
    parameters: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { q: { type: "string" } },
    },
    strict: true,
  },
};

Deno.test("tools: function tools translated; tool_choice none drops them; others → auto", async () => {
  const auto = await plan({ tools: [TOOL] });
  assert.deepEqual(auto.glm.tools, [{
    type: "function",
    function: {
      name: "lookup",
      description: "Look a thing up",
      parameters: { type: "object", properties: { q: { type: "string" } } },
    },
  }]);
  assert.equal(auto.glm.tool_choice, "auto");
  assert.equal("tool_stream" in auto.glm, false, "not streaming");

  for (const choice of ["required", "auto", { type: "function", function: { name: "lookup" } }]) {
    const { glm } = await plan({ tools: [TOOL], tool_choice: choice });
    assert.equal(glm.tool_choice, "auto");
    assert.equal((glm.tools as unknown[]).length, 1);
  }
  const none = await plan({ tools: [TOOL], tool_choice: "none" });
  assert.equal("tools" in none.glm, false);
  assert.equal("tool_choice" in none.glm, false);
  assert.equal("tools" in (await plan({ tools: [] })).glm, false);

  const bare = await plan({ tools: [{ type: "function", function: { name: "ping" } }] });
  assert.deepEqual(bare.glm.tools, [{
    type: "function",
    function: { name: "ping", description: "", parameters: { type: "object", properties: {} } },
  }]);
  const search = await plan({ tools: [{ type: "web_search", web_search: { enable: true } }] });
  assert.deepEqual(search.glm.tools, [{ type: "web_search", web_search: { enable: true } }]);
});

Deno.test("tool_stream is set only when streaming to a model that supports it", async () => {
  assert.equal((await plan({ tools: [TOOL], stream: true })).glm.tool_stream, true);
  assert.equal((await plan({ model: "glm-5", tools: [TOOL], stream: true })).glm.tool_stream, true);
  assert.equal(
    "tool_stream" in (await plan({ model: "glm-4.5", tools: [TOOL], stream: true })).glm,
    false,
  );
  assert.equal(
    "tool_stream" in (await plan({ model: "odd-model", tools: [TOOL], stream: true })).glm,
    false,
  );
  assert.equal(
    "tool_stream" in (await plan({ stream: true })).glm,
    false,
    "no tools, no tool_stream",
  );
});

Deno.test("history: tool calls, tool results and reasoning_content reach GLM's shape", async () => {
  const { glm } = await plan({
    messages: [
      { role: "developer", content: [{ type: "text", text: "Rules." }] },
      { role: "user", content: "Find x", name: "alice" },
      {
        role: "assistant",
        content: [{ type: "text", text: "Looking." }],
        reasoning_content: "Use lookup.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "lookup", arguments: { q: "x" } } },
          { type: "function", function: { name: "lookup", arguments: '{"q":"y"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "x is 1" },
      { role: "tool", tool_call_id: "call_1", content: null },
      { role: "assistant", content: null, tool_calls: [] },
    ],
  });
  assert.deepEqual(glm.messages, [
    { role: "system", content: "Rules." },
    { role: "user", content: "Find x" },
    {
      role: "assistant",
      content: "Looking.",
      reasoning_content: "Use lookup.",
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
        { id: "call_m2_1", type: "function", function: { name: "lookup", arguments: '{"q":"y"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "x is 1" },
    { role: "tool", tool_call_id: "call_1", content: "" },
    { role: "assistant", content: "" },
  ]);
});

Deno.test("content parts: text flattened for text models, media kept for vision models", async () => {
  const text = await plan({
    messages: [{ role: "user", content: ["plain ", { type: "text", text: "parts" }] }],
  });
  assert.equal((text.glm.messages as Loose)[0].content, "plain parts");

  const parts = [
    { type: "text", text: "look" },
    { type: "image_url", image_url: "https://example.com/a.png" },
    { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA", detail: "low" } },
    { type: "video_url", video_url: { url: "https://example.com/v.mp4" } },
  ];
  const vision = await plan({ model: "GLM-4.6V", messages: [{ role: "user", content: parts }] });
  assert.deepEqual((vision.glm.messages as Loose)[0].content, [
    { type: "text", text: "look" },
    { type: "image_url", image_url: { url: "https://example.com/a.png" } },
    { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } },
    { type: "video_url", video_url: { url: "https://example.com/v.mp4" } },
  ]);

  const refused = await rejects(
    { messages: [{ role: "user", content: parts }] },
    "messages[0].content",
  );
  assert.match(refused.message, /Model glm-4\.6 does not accept images/);
  const unknownModel = await plan({
    model: "new-vision-x",
    messages: [{ role: "user", content: parts }],
  });
  assert.equal(
    (unknownModel.glm.messages as Loose)[0].content.length,
    4,
    "unknown models are trusted",
  );
  await rejects(
    { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] },
    "messages[0].content[0].type",
  );
});

Deno.test("reasoning_effort maps to thinking on GLM models, passes through for unknown ones", async () => {
  for (
    const [effort, type] of [["none", "disabled"], ["minimal", "disabled"], ["low", "enabled"], [
      "high",
      "enabled",
    ], ["max", "enabled"]]
  ) {
    const { glm } = await plan({ reasoning_effort: effort });
    assert.deepEqual(glm.thinking, { type }, effort);
    assert.equal("reasoning_effort" in glm, false);
  }
  const unknown = await plan({ model: "glm-9", reasoning_effort: "high" });
  assert.equal(unknown.glm.reasoning_effort, "high");
  assert.equal("thinking" in unknown.glm, false);
  const noThinking = await plan({ model: "glm-4-32b-0414-128k", reasoning_effort: "high" });
  assert.equal("thinking" in noThinking.glm, false);
  assert.equal("reasoning_effort" in noThinking.glm, false);
  const explicit = await plan({ thinking: { type: "disabled" } });
  assert.deepEqual(explicit.glm.thinking, { type: "disabled" });
  const ignored = await plan({ thinking: { type: "adaptive" } });
  assert.equal("thinking" in ignored.glm, false);
});

Deno.test("response_format and stream_options", async () => {
  assert.equal("response_format" in (await plan({ response_format: { type: "text" } })).glm, false);
  assert.deepEqual((await plan({ response_format: { type: "json_object" } })).glm.response_format, {
    type: "json_object",
  });
  const usage = await plan({ stream: true, stream_options: { include_usage: true } });
  assert.equal(usage.includeUsage, true);
  assert.equal("stream_options" in usage.glm, false);
  assert.equal((await plan({ stream: true, stream_options: {} })).includeUsage, false);
});
