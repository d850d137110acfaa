/**
 * Structured output and forced tools, as they reach Z.ai: `json_object` upstream plus the schema
 * (and the tool the model must call) in the system prompt, on all three client APIs.
 */

import assert from "node:assert/strict";
import { appendToSystemPrompt } from "../../lib/chat/system_prompt.ts";
import { anthropicClient } from "../support/anthropic.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { openAIClient } from "../support/openai_client.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const SCHEMA = {
  type: "object",
  properties: { city_name: { type: "string" }, population_count: { type: "integer" } },
  required: ["city_name", "population_count"],
  additionalProperties: false,
};

const TOOL_PARAMS = { type: "object", properties: { city: { type: "string" } } };

function sent(gw: TestGateway): Loose {
  return gw.upstream.requests.at(-1)!.body;
}

function systemPrompt(body: Loose): string {
  return body.messages.filter((m: Loose) => m.role === "system").map((m: Loose) => m.content)
    .join("\n");
}

/** The schema's property names reach the model, and GLM gets the one format it knows. */
function assertSchemaSent(body: Loose): void {
  assert.deepEqual(body.response_format, { type: "json_object" });
  const prompt = systemPrompt(body);
  assert.match(prompt, /city_name/);
  assert.match(prompt, /population_count/);
  assert.match(prompt, /JSON Schema/);
}

Deno.test("appendToSystemPrompt: after the leading system messages, or a new first one", () => {
  assert.deepEqual(appendToSystemPrompt([{ role: "user", content: "hi" }], "RULE"), [
    { role: "system", content: "RULE" },
    { role: "user", content: "hi" },
  ]);
  const messages = [
    { role: "system", content: "A" },
    { role: "system", content: "B" },
    { role: "user", content: "hi" },
    { role: "system", content: "late" },
  ];
  assert.deepEqual(appendToSystemPrompt(messages, "RULE").map((m) => m.content), [
    "A",
    "B\n\nRULE",
    "hi",
    "late",
  ]);
  assert.equal(messages[1].content, "B", "the input is not changed");
});

Deno.test("chat completions: response_format json_schema keeps its schema", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({ kind: "answer", text: '{"city_name":"Oslo","population_count":700000}' });
  const completion = await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "system", content: "You know cities." }, { role: "user", content: "Oslo" }],
    response_format: {
      type: "json_schema",
      json_schema: { name: "city", strict: true, schema: SCHEMA },
    },
  });
  assert.equal(JSON.parse(completion.choices[0].message.content!).city_name, "Oslo");
  const body = sent(gw);
  assertSchemaSent(body);
  assert.match(body.messages[0].content, /^You know cities\.\n\n.*"city"/s);
  assert.equal(body.messages.length, 2, "appended to the client's system message");
});

Deno.test("chat completions: json_object alone adds no instruction", async () => {
  await using gw = await startGateway();
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "user", content: "json please" }],
    response_format: { type: "json_object" },
  });
  assert.deepEqual(sent(gw).response_format, { type: "json_object" });
  assert.deepEqual(sent(gw).messages, [{ role: "user", content: "json please" }]);
});

Deno.test("chat completions: a forced function and required name the tool to call", async () => {
  await using gw = await startGateway();
  const tools = [{
    type: "function" as const,
    function: { name: "lookup", parameters: TOOL_PARAMS },
  }];
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "user", content: "Oslo" }],
    tools,
    tool_choice: { type: "function", function: { name: "lookup" } },
  });
  assert.equal(sent(gw).tool_choice, "auto");
  assert.match(systemPrompt(sent(gw)), /You must call the tool "lookup"/);
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "user", content: "Oslo" }],
    tools,
    tool_choice: "required",
  });
  assert.match(systemPrompt(sent(gw)), /You must call one of the provided tools/);
  await openAIClient(gw).chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "user", content: "Oslo" }],
    tools,
  });
  assert.equal(systemPrompt(sent(gw)), "", "auto adds nothing");
});

Deno.test("responses: text.format json_schema keeps its schema", async () => {
  await using gw = await startGateway();
  await openAIClient(gw).responses.create({
    model: "glm-4.6",
    instructions: "You know cities.",
    input: "Oslo",
    text: { format: { type: "json_schema", name: "city", schema: SCHEMA, strict: true } },
  });
  assertSchemaSent(sent(gw));
  assert.equal(sent(gw).messages.length, 2);
});

Deno.test("responses: a forced function names the tool to call", async () => {
  await using gw = await startGateway();
  await openAIClient(gw).responses.create({
    model: "glm-4.6",
    input: "Oslo",
    tools: [{ type: "function", name: "lookup", parameters: TOOL_PARAMS, strict: false }],
    tool_choice: { type: "function", name: "lookup" },
  });
  assert.equal(sent(gw).tool_choice, "auto");
  assert.match(systemPrompt(sent(gw)), /You must call the tool "lookup"/);
});

Deno.test("messages: output_config.format json_schema keeps its schema", async () => {
  await using gw = await startGateway();
  await anthropicClient(gw).messages.create({
    model: "glm-4.6",
    max_tokens: 200,
    system: "You know cities.",
    messages: [{ role: "user", content: "Oslo" }],
    output_config: { format: { type: "json_schema", schema: SCHEMA } },
  } as Loose);
  assertSchemaSent(sent(gw));
  assert.match(sent(gw).messages[0].content, /^You know cities\./);
});

Deno.test("messages: tool_choice any and tool tell the model which tool to call", async () => {
  await using gw = await startGateway();
  const tools = [{ name: "json", input_schema: SCHEMA }];
  const ask = { model: "glm-4.6", max_tokens: 200, messages: [{ role: "user", content: "Oslo" }] };
  await anthropicClient(gw).messages.create({
    ...ask,
    tools,
    tool_choice: { type: "any", disable_parallel_tool_use: true },
  } as Loose);
  assert.match(systemPrompt(sent(gw)), /You must call one of the provided tools/);
  await anthropicClient(gw).messages.create({
    ...ask,
    tools,
    tool_choice: { type: "tool", name: "json" },
  } as Loose);
  assert.match(systemPrompt(sent(gw)), /You must call the tool "json"/);
  await anthropicClient(gw).messages.create(
    { ...ask, tools, tool_choice: { type: "none" } } as Loose,
  );
  assert.equal(sent(gw).tools, undefined);
  assert.equal(systemPrompt(sent(gw)), "", "none drops the tools and adds nothing");
});
