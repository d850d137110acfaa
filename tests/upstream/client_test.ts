/** Z.ai failures as clients see them: statuses, Retry-After, in-stream errors; and the GLM client. */

import assert from "node:assert/strict";
import { OpenAI } from "../support/clients.ts";
import { loadConfig } from "../../lib/core/config.ts";
import { ApiError } from "../../lib/core/errors.ts";
import { createUpstream } from "../../lib/upstream/client.ts";
import { parseZaiError, secondsUntilReset, upstreamError } from "../../lib/upstream/errors.ts";
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

const REQUEST = { model: "glm-4.6", messages: ask("hi") };

function zaiError(code: string, message: string) {
  return { error: { code, message } };
}

/** A "YYYY-MM-DD HH:MM:SS" time in Z.ai's clock (UTC+8), `ms` from now. */
function zaiClock(ms: number): string {
  return new Date(Date.now() + ms + 8 * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
}

async function both(gw: OpenAIGateway, script: () => void) {
  script();
  const json = await postChat(gw, { ...REQUEST, stream: false });
  script();
  const stream = await postChat(gw, { ...REQUEST, stream: true });
  return [json, stream];
}

Deno.test("the only key spent (1113, no reset time) → 429 for an hour, and it rests meanwhile", async () => {
  await using gw = await startOpenAIGateway();
  const message = "Insufficient balance or no resource package. Please recharge.";
  const replies = await both(
    gw,
    () => gw.upstream.enqueue({ kind: "error", status: 429, body: zaiError("1113", message) }),
  );
  for (const reply of replies) {
    assert.equal(reply.status, 429);
    assert.match(reply.headers.get("content-type") ?? "", /application\/json/);
    const retryAfter = Number(reply.headers.get("retry-after"));
    assert.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter} ≈ 1 h`);
    assert.equal(reply.json.error.type, "insufficient_quota");
    assert.equal(reply.json.error.code, "zai_1113");
    assert.ok(reply.json.error.message.includes(message), "Z.ai's own words are kept");
  }
  assert.equal(gw.upstream.requests.length, 1, "the spent key is not tried again before its reset");
});

Deno.test("with UPSTREAM_RETRIES=0, upstream 1302 → 429 with Retry-After, streaming or not", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_RETRIES: "0" } });
  const message = "High concurrency usage of this API, please reduce concurrency";
  const replies = await both(
    gw,
    () => gw.upstream.enqueue({ kind: "error", status: 429, body: zaiError("1302", message) }),
  );
  for (const reply of replies) {
    assert.equal(reply.status, 429);
    assert.equal(reply.headers.get("retry-after"), "60");
    assert.equal(reply.json.error.type, "rate_limit_error");
    assert.equal(reply.json.error.code, "zai_1302");
    assert.ok(reply.json.error.message.includes(message), "Z.ai's own words are kept");
  }
  assert.equal(gw.upstream.requests.length, 2);
});

Deno.test("upstream Retry-After is passed on", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_RETRIES: "0" } });
  gw.upstream.enqueue({
    kind: "error",
    status: 429,
    body: zaiError("1302", "Rate limit reached for requests"),
    headers: { "retry-after": "7" },
  });
  const reply = await postChat(gw, REQUEST, { accept: "application/json" });
  assert.equal(reply.status, 429);
  assert.equal(reply.headers.get("retry-after"), "7");
});

Deno.test("code 1308's 'reset at' time (UTC+8) becomes Retry-After", async () => {
  await using gw = await startOpenAIGateway();
  const resetAt = zaiClock(2 * 3_600_000);
  gw.upstream.enqueue({
    kind: "error",
    status: 429,
    body: zaiError("1308", `Usage limit reached for 5 hour. Your limit will reset at ${resetAt}`),
  });
  const reply = await openAIClient(gw).chat.completions.create(REQUEST).then(
    () => undefined,
    (error) => error,
  );
  assert.ok(reply instanceof OpenAI.RateLimitError);
  const retryAfter = Number(reply.headers.get("retry-after"));
  assert.ok(retryAfter > 7000 && retryAfter <= 7201, `Retry-After ${retryAfter} ≈ 2 h`);
  assert.match(reply.message, new RegExp(resetAt));
});

for (
  const [code, message] of [
    ["1210", "Incorrect API call parameters"],
    ["1214", "Invalid messages[0].content"],
    ["1301", "The system detected potentially unsafe or sensitive content"],
  ]
) {
  Deno.test(`upstream 400 code ${code} → 400 with Z.ai's message`, async () => {
    await using gw = await startOpenAIGateway();
    const replies = await both(
      gw,
      () => gw.upstream.enqueue({ kind: "error", status: 400, body: zaiError(code, message) }),
    );
    for (const reply of replies) {
      assert.equal(reply.status, 400);
      assert.equal(reply.json.error.type, "invalid_request_error");
      assert.equal(reply.json.error.code, `zai_${code}`);
      assert.ok(reply.json.error.message.includes(message));
    }
  });
}

Deno.test("Z.ai refusing the operator's key is a 502, never the client's 401", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "error",
    status: 401,
    body: zaiError("1002", "Authorization Token is invalid"),
  });
  const reply = await postChat(gw, REQUEST, { accept: "application/json" });
  assert.equal(reply.status, 502);
  assert.equal(reply.json.error.type, "api_error");
  assert.match(reply.json.error.message, /gateway's own key/);
  assert.match(reply.json.error.message, /UPSTREAM_API_KEY/);
  assert.match(reply.json.error.message, /your key is fine/);
});

Deno.test("a wrong UPSTREAM_API_KEY surfaces through the SDK as a 502, not an auth error", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_API_KEY: "wrong-upstream-key" } });
  const error = await openAIClient(gw).chat.completions.create(REQUEST).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof OpenAI.InternalServerError);
  assert.ok(!(error instanceof OpenAI.AuthenticationError));
  assert.equal(error.status, 502);
  assert.equal(gw.upstream.requests[0].headers.get("authorization"), "Bearer wrong-upstream-key");
});

Deno.test("upstream 500, once retries are spent → 502", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_RETRIES: "0" } });
  const replies = await both(
    gw,
    () =>
      gw.upstream.enqueue({ kind: "error", status: 500, body: zaiError("500", "Internal Error") }),
  );
  for (const reply of replies) {
    assert.equal(reply.status, 502);
    assert.equal(reply.json.error.type, "api_error");
    assert.match(reply.json.error.message, /Internal Error/);
  }
});

Deno.test("upstream 503 with a non-JSON body → 502 'Z.ai answered 503'; the body only in the log", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_RETRIES: "0" } });
  gw.upstream.enqueue({ kind: "error", status: 503, body: "<html>Bad Gateway</html>" });
  const reply = await postChat(gw, REQUEST, { accept: "application/json" });
  assert.equal(reply.status, 502);
  assert.equal(reply.json.error.message, "Z.ai answered 503: retry later");
  assert.equal(reply.json.error.code, "upstream_503");
  assert.match(gw.logs.at(-1)!, /Bad Gateway/);
});

Deno.test("an upstream that does not answer in UPSTREAM_TIMEOUT_MS → 504", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_TIMEOUT_MS: "300" } });
  const replies = await both(gw, () => gw.upstream.enqueue({ kind: "hang" }));
  for (const reply of replies) {
    assert.equal(reply.status, 504);
    assert.equal(reply.json.error.code, "upstream_timeout");
    assert.match(reply.json.error.message, /UPSTREAM_TIMEOUT_MS/);
  }
});

Deno.test("a stream running past UPSTREAM_TIMEOUT_MS ends with an in-stream 504", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_TIMEOUT_MS: "300" } });
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four five six seven",
    chunkDelayMs: 100,
  });
  const reply = await postChat(gw, { ...REQUEST, stream: true });
  assert.equal(reply.status, 200);
  const events = sseData(reply.text);
  const error = events.find((e) => e !== "[DONE]" && e.error)?.error;
  assert.equal(error?.code, "upstream_timeout");
  assert.equal(events.at(-1), "[DONE]");
});

Deno.test("an unreachable upstream → 502 'Cannot reach Z.ai'; UPSTREAM_URL only in the log", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_URL: "http://127.0.0.1:1" } });
  const replies = [
    await postChat(gw, { ...REQUEST, stream: false }),
    await postChat(gw, { ...REQUEST, stream: true }),
  ];
  for (const reply of replies) {
    assert.equal(reply.status, 502);
    assert.equal(reply.json.error.type, "api_error");
    assert.equal(reply.json.error.message, "Cannot reach Z.ai: retry later");
    assert.ok(!reply.text.includes("127.0.0.1"), `no upstream address in ${reply.text}`);
  }
  assert.equal(gw.logs.length, 2);
  for (const line of gw.logs) {
    assert.match(JSON.parse(line).error, /UPSTREAM_URL http:\/\/127\.0\.0\.1:1/);
  }
});

Deno.test("without UPSTREAM_API_KEY, chat is a 503 naming it; models still work", async () => {
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_API_KEY: "" } });
  const reply = await postChat(gw, REQUEST);
  assert.equal(reply.status, 503);
  assert.match(reply.json.error.message, /UPSTREAM_API_KEY/);
  assert.equal(gw.upstream.requests.length, 0);
  const models = await gw.fetch(`${gw.url}/v1/models`, {
    headers: { authorization: `Bearer ${TEST_KEY}` },
  });
  assert.equal(models.status, 200);
  await models.body?.cancel();
});

Deno.test("a connection reset mid-stream becomes an in-stream error; the SDK raises", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four",
    resetAfterChunks: 2,
    chunkDelayMs: 20,
  });
  const reply = await postChat(gw, { ...REQUEST, stream: true });
  assert.equal(reply.status, 200);
  const events = sseData(reply.text);
  assert.equal(joinDeltas(events, "content"), "one two ");
  const errors = events.filter((e) => e !== "[DONE]" && e.error);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].error.type, "api_error");
  assert.match(errors[0].error.message, /retry/);
  assert.equal(events.at(-1), "[DONE]", "the stream ends cleanly");
  assert.equal(
    events.filter((e) => e !== "[DONE]" && e.choices?.[0]?.finish_reason).length,
    0,
    "no finish after an error",
  );

  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four",
    resetAfterChunks: 2,
    chunkDelayMs: 20,
  });
  const stream = await openAIClient(gw).chat.completions.create({ ...REQUEST, stream: true });
  let content = "";
  const error = await (async () => {
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
  })().then(() => undefined, (e) => e);
  assert.ok(error instanceof OpenAI.APIError, `the SDK raised ${error}`);
  assert.match(error.message, /retry/);
  assert.equal(content, "one two ", "what arrived before the reset is kept");
});

Deno.test("a Z.ai error object inside the stream becomes an in-stream error", async () => {
  await using gw = await startOpenAIGateway();
  const injected = JSON.stringify(zaiError("1301", "Unsafe content detected"));
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "Partial", injectData: injected });
  const reply = await postChat(gw, { ...REQUEST, stream: true });
  const events = sseData(reply.text);
  assert.equal(events[1].choices[0].delta.content, "Partial");
  const errors = events.filter((e) => e !== "[DONE]" && e.error);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].error.code, "zai_1301");
  assert.match(errors[0].error.message, /Unsafe content detected/);
  assert.equal(events.at(-1), "[DONE]");

  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "Partial", injectData: injected });
  const stream = await openAIClient(gw).chat.completions.create({ ...REQUEST, stream: true });
  const error = await (async () => {
    for await (const _chunk of stream) { /* drain */ }
  })().then(() => undefined, (e) => e);
  assert.ok(error instanceof OpenAI.APIError);
  assert.match(error.message, /Unsafe content detected/);
});

Deno.test("a Z.ai error body sent with HTTP 200 is an error, not an empty answer", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "error", status: 200, body: zaiError("1301", "Unsafe input") });
  const reply = await postChat(gw, { ...REQUEST, stream: false });
  assert.equal(reply.status, 400);
  assert.equal(reply.json.error.code, "zai_1301");
  assert.match(reply.json.error.message, /Unsafe input/);
});

Deno.test("network_error as a finish reason becomes an in-stream error", async () => {
  await using gw = await startOpenAIGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "Half", finish: "network_error" });
  const events = sseData((await postChat(gw, { ...REQUEST, stream: true })).text);
  const errors = events.filter((e) => e !== "[DONE]" && e.error);
  assert.equal(errors.length, 1);
  assert.match(errors[0].error.message, /network error/);
  gw.upstream.enqueue({ kind: "answer", reasoning: "", text: "Half", finish: "network_error" });
  const json = await postChat(gw, { ...REQUEST, stream: false });
  assert.equal(json.status, 502);
});

// ---- unit: Z.ai error bodies and the GLM client ----

Deno.test("parseZaiError reads every body shape Z.ai sends", () => {
  assert.deepEqual(parseZaiError({ error: { code: "1302", message: "busy" } }), {
    code: "1302",
    message: "busy",
  });
  assert.deepEqual(parseZaiError({ code: 1305, message: "overloaded" }), {
    code: "1305",
    message: "overloaded",
  });
  assert.deepEqual(parseZaiError({ type: "error", error: { type: "1308", message: "m" } }), {
    code: "1308",
    message: "m",
  });
  assert.deepEqual(parseZaiError({ error: "busy" }), { message: "busy" });
  assert.deepEqual(parseZaiError("<html>plain text</html>"), {}, "only JSON errors are Z.ai's");
  assert.deepEqual(parseZaiError(""), {});
  assert.deepEqual(parseZaiError(null), {});
});

Deno.test("secondsUntilReset reads a UTC+8 time; none when the message has none", () => {
  const now = Date.parse("2026-05-25T10:00:00Z"); // 18:00:00 in UTC+8
  assert.equal(secondsUntilReset("Your limit will reset at 2026-05-25 19:22:49", now), 4969);
  assert.equal(secondsUntilReset("reset at 2026-05-25 17:00:00", now), 1, "past times → 1 s");
  assert.equal(secondsUntilReset("no time here", now), undefined);
});

Deno.test("upstreamError maps codes and statuses to the contract's table", () => {
  const cases: [number, unknown, number, string][] = [
    [401, zaiError("1002", "bad token"), 502, "upstream"],
    [403, "forbidden", 502, "upstream"],
    [429, zaiError("1113", "balance"), 429, "quota"],
    [429, zaiError("1310", "weekly"), 429, "quota"],
    [429, zaiError("1302", "concurrency"), 429, "rate_limit"],
    [429, zaiError("1305", "overloaded"), 429, "overloaded"],
    [503, zaiError("1305", "overloaded"), 429, "overloaded"],
    [429, {}, 429, "rate_limit"],
    [400, zaiError("1211", "Unknown Model"), 400, "invalid_request"],
    [400, zaiError("1261", "Prompt too long"), 400, "invalid_request"],
    [200, zaiError("1301", "unsafe"), 400, "invalid_request"],
    [422, {}, 400, "invalid_request"],
    [500, zaiError("500", "Internal Error"), 502, "upstream"],
    [404, zaiError("1222", "API does not exist"), 502, "upstream"],
  ];
  for (const [status, body, expected, kind] of cases) {
    const error = upstreamError(status, body);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, expected, `${status} ${JSON.stringify(body)}`);
    assert.equal(error.kind, kind, `${status} ${JSON.stringify(body)}`);
    if (expected === 429) assert.ok((error.retryAfter ?? 0) > 0, "429s carry a retry time");
  }
  assert.equal(upstreamError(429, zaiError("1302", "x"), { retryAfter: "12" }).retryAfter, 12);
  assert.equal(upstreamError(429, zaiError("1302", "x"), { retryAfter: "soon" }).retryAfter, 60);
});

Deno.test("the upstream client sends only its own headers and rotates the key pool", async () => {
  const seen: { url: string; headers: Headers; body: unknown }[] = [];
  const fakeFetch: typeof fetch = (input, init) => {
    seen.push({
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)),
    });
    return Promise.resolve(
      new Response("{}", { headers: { "x-request-id": `req-${seen.length}` } }),
    );
  };
  const config = loadConfig({
    UPSTREAM_URL: "http://zai.invalid/api/paas/v4/",
    UPSTREAM_API_KEY: "key-one, key-two",
  });
  const upstream = createUpstream({
    url: config.upstreamUrl,
    keys: config.upstreamApiKeys,
    timeoutMs: config.upstreamTimeoutMs,
    fetch: fakeFetch,
  });
  const keys = [];
  for (const stream of [false, true, false]) {
    const call = await upstream.call({ model: "glm-4.6", stream });
    assert.equal(call.requestId, `req-${seen.length}`);
    await call.response.body?.cancel();
    call.finish();
    keys.push(seen.at(-1)!.headers.get("authorization"));
  }
  assert.deepEqual(new Set(keys), new Set(["Bearer key-one", "Bearer key-two"]));
  assert.notEqual(keys[0], keys[1]);
  assert.equal(keys[0], keys[2]);
  assert.equal(seen[0].url, "http://zai.invalid/api/paas/v4/chat/completions");
  assert.deepEqual([...seen[0].headers.keys()].sort(), [
    "accept",
    "accept-language",
    "authorization",
    "content-type",
  ]);
  assert.equal(seen[0].headers.get("accept"), "application/json");
  assert.equal(seen[1].headers.get("accept"), "text/event-stream");
  assert.deepEqual(seen[1].body, { model: "glm-4.6", stream: true });
});

Deno.test("the upstream client aborts the upstream fetch when the client's signal fires", async () => {
  let upstreamSignal: AbortSignal | undefined;
  const fakeFetch: typeof fetch = (_input, init) => {
    upstreamSignal = init?.signal ?? undefined;
    return Promise.resolve(new Response("data: [DONE]\n\n"));
  };
  const upstream = createUpstream({
    url: "http://zai.invalid",
    keys: ["k"],
    timeoutMs: 1000,
    fetch: fakeFetch,
  });
  const client = new AbortController();
  const call = await upstream.call({ stream: true }, { signal: client.signal });
  assert.equal(upstreamSignal?.aborted, false);
  client.abort();
  assert.equal(upstreamSignal?.aborted, true);
  assert.equal(call.timedOut(), false);
  await call.response.body?.cancel();
});

Deno.test("the upstream client reads at most 64 KiB of an error body and cancels the rest", async () => {
  const total = 32 * 1024 * 1024;
  const chunk = new TextEncoder().encode("<p>".padEnd(16 * 1024, "x"));
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      controller.enqueue(chunk.slice());
      pulled += chunk.length;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const upstream = createUpstream({
    url: "http://zai.invalid",
    keys: ["k"],
    timeoutMs: 10_000,
    retries: 0,
    fetch: () => Promise.resolve(new Response(body, { status: 502 })),
  });
  const error = await upstream.call({ stream: false }).then(() => undefined, (e) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.message, "Z.ai answered 502: retry later");
  assert.ok(pulled <= 80 * 1024, `${pulled} bytes read`);
  assert.equal(cancelled, true);
  assert.ok(String(error.cause).length < 4096, "the log gets an excerpt");
});

Deno.test("upstreamError redacts the given secrets and key shapes, and bounds what it passes on", () => {
  const secrets = ["plain-operator-key"];
  const error = upstreamError(500, {
    error: { code: "1234", message: `boom plain-operator-key sk-abcdef123456 ${"y".repeat(9999)}` },
  }, { secrets });
  assert.match(error.message, /^Z\.ai failed \(\[1234\] boom \[redacted\] sk-\[redacted\] y+…\)/);
  assert.ok(error.message.length < 600, `${error.message.length} characters`);
  assert.ok(!String(error.cause).includes("plain-operator-key"));
  assert.ok(!String(error.cause).includes("sk-abcdef123456"));

  const keyAsCode = upstreamError(500, { error: { code: "sk-abcdef123456", message: "m" } });
  assert.equal(keyAsCode.code, "upstream_500", "a code that is a key is not a code");
  assert.doesNotMatch(keyAsCode.message, /sk-/);
  const secretAsCode = upstreamError(500, { code: "plain-operator-key" }, { secrets });
  assert.equal(secretAsCode.code, "upstream_500");
  assert.equal(secretAsCode.message, "Z.ai answered 500: retry later");
});
