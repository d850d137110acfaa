import assert from "node:assert/strict";
import { TEST_KEY } from "../support/gateway.ts";
import {
  anthropicClient,
  type AnthropicGateway,
  postRaw,
  startAnthropicGateway,
} from "../support/anthropic.ts";

const OK = {
  model: "glm-5",
  max_tokens: 100,
  messages: [{ role: "user" as const, content: "hi" }],
};
const user = (content: unknown) => ({ ...OK, messages: [{ role: "user", content }] });
const assistant = (content: unknown) => ({
  ...OK,
  messages: [{ role: "user", content: "hi" }, { role: "assistant", content }, {
    role: "user",
    content: "go on",
  }],
});
const image = (source: unknown) => user([{ type: "image", source }]);
const tool = (extra: Record<string, unknown>) => ({ ...OK, tools: [{ name: "t", ...extra }] });

/** Each malformed request and a text its error message must contain (the field, usually). */
const CASES: [string, unknown, string][] = [
  ["not JSON", "{nope", "Cannot parse request body"],
  ["an array", "[]", "expected a JSON object"],
  ["empty", "", "the body is empty"],
  ["JSON null", "null", "expected a JSON object"],
  ["a JSON string", '"hi"', "expected a JSON object"],
  ["no model", { ...OK, model: undefined }, "model"],
  ["numeric model", { ...OK, model: 5 }, "model"],
  ["empty model", { ...OK, model: " " }, "model"],
  ["no max_tokens", { ...OK, max_tokens: undefined }, "max_tokens"],
  ["zero max_tokens", { ...OK, max_tokens: 0 }, "max_tokens"],
  ["negative max_tokens", { ...OK, max_tokens: -5 }, "max_tokens"],
  ["fractional max_tokens", { ...OK, max_tokens: 1.5 }, "max_tokens"],
  ["string max_tokens", { ...OK, max_tokens: "100" }, "max_tokens"],
  ["no messages", { ...OK, messages: undefined }, "messages"],
  ["messages object", { ...OK, messages: {} }, "messages"],
  ["messages empty", { ...OK, messages: [] }, "messages"],
  ["message a string", { ...OK, messages: ["hi"] }, "messages[0]"],
  ["unknown role", { ...OK, messages: [{ role: "bot", content: "x" }] }, "messages[0].role"],
  ["no role", { ...OK, messages: [{ content: "x" }] }, "messages[0].role"],
  ["no content", { ...OK, messages: [{ role: "user" }] }, "messages[0].content"],
  ["numeric content", user(42), "messages[0].content"],
  ["empty content array", user([]), "messages[0].content"],
  ["unknown block", user([{ type: "video" }]), "messages[0].content[0].type"],
  ["block a string", user(["text"]), "messages[0].content[0]"],
  ["text not a string", user([{ type: "text", text: 5 }]), "messages[0].content[0].text"],
  ["image without source", user([{ type: "image" }]), "messages[0].content[0].source"],
  [
    "image of text/plain",
    image({ type: "base64", media_type: "text/plain", data: "eA==" }),
    "source.media_type",
  ],
  ["image without data", image({ type: "base64", media_type: "image/png" }), "source.data"],
  ["image ftp URL", image({ type: "url", url: "ftp://x/y.png" }), "source.url"],
  ["image file source", image({ type: "file", file_id: "f" }), "source.type"],
  ["pdf document", user([{ type: "document", source: { type: "base64" } }]), "content[0].source"],
  ["tool_result without id", user([{ type: "tool_result", content: "x" }]), "tool_use_id"],
  [
    "tool_result is_error a string",
    user([{ type: "tool_result", tool_use_id: "a", is_error: "yes" }]),
    "is_error",
  ],
  ["user thinking block", user([{ type: "thinking", thinking: "x" }]), "content[0].type"],
  ["assistant image", assistant([{ type: "image" }]), "messages[1].content[0].type"],
  ["tool_use without name", assistant([{ type: "tool_use", id: "a", input: {} }]), ".name"],
  ["tool_use without id", assistant([{ type: "tool_use", name: "t", input: {} }]), ".id"],
  [
    "tool_use input a string",
    assistant([{ type: "tool_use", id: "a", name: "t", input: "x" }]),
    ".input",
  ],
  ["thinking not a string", assistant([{ type: "thinking", thinking: 5 }]), ".thinking"],
  ["numeric system", { ...OK, system: 5 }, "system"],
  ["image in system", { ...OK, system: [{ type: "image" }] }, "system[0].type"],
  ["system block without text", { ...OK, system: [{ type: "text" }] }, "system[0].text"],
  [
    "system message with image",
    { ...OK, messages: [{ role: "system", content: [{ type: "image" }] }] },
    "messages[0].content[0].type",
  ],
  ["stream a string", { ...OK, stream: "yes" }, "stream"],
  ["temperature above 1", { ...OK, temperature: 1.5 }, "temperature"],
  ["temperature a string", { ...OK, temperature: "hot" }, "temperature"],
  ["negative top_p", { ...OK, top_p: -0.1 }, "top_p"],
  ["top_k a string", { ...OK, top_k: "x" }, "top_k"],
  ["stop_sequences a string", { ...OK, stop_sequences: "STOP" }, "stop_sequences"],
  ["stop_sequences numbers", { ...OK, stop_sequences: [1] }, "stop_sequences"],
  ["tools an object", { ...OK, tools: {} }, "tools"],
  ["tool name with spaces", tool({ name: "bad name!" }), "tools[0].name"],
  ["tool schema a string", tool({ input_schema: "x" }), "tools[0].input_schema"],
  ["tool a string", { ...OK, tools: ["t"] }, "tools[0]"],
  [
    "129 tools",
    { ...OK, tools: Array.from({ length: 129 }, (_, i) => ({ name: `t${i}` })) },
    "tools",
  ],
  ["tool_choice a string", { ...OK, tool_choice: "auto" }, "tool_choice"],
  ["tool_choice unknown type", { ...OK, tool_choice: { type: "maybe" } }, "tool_choice.type"],
  ["tool_choice tool without name", { ...OK, tool_choice: { type: "tool" } }, "tool_choice.name"],
  ["thinking a string", { ...OK, thinking: "on" }, "thinking"],
  ["thinking unknown type", { ...OK, thinking: { type: "sometimes" } }, "thinking.type"],
  [
    "thinking budget a string",
    { ...OK, thinking: { type: "enabled", budget_tokens: "lots" } },
    "thinking.budget_tokens",
  ],
  ["metadata a string", { ...OK, metadata: "x" }, "metadata"],
  ["metadata.user_id a number", { ...OK, metadata: { user_id: 7 } }, "metadata.user_id"],
  ["output_config a string", { ...OK, output_config: "high" }, "output_config"],
  ["effort a number", { ...OK, output_config: { effort: 3 } }, "output_config.effort"],
];

function assertAnthropicError(response: { status: number; body: unknown }, type: string) {
  // deno-lint-ignore no-explicit-any
  const body = response.body as any;
  assert.equal(body?.type, "error", JSON.stringify(body));
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, "string");
  assert.deepEqual(Object.keys(body), ["type", "error"]);
}

async function assertHealthy(gw: AnthropicGateway) {
  const health = await gw.fetch(`${gw.url}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  const answer = await postRaw(gw, "/v1/messages", OK);
  assert.equal(answer.status, 200);
}

Deno.test(`${CASES.length} malformed Messages requests each get a 400 naming the field`, async () => {
  assert.ok(CASES.length >= 30);
  await using gw = await startAnthropicGateway();
  for (const [name, body, mention] of CASES) {
    for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
      if (path.endsWith("count_tokens") && mention === "max_tokens") continue;
      const response = await postRaw(gw, `${path}?beta=true`, body);
      assert.equal(response.status, 400, `${name} on ${path}: ${response.text}`);
      assertAnthropicError(response, "invalid_request_error");
      assert.ok(response.body.error.message.includes(mention), `${name}: ${response.text}`);
    }
  }
  assert.equal(gw.upstream.requests.length, 0);
  await assertHealthy(gw);
});

Deno.test("a body over 32 MiB gets 413, with or without Content-Length", async () => {
  await using gw = await startAnthropicGateway();
  const huge = JSON.stringify(user("x".repeat(33 * 1024 * 1024)));
  const declared = await postRaw(gw, "/v1/messages", huge);
  assert.equal(declared.status, 413);
  assertAnthropicError(declared, "request_too_large");
  const bytes = new TextEncoder().encode(huge);
  const chunked = await gw.fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": TEST_KEY, "content-type": "application/json" },
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1 << 20) {
          controller.enqueue(bytes.slice(i, i + (1 << 20)));
        }
        controller.close();
      },
    }),
  });
  assert.equal(chunked.status, 413);
  assertAnthropicError({ status: 413, body: await chunked.json() }, "request_too_large");
  await assertHealthy(gw);
});

Deno.test("auth: 401 in Anthropic's dialect; x-api-key, Bearer and both are accepted", async () => {
  await using gw = await startAnthropicGateway();
  const refused: Record<string, string>[] = [
    {},
    { "x-api-key": "sk-wrong" },
    { authorization: "Bearer sk-wrong" },
  ];
  for (const headers of refused) {
    const response = await postRaw(gw, "/v1/messages", OK, headers);
    assert.equal(response.status, 401);
    assertAnthropicError(response, "authentication_error");
  }
  const ways: Record<string, string>[] = [
    { "x-api-key": TEST_KEY },
    { authorization: `Bearer ${TEST_KEY}` },
    { "x-api-key": TEST_KEY, authorization: `Bearer ${TEST_KEY}` },
  ];
  for (const headers of ways) {
    const response = await postRaw(gw, "/v1/messages", OK, {
      ...headers,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "interleaved-thinking-2025-05-14",
    });
    assert.equal(response.status, 200, response.text);
  }
  await assert.rejects(
    anthropicClient(gw, { apiKey: "sk-nope" }).messages.create(OK),
    (error: { status?: number }) => error.status === 401,
  );
});

Deno.test("unknown paths and methods: Anthropic dialect by path or anthropic-version", async () => {
  await using gw = await startAnthropicGateway();
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await gw.fetch(`${gw.url}${path}`, {
      headers: { "x-api-key": TEST_KEY, ...headers },
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  const anthropic404 = await get("/v1/nope", { "anthropic-version": "2023-06-01" });
  assert.equal(anthropic404.status, 404);
  assertAnthropicError(anthropic404, "not_found_error");
  const openai404 = await get("/v1/nope");
  assert.equal(openai404.status, 404);
  assert.equal(openai404.body.error.type, "not_found_error");
  assert.equal(openai404.body.type, undefined);
  const batches = await get("/v1/messages/batches");
  assert.equal(batches.status, 404);
  assertAnthropicError(batches, "not_found_error");
  const wrongMethod = await get("/v1/messages");
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "POST");
  assertAnthropicError(wrongMethod, "invalid_request_error");
});

Deno.test("upstream failures: 429 keeps Retry-After, 5xx and a refused key are 502", async () => {
  const cases = [
    {
      script: {
        status: 429,
        body: { error: { code: "1302", message: "High concurrency" } },
        headers: { "retry-after": "7" },
      },
      status: 429,
      type: "rate_limit_error",
      retryAfter: "7",
    },
    {
      // The only key is spent: it rests an hour (no reset time in the message).
      script: { status: 429, body: { error: { code: "1308", message: "Usage limit reached" } } },
      status: 429,
      type: "rate_limit_error",
      retryAfter: "3600",
    },
    {
      script: { status: 500, body: { error: { code: "500", message: "Internal Error" } } },
      status: 502,
      type: "api_error",
    },
    {
      script: { status: 401, body: { error: { code: "1002", message: "Invalid token" } } },
      status: 502,
      type: "api_error",
    },
    {
      script: { status: 400, body: { error: { code: "1211", message: "Unknown Model" } } },
      status: 400,
      type: "invalid_request_error",
    },
  ];
  for (const c of cases) {
    // Each case on a gateway of its own: a spent or refused key stays out of use.
    await using gw = await startAnthropicGateway({ env: { UPSTREAM_RETRIES: "0" } });
    for (const stream of [false, true]) {
      gw.upstream.enqueue({ kind: "error", ...c.script });
      const response = await postRaw(gw, "/v1/messages", { ...OK, stream });
      assert.equal(response.status, c.status, response.text);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      assertAnthropicError(response, c.type);
      if (c.retryAfter) assert.equal(response.headers.get("retry-after"), c.retryAfter);
    }
  }
  await using gw = await startAnthropicGateway({ env: { UPSTREAM_RETRIES: "0" } });
  gw.upstream.enqueue(
    { kind: "error", status: 429, body: { error: { code: "1302", message: "Slow down" } } },
  );
  await assert.rejects(
    anthropicClient(gw).messages.create(OK),
    // deno-lint-ignore no-explicit-any
    (error: any) => error.status === 429 && error.error.error.type === "rate_limit_error",
  );
  await assertHealthy(gw);
});
