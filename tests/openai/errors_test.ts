/** Malformed requests on the OpenAI route: each gets a 4xx OpenAI-style error; the server stays up. */

import assert from "node:assert/strict";
import { OpenAI } from "../support/clients.ts";
import { TEST_KEY } from "../support/gateway.ts";
import {
  ask,
  openAIClient,
  type OpenAIGateway,
  postChat,
  type RawReply,
  readReply,
  startOpenAIGateway,
} from "../support/openai_client.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const OK_MESSAGES = ask("hello");

function chat(extra: Record<string, unknown>): Record<string, unknown> {
  return { model: "glm-4.6", messages: OK_MESSAGES, ...extra };
}

interface Case {
  name: string;
  /** A JSON value, or raw text sent as is. */
  body: unknown;
  status?: number;
  /** The `param` the error must name; null when there is no field to name. */
  param: string | null;
  /** A fragment the message must contain. */
  says?: RegExp;
}

const CASES: Case[] = [
  { name: "non-JSON body", body: "{not json", param: null, says: /JSON/ },
  { name: "array body", body: "[1,2,3]", param: null, says: /JSON object/ },
  { name: "empty body", body: "", param: null, says: /empty/ },
  { name: "JSON null body", body: "null", param: null },
  { name: "missing model", body: { messages: OK_MESSAGES }, param: "model" },
  { name: "model not a string", body: { model: 46, messages: OK_MESSAGES }, param: "model" },
  { name: "model empty", body: { model: " ", messages: OK_MESSAGES }, param: "model" },
  { name: "messages missing", body: { model: "glm-4.6" }, param: "messages" },
  { name: "messages empty", body: { model: "glm-4.6", messages: [] }, param: "messages" },
  { name: "messages not an array", body: { model: "glm-4.6", messages: "hi" }, param: "messages" },
  { name: "message not an object", body: chat({ messages: ["hi"] }), param: "messages[0]" },
  {
    name: "bad role",
    body: chat({ messages: [{ role: "wizard", content: "hi" }] }),
    param: "messages[0].role",
  },
  {
    name: "user content a number",
    body: chat({ messages: [{ role: "user", content: 42 }] }),
    param: "messages[0].content",
  },
  {
    name: "user content missing",
    body: chat({ messages: [{ role: "user" }] }),
    param: "messages[0].content",
  },
  {
    name: "bad content part type",
    body: chat({ messages: [{ role: "user", content: [{ type: "hologram", hologram: {} }] }] }),
    param: "messages[0].content[0].type",
    says: /hologram/,
  },
  {
    name: "text part without text",
    body: chat({ messages: [{ role: "user", content: [{ type: "text", text: 7 }] }] }),
    param: "messages[0].content[0].text",
  },
  {
    name: "image_url without url",
    body: {
      model: "glm-4.6v",
      messages: [{
        role: "user",
        content: [{ type: "text", text: "see" }, { type: "image_url", image_url: {} }],
      }],
    },
    param: "messages[0].content[1].image_url.url",
  },
  {
    name: "image_url with a file: url",
    body: {
      model: "glm-4.6v",
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "file:///x" } }],
      }],
    },
    param: "messages[0].content[0].image_url.url",
  },
  {
    name: "tool message without tool_call_id",
    body: chat({ messages: [...OK_MESSAGES, { role: "tool", content: "21 C" }] }),
    param: "messages[1].tool_call_id",
  },
  {
    name: "assistant tool_calls not an array",
    body: chat({ messages: [{ role: "assistant", tool_calls: "x" }, ...OK_MESSAGES] }),
    param: "messages[0].tool_calls",
  },
  {
    name: "assistant tool call without a name",
    body: chat({
      messages: [{ role: "assistant", tool_calls: [{ id: "c", function: {} }] }, ...OK_MESSAGES],
    }),
    param: "messages[0].tool_calls[0].function.name",
  },
  { name: "temperature a string", body: chat({ temperature: "hot" }), param: "temperature" },
  { name: "temperature negative", body: chat({ temperature: -1 }), param: "temperature" },
  { name: "temperature above 2", body: chat({ temperature: 3 }), param: "temperature" },
  { name: "top_p above 1", body: chat({ top_p: 2 }), param: "top_p" },
  { name: "max_tokens zero", body: chat({ max_tokens: 0 }), param: "max_tokens" },
  { name: "max_tokens fractional", body: chat({ max_tokens: 1.5 }), param: "max_tokens" },
  { name: "max_tokens a string", body: chat({ max_tokens: "10" }), param: "max_tokens" },
  {
    name: "max_completion_tokens negative",
    body: chat({ max_completion_tokens: -5 }),
    param: "max_completion_tokens",
  },
  { name: "n of 2", body: chat({ n: 2 }), param: "n", says: /n=1/ },
  { name: "stop with 5 items", body: chat({ stop: ["a", "b", "c", "d", "e"] }), param: "stop" },
  { name: "stop a number", body: chat({ stop: 5 }), param: "stop" },
  { name: "tools not an array", body: chat({ tools: { type: "function" } }), param: "tools" },
  { name: "tool not an object", body: chat({ tools: ["get_weather"] }), param: "tools[0]" },
  {
    name: "tool without function",
    body: chat({ tools: [{ type: "function" }] }),
    param: "tools[0].function",
  },
  {
    name: "tool name with spaces",
    body: chat({ tools: [{ type: "function", function: { name: "get weather" } }] }),
    param: "tools[0].function.name",
  },
  {
    name: "tool parameters not an object",
    body: chat({ tools: [{ type: "function", function: { name: "f", parameters: "x" } }] }),
    param: "tools[0].function.parameters",
  },
  { name: "tool_choice a number", body: chat({ tool_choice: 1 }), param: "tool_choice" },
  { name: "stream a string", body: chat({ stream: "yes" }), param: "stream" },
  {
    name: "stream_options a string",
    body: chat({ stream: true, stream_options: "usage" }),
    param: "stream_options",
  },
  {
    name: "reasoning_effort unknown",
    body: chat({ reasoning_effort: "extreme" }),
    param: "reasoning_effort",
  },
  {
    name: "response_format bad type",
    body: chat({ response_format: { type: "xml" } }),
    param: "response_format.type",
  },
  {
    name: "response_format not an object",
    body: chat({ response_format: "json" }),
    param: "response_format",
  },
];

function assertOpenAIError(reply: RawReply, status: number, param: string | null, label: string) {
  assert.equal(reply.status, status, `${label}: status (${reply.text})`);
  assert.match(reply.headers.get("content-type") ?? "", /application\/json/, label);
  const error = reply.json?.error;
  assert.ok(error && typeof error === "object", `${label}: an error object`);
  assert.equal(typeof error.message, "string", label);
  assert.ok(error.message.length > 10, `${label}: a message that says something`);
  assert.equal(typeof error.type, "string", label);
  assert.equal(typeof error.code, "string", label);
  if (param === null) assert.equal(error.param, undefined, `${label}: no param`);
  else assert.equal(error.param, param, `${label}: param`);
}

async function assertHealthy(gw: OpenAIGateway) {
  const health = await gw.fetch(`${gw.url}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  const statuses = gw.logs.map((line) => JSON.parse(line).status);
  assert.ok(statuses.every((s) => s < 500), `no 5xx in the logs: ${statuses}`);
}

Deno.test(`${CASES.length} malformed chat requests each get a 4xx naming the field`, async (t) => {
  await using gw = await startOpenAIGateway();
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const reply = await postChat(gw, c.body);
      assertOpenAIError(reply, c.status ?? 400, c.param, c.name);
      assert.equal(reply.json.error.type, "invalid_request_error");
      if (c.says) assert.match(reply.json.error.message, c.says);
      if (c.param) {
        const field = c.param.replace(/\[\d+\].*$/, "").replace(/\..*$/, "");
        assert.ok(reply.json.error.message.includes(field), `the message names ${field}`);
      }
    });
  }
  assert.equal(gw.upstream.requests.length, 0, "nothing malformed reached upstream");
  await assertHealthy(gw);
});

Deno.test("a body over 32 MiB gets 413, declared or streamed", async () => {
  await using gw = await startOpenAIGateway();
  const big = JSON.stringify(chat({ messages: ask("a".repeat(33 * 1024 * 1024)) }));
  const declared = await readReply(
    await gw.fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: big,
    }),
  );
  assertOpenAIError(declared, 413, null, "declared length");
  assert.match(declared.json.error.message, /larger than/);

  const bytes = new TextEncoder().encode(big);
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1024 * 1024) {
        controller.enqueue(bytes.subarray(i, i + 1024 * 1024));
      }
      controller.close();
    },
  });
  const streamed = await gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: chunked,
  }).then(readReply);
  assertOpenAIError(streamed, 413, null, "streamed body");
  assert.equal(gw.upstream.requests.length, 0);
  await assertHealthy(gw);
});

Deno.test("unknown path 404, wrong method 405, missing or wrong key 401", async () => {
  await using gw = await startOpenAIGateway();
  const auth = { authorization: `Bearer ${TEST_KEY}` };
  const notFound = await readReply(
    await gw.fetch(`${gw.url}/v1/chat/completion`, {
      method: "POST",
      headers: auth,
      body: "{}",
    }),
  );
  assertOpenAIError(notFound, 404, null, "unknown path");
  assert.match(notFound.json.error.message, /\/v1\/chat\/completion/);

  const wrongMethod = await readReply(
    await gw.fetch(`${gw.url}/v1/chat/completions`, { headers: auth }),
  );
  assertOpenAIError(wrongMethod, 405, null, "GET on the chat route");
  assert.equal(wrongMethod.headers.get("allow"), "POST");

  const body = JSON.stringify(chat({}));
  const missing = await readReply(
    await gw.fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body }),
  );
  assertOpenAIError(missing, 401, null, "missing key");
  assert.equal(missing.json.error.type, "authentication_error");

  const wrong = await readReply(
    await gw.fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-not-a-real-key-at-all-0000000000" },
      body,
    }),
  );
  assertOpenAIError(wrong, 401, null, "wrong key");
  assert.equal(wrong.json.error.type, "authentication_error");
  assert.equal(gw.upstream.requests.length, 0);
  await assertHealthy(gw);
});

Deno.test("the SDK raises typed errors carrying the gateway's message and param", async () => {
  await using gw = await startOpenAIGateway();
  const client = openAIClient(gw);
  const bad = await client.chat.completions.create({ model: "glm-4.6", messages: [] }).then(
    () => undefined,
    (error) => error,
  );
  assert.ok(bad instanceof OpenAI.BadRequestError);
  assert.equal(bad.status, 400);
  assert.equal(bad.param, "messages");
  assert.match(bad.message, /messages/);

  const denied = await openAIClient(gw, "sk-wrong-key-0000000000000000000000000")
    .chat.completions.create({ model: "glm-4.6", messages: ask("x") })
    .then(() => undefined, (error) => error);
  assert.ok(denied instanceof OpenAI.AuthenticationError);
  assert.equal(denied.status, 401);
  assert.equal(gw.upstream.requests.length, 0);
});

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function junk(next: () => number, depth = 0): unknown {
  const choices: (() => unknown)[] = [
    () => null,
    () => next() < 0.5,
    () => Math.floor(next() * 2000) - 1000,
    () => next() * 4 - 1,
    () => "",
    () => "x".repeat(Math.floor(next() * 20)),
    () =>
      ["user", "assistant", "tool", "system", "text", "image_url", "function"][
        Math.floor(next() * 7)
      ],
    () =>
      depth < 3 ? Array.from({ length: Math.floor(next() * 3) }, () => junk(next, depth + 1)) : [],
    () =>
      depth < 3
        ? Object.fromEntries(
          ["role", "content", "type", "text", "function", "name", "url", "image_url"]
            .filter(() => next() < 0.4)
            .map((k) => [k, junk(next, depth + 1)]),
        )
        : {},
  ];
  return choices[Math.floor(next() * choices.length)]();
}

const FIELDS = [
  "model",
  "messages",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "n",
  "stop",
  "tools",
  "tool_choice",
  "stream",
  "stream_options",
  "reasoning_effort",
  "response_format",
  "user",
  "thinking",
];

Deno.test("fuzz: 300 random mutations of a valid request never get a 5xx", async () => {
  await using gw = await startOpenAIGateway({ env: { DEFAULT_STREAM: "false" } });
  const next = random(20250101);
  const outcomes = { ok: 0, rejected: 0 };
  for (let i = 0; i < 300; i++) {
    const body: Loose = chat({});
    const mutations = 1 + Math.floor(next() * 3);
    for (let m = 0; m < mutations; m++) {
      const field = FIELDS[Math.floor(next() * FIELDS.length)];
      body[field] = junk(next);
    }
    if (next() < 0.3) body.messages = [junk(next), ...OK_MESSAGES];
    const reply = await postChat(gw, body);
    const label = `case ${i}: ${JSON.stringify(body).slice(0, 300)}`;
    assert.ok(reply.status < 500, `${label} → ${reply.status} ${reply.text.slice(0, 300)}`);
    if (reply.status === 200) {
      outcomes.ok++;
      continue;
    }
    outcomes.rejected++;
    assert.equal(reply.status, 400, label);
    assert.equal(typeof reply.json?.error?.message, "string", label);
    assert.equal(reply.json.error.type, "invalid_request_error", label);
  }
  // Both kinds occur, so the fuzz reaches past validation as well as into it.
  assert.ok(outcomes.ok > 20 && outcomes.rejected > 20, JSON.stringify(outcomes));
  await assertHealthy(gw);
});
