/** `/v1/responses` errors: OpenAI-shaped JSON with the field named, the usual statuses. */

import assert from "node:assert/strict";
import { OpenAI } from "../support/clients.ts";
import { startGateway } from "../support/gateway.ts";
import { openAIClient } from "../support/openai_client.ts";
import { TEST_KEY } from "../support/gateway.ts";
import { postResponses } from "./grammar.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

async function sdkError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${error}`);
  return error;
}

Deno.test("a missing input is a 400 naming the field", async () => {
  await using gw = await startGateway();
  const error = await sdkError(
    openAIClient(gw).responses.create({ model: "glm-4.6" } as Loose),
  );
  assert.equal(error.status, 400);
  assert.equal(error.param, "input");
  assert.match(error.message, /input is required/);
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("bad fields are 400s naming the field, never a 500", async () => {
  await using gw = await startGateway();
  const cases: [Loose, string][] = [
    [{ model: "glm-4.6", input: "" }, "input"],
    [{ model: "glm-4.6", input: [] }, "input"],
    [{ input: "hi" }, "model"],
    [{ model: "glm-4.6", input: [{ role: "user", content: "a" }, 7] }, "input[1]"],
    [{ model: "glm-4.6", input: [{ role: "tool", content: "a" }] }, "input[0].role"],
    [
      { model: "glm-4.6", input: [{ type: "function_call_output", output: "x" }] },
      "input[0].call_id",
    ],
    [{ model: "glm-4.6", input: "hi", instructions: 5 }, "instructions"],
    [{ model: "glm-4.6", input: "hi", reasoning: { effort: "huge" } }, "reasoning.effort"],
    [
      { model: "glm-4.6", input: "hi", text: { format: { type: "json_schema" } } },
      "text.format.schema",
    ],
    [
      { model: "glm-4.6", input: "hi", tools: [{ type: "function", name: "bad name" }] },
      "tools[0].name",
    ],
    [{ model: "glm-4.6", input: "hi", temperature: 3 }, "temperature"],
    [{ model: "glm-4.6", input: "hi", stream: "yes" }, "stream"],
  ];
  for (const [body, param] of cases) {
    const reply = await postResponses(gw, body);
    assert.equal(reply.status, 400, `${JSON.stringify(body)} → ${reply.text}`);
    assert.equal(reply.json.error.type, "invalid_request_error");
    assert.equal(reply.json.error.param, param, JSON.stringify(body));
  }
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("an image for a text-only model is a 400 naming the content", async () => {
  await using gw = await startGateway();
  const reply = await postResponses(gw, {
    model: "glm-4.6",
    input: [{
      role: "user",
      content: [{ type: "input_image", image_url: "https://example.com/cat.png" }],
    }],
  });
  assert.equal(reply.status, 400);
  assert.equal(reply.json.error.param, "input[0].content");
  assert.match(reply.json.error.message, /vision model/);
});

Deno.test("previous_response_id is a clear 400: nothing is stored", async () => {
  await using gw = await startGateway();
  const error = await sdkError(
    openAIClient(gw).responses.create({
      model: "glm-4.6",
      input: "and then?",
      previous_response_id: "resp_123",
    }),
  );
  assert.equal(error.status, 400);
  assert.equal(error.param, "previous_response_id");
  assert.match(error.message, /stores no responses/);
});

Deno.test("GET and DELETE /v1/responses/{id} are 404 JSON", async () => {
  await using gw = await startGateway();
  for (const method of ["GET", "DELETE"]) {
    const response = await gw.fetch(`${gw.url}/v1/responses/resp_abc`, {
      method,
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.error.type, "not_found_error");
    assert.match(body.error.message, /"resp_abc" not found: this gateway stores no responses/);
  }
  const error = await sdkError(openAIClient(gw).responses.retrieve("resp_abc"));
  assert.equal(error.status, 404);
});

Deno.test("a bad key is a 401 in the OpenAI shape", async () => {
  await using gw = await startGateway();
  const error = await sdkError(
    openAIClient(gw, "sk-not-a-real-key-000000000000000000000000000000")
      .responses.create({ model: "glm-4.6", input: "hi" }),
  );
  assert.equal(error.status, 401);
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("an upstream 429 before the first byte is a 429 with Retry-After, streaming or not", async () => {
  await using gw = await startGateway();
  const limited = {
    kind: "error" as const,
    status: 429,
    body: { error: { code: "1302", message: "High concurrency usage of this API" } },
  };
  for (let i = 0; i < 6; i++) gw.upstream.enqueue(limited); // enough for any retries
  const error = await sdkError(
    openAIClient(gw).responses.create({ model: "glm-4.6", input: "hi" }),
  );
  assert.equal(error.status, 429);
  assert.match(error.headers?.get("retry-after") ?? "", /^[1-9]\d*$/);
  const streamed = await postResponses(gw, { model: "glm-4.6", input: "hi", stream: true });
  assert.equal(streamed.status, 429);
  assert.match(streamed.headers.get("content-type") ?? "", /^application\/json/);
  assert.match(streamed.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  assert.equal(streamed.json.error.type, "rate_limit_error");
});

Deno.test("a failure mid-stream: the SDK's stream raises it (response.failed + error)", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "a b c d e f", resetAfterChunks: 3 });
  const stream = openAIClient(gw).responses.stream({ model: "glm-4.6", input: "go" });
  const failed: Loose[] = [];
  stream.on("response.failed", (event) => failed.push(event));
  const error = await stream.finalResponse().then(() => undefined, (e) => e);
  assert.ok(error instanceof Error, "the stream ends in an error");
  assert.match(error.message, /connection to Z\.ai broke/);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].response.status, "failed");
});
