/** `/v1/responses` through the official `openai` SDK: responses.create and responses.stream. */

import assert from "node:assert/strict";
import type { OpenAI } from "../support/clients.ts";
import { startGateway } from "../support/gateway.ts";
import { openAIClient } from "../support/openai_client.ts";

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

const PIXEL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";

Deno.test("responses.create: text, a reasoning item and usage", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "The user greets me.",
    text: "Hello from GLM.",
    usage: { prompt_tokens: 20, completion_tokens: 8, cached_tokens: 5 },
  });
  const response = await openAIClient(gw).responses.create({ model: "GLM-4.6", input: "hello" });
  assert.match(response.id, /^resp_/);
  assert.equal(response.object, "response");
  assert.equal(response.status, "completed");
  assert.equal(response.model, "GLM-4.6", "the client's model id is echoed");
  assert.equal(response.output_text, "Hello from GLM.");
  assert.deepEqual(response.output.map((item) => item.type), ["reasoning", "message"]);
  const reasoning = response.output[0] as OpenAI.Responses.ResponseReasoningItem;
  assert.equal(reasoning.summary[0].text, "The user greets me.");
  assert.equal(response.usage?.input_tokens, 20);
  assert.equal(response.usage?.output_tokens, 8);
  assert.equal(response.usage?.total_tokens, 28);
  assert.equal(response.usage?.input_tokens_details.cached_tokens, 5);
  const sent = gw.upstream.requests[0].body;
  assert.equal(sent.model, "glm-4.6");
  assert.equal(sent.stream, false, "the Responses default is non-streaming");
});

Deno.test("responses.stream: events as they come, a final response with usage", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "Counting slowly.",
    text: "one two three",
    usage: { prompt_tokens: 7, completion_tokens: 6 },
  });
  const stream = openAIClient(gw).responses.stream({ model: "glm-4.6", input: "count" });
  const deltas: string[] = [];
  const reasoning: string[] = [];
  stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
  stream.on("response.reasoning_summary_text.delta", (event) => reasoning.push(event.delta));
  const final = await stream.finalResponse();
  assert.ok(deltas.length >= 3, "text arrives in several deltas");
  assert.equal(deltas.join(""), "one two three");
  assert.equal(reasoning.join(""), "Counting slowly.");
  assert.equal(final.status, "completed");
  assert.equal(final.output_text, "one two three");
  assert.equal(final.usage?.total_tokens, 13);
  assert.equal(gw.upstream.requests[0].body.stream, true);
});

Deno.test("a function tool: function_call item, then the function_call_output round trip", async () => {
  await using gw = await startGateway();
  const client = openAIClient(gw);
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "I need the weather tool.",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Oslo"}' }],
  });
  const first = await client.responses.create({
    model: "glm-4.6",
    input: [{ role: "user", content: "Weather in Oslo?" }],
    tools: [WEATHER],
  });
  const call = first.output.find((item) => item.type === "function_call");
  assert.ok(call && call.type === "function_call");
  assert.equal(call.name, "get_weather");
  assert.equal(JSON.parse(call.arguments).city, "Oslo");
  assert.ok(!first.output.some((item) => item.type === "message"), "no empty message item");
  assert.deepEqual(gw.upstream.requests[0].body.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather of a city",
      parameters: WEATHER.parameters,
    },
  }]);

  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "It is 3 °C in Oslo." });
  const second = await client.responses.create({
    model: "glm-4.6",
    tools: [WEATHER],
    input: [
      { role: "user", content: "Weather in Oslo?" },
      ...(first.output as OpenAI.Responses.ResponseInputItem[]),
      { type: "function_call_output", call_id: call.call_id, output: '{"celsius":3}' },
    ],
  });
  assert.equal(second.output_text, "It is 3 °C in Oslo.");
  assert.deepEqual(gw.upstream.requests[1].body.messages, [
    { role: "user", content: "Weather in Oslo?" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "I need the weather tool.",
      tool_calls: [{
        id: call.call_id,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      }],
    },
    { role: "tool", tool_call_id: call.call_id, content: '{"celsius":3}' },
  ]);
});

Deno.test("responses.stream with a tool: the SDK assembles the streamed function call", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "",
    toolCalls: [{ name: "get_weather", arguments: '{"city":"Lima"}' }],
  });
  const stream = openAIClient(gw).responses.stream({
    model: "glm-4.6",
    input: "Weather in Lima?",
    tools: [WEATHER],
  });
  const argumentDeltas: string[] = [];
  stream.on("response.function_call_arguments.delta", (event) => argumentDeltas.push(event.delta));
  const final = await stream.finalResponse();
  assert.ok(argumentDeltas.length >= 2, "tool_stream fragments reach the client as deltas");
  const call = final.output[0];
  assert.ok(call.type === "function_call");
  assert.equal(call.arguments, '{"city":"Lima"}');
  assert.equal(gw.upstream.requests[0].body.tool_stream, true);
});

Deno.test("instructions become the leading system message; developer items system ones", async () => {
  await using gw = await startGateway();
  await openAIClient(gw).responses.create({
    model: "glm-4.6",
    instructions: "Answer in French.",
    input: [
      { role: "developer", content: [{ type: "input_text", text: "Be brief." }] },
      { role: "user", content: [{ type: "input_text", text: "Hello" }] },
    ],
  });
  assert.deepEqual(gw.upstream.requests[0].body.messages, [
    { role: "system", content: "Answer in French." },
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hello" },
  ]);
});

Deno.test("an input image reaches a vision model as an image_url part", async () => {
  await using gw = await startGateway();
  const response = await openAIClient(gw).responses.create({
    model: "glm-4.6v",
    input: [{
      role: "user",
      content: [
        { type: "input_text", text: "What is this?" },
        { type: "input_image", image_url: PIXEL, detail: "auto" },
      ],
    }],
  });
  assert.equal(response.status, "completed");
  assert.deepEqual(gw.upstream.requests[0].body.messages, [{
    role: "user",
    content: [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: PIXEL } },
    ],
  }]);
});
