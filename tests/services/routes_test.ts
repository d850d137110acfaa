/** Services over HTTP: every client route under /s/{slug}, each service's own upstream and keys. */

import assert from "node:assert/strict";
import { Anthropic } from "../support/clients.ts";
import { OpenAI } from "../support/clients.ts";
import { startGateway, TEST_KEY } from "../support/gateway.ts";
import { keysVariable, type ServicesGateway, startServicesGateway } from "../support/services.ts";

type SdkFetch = NonNullable<ConstructorParameters<typeof OpenAI>[0]>["fetch"];

/** The OpenAI SDK as the router's docs set it up: baseURL `${url}/s/{slug}/v1`. */
function openai(gw: { url: string; fetch: typeof fetch }, base: string, apiKey = TEST_KEY) {
  const sdkFetch = gw.fetch as unknown as SdkFetch;
  return new OpenAI({ apiKey, baseURL: `${gw.url}${base}/v1`, maxRetries: 0, fetch: sdkFetch });
}

/** The Anthropic SDK with baseURL `${url}/s/{slug}`. */
function anthropic(gw: { url: string; fetch: typeof fetch }, base: string, apiKey = TEST_KEY) {
  return new Anthropic({
    apiKey,
    baseURL: `${gw.url}${base}`,
    maxRetries: 0,
    fetch: gw.fetch as unknown as NonNullable<
      ConstructorParameters<typeof Anthropic>[0]
    >["fetch"],
  });
}

const ASK = [{ role: "user" as const, content: "Say hello" }];
const PROMPT = "\n\nHuman: Say hello\n\nAssistant:";

/** One raw call of each client route (the ones the SDKs above do not make). */
async function raw(
  gw: { url: string; fetch: typeof fetch },
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await gw.fetch(`${gw.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${TEST_KEY}`,
      "content-type": "application/json",
      accept: "application/json",
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) };
}

Deno.test("every client route works under /s/{slug} with the SDKs' own base URLs", async () => {
  await using gw = await startGateway(); // one service, from UPSTREAM_URL: slug zai
  const oa = openai(gw, "/s/zai");
  const reply = await oa.chat.completions.create({ model: "glm-4.5", messages: ASK });
  assert.equal(reply.choices[0].message.content, "Echo: Say hello");
  const chunks = [];
  const stream = await oa.chat.completions.create({
    model: "glm-4.5",
    messages: ASK,
    stream: true,
  });
  for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta?.content ?? "");
  assert.equal(chunks.join(""), "Echo: Say hello");
  const models = await oa.models.list();
  assert.ok(models.data.some((m) => m.id === "glm-5"));

  const an = anthropic(gw, "/s/zai");
  const message = await an.messages.create({ model: "glm-4.5", max_tokens: 100, messages: ASK });
  const texts = message.content.flatMap((block) => block.type === "text" ? [block.text] : []);
  assert.deepEqual(texts, ["Echo: Say hello"]);
  const count = await an.messages.countTokens({ model: "glm-4.5", messages: ASK });
  assert.ok(count.input_tokens > 0);

  const complete = await raw(gw, "/s/zai/v1/complete", {
    model: "glm-4.5",
    prompt: PROMPT,
    max_tokens_to_sample: 50,
  });
  assert.equal(complete.status, 200, complete.text);
  assert.equal(complete.json.completion, "Echo: Say hello");
  const key = await raw(gw, "/s/zai/v1/key");
  assert.equal(key.status, 200, key.text);
  assert.equal(key.json.user, "default");

  // The root routes are the same service: both reach the one upstream.
  assert.equal(gw.upstream.requests.length, 4); // two chats, a message, a completion
  assert.equal((await raw(gw, "/v1/key")).status, 200);
  await oa.chat.completions.create({ model: "glm-4.5", messages: ASK });
  await openai(gw, "").chat.completions.create({ model: "glm-4.5", messages: ASK });
  assert.equal(gw.upstream.requests.length, 6);
});

/** Two services with two fakes and two keys; the coding plan comes first (the default). */
function twoServices(env: Record<string, string> = {}, extra: { enabled?: boolean }[] = []) {
  return startServicesGateway([
    {
      slug: "zai-coding",
      name: "Z.ai Coding Plan",
      key: "coding-key-1",
      path: "/api/coding/paas/v4",
    },
    { slug: "zai", key: "general-key-2" },
    ...extra.map((e, i) => ({ slug: `extra-${i}`, key: `extra-key-${i}`, ...e })),
  ], env);
}

function upstreamKeys(gw: ServicesGateway, slug: string): string[] {
  return gw.fakes[slug].requests.map((r) => r.headers.get("authorization") ?? "");
}

Deno.test("two services: each request reaches its own upstream with its own key", async () => {
  await using gw = await twoServices();
  const coding = await openai(gw, "/s/zai-coding").chat.completions.create({
    model: "glm-4.6",
    messages: [{ role: "user", content: "to coding" }],
  });
  assert.equal(coding.choices[0].message.content, "Echo: to coding");
  const general = await anthropic(gw, "/s/zai").messages.create({
    model: "glm-4.6",
    max_tokens: 50,
    messages: [{ role: "user", content: "to general" }],
  });
  const texts = general.content.flatMap((block) => block.type === "text" ? [block.text] : []);
  assert.deepEqual(texts, ["Echo: to general"]);
  await openai(gw, "").chat.completions.create({ model: "glm-4.6", messages: ASK }); // root

  assert.deepEqual(upstreamKeys(gw, "zai-coding"), ["Bearer coding-key-1", "Bearer coding-key-1"]);
  assert.deepEqual(upstreamKeys(gw, "zai"), ["Bearer general-key-2"]);
  assert.deepEqual(gw.fakes["zai-coding"].requests.map((r) => r.path), [
    "/api/coding/paas/v4/chat/completions",
    "/api/coding/paas/v4/chat/completions",
  ]);
  assert.equal(gw.fakes.zai.requests[0].body.messages.at(-1).content, "to general");

  const lines = gw.logs.map((line) => JSON.parse(line)).filter((l) => l.path.includes("/v1/"));
  assert.deepEqual(lines.map((l) => [l.path, l.service]), [
    ["/s/zai-coding/v1/chat/completions", "zai-coding"],
    ["/s/zai/v1/messages", "zai"],
    ["/v1/chat/completions", "zai-coding"],
  ]);
});

Deno.test("an unknown slug is a 404 and a disabled service a 503, in the route's dialect", async () => {
  await using gw = await twoServices({}, [{ enabled: false }]);
  const unknownOpenAI = await raw(gw, "/s/nope/v1/chat/completions", { model: "glm-4.5" });
  assert.equal(unknownOpenAI.status, 404);
  assert.equal(unknownOpenAI.json.error.type, "not_found_error");
  assert.match(
    unknownOpenAI.json.error.message,
    /Unknown service "nope".*\/s\/zai-coding, \/s\/zai/,
  );
  const unknownAnthropic = await raw(gw, "/s/nope/v1/messages", { model: "glm-4.5" });
  assert.equal(unknownAnthropic.status, 404);
  assert.deepEqual(Object.keys(unknownAnthropic.json), ["type", "error"]);
  assert.equal(unknownAnthropic.json.error.type, "not_found_error");
  assert.equal((await raw(gw, "/s/nope")).status, 404, "nor a docs page");

  const disabledOpenAI = await raw(gw, "/s/extra-0/v1/chat/completions", {
    model: "glm-4.5",
    messages: ASK,
  });
  assert.equal(disabledOpenAI.status, 503);
  assert.match(disabledOpenAI.json.error.message, /Service extra-0 .*is disabled/);
  const disabledAnthropic = await anthropic(gw, "/s/extra-0").messages.create({
    model: "glm-4.5",
    max_tokens: 10,
    messages: ASK,
  }).catch((error) => error);
  assert.ok(disabledAnthropic instanceof Anthropic.APIError);
  assert.equal(disabledAnthropic.status, 503);
  assert.match(disabledAnthropic.message, /Service extra-0 .*is disabled/);
  assert.equal((await raw(gw, "/s/extra-0/v1/key")).status, 503);
  assert.equal((await raw(gw, "/s/extra-0")).status, 503, "its docs page too");
  assert.equal(gw.fakes["extra-0"].requests.length, 0);

  // Admin routes are not a service's; the root page still lists every service.
  assert.equal((await raw(gw, "/s/zai/admin/usage")).status, 404);
  assert.equal((await gw.fetch(`${gw.url}/`).then((r) => r.text())).includes("/s/extra-0"), true);
});

Deno.test("the first service disabled: the root client routes answer 503 too", async () => {
  await using gw = await startServicesGateway([
    { slug: "old", key: "k-old", enabled: false },
    { slug: "new", key: "k-new" },
  ]);
  const root = await raw(gw, "/v1/chat/completions", { model: "glm-4.5", messages: ASK });
  assert.equal(root.status, 503);
  assert.match(root.json.error.message, /Service old /);
  const other = await raw(gw, "/s/new/v1/chat/completions", { model: "glm-4.5", messages: ASK });
  assert.equal(other.status, 200, other.text);
  assert.equal((await gw.fetch(`${gw.url}/`)).status, 200, "the root docs page stays");
});

Deno.test("a service without keys answers 503 naming the variable that holds them", async () => {
  await using gw = await startServicesGateway([
    { slug: "zai", key: "k" },
    { slug: "coding" }, // KEYS_CODING is empty
  ]);
  const reply = await raw(gw, "/s/coding/v1/chat/completions", { model: "glm-4.5", messages: ASK });
  assert.equal(reply.status, 503);
  assert.match(reply.json.error.message, new RegExp(`Service coding .*${keysVariable("coding")}`));
  assert.equal((await raw(gw, "/s/coding/v1/models")).status, 200, "no upstream needed");
  const count = await raw(gw, "/s/coding/v1/messages/count_tokens", {
    model: "glm-5",
    messages: ASK,
  });
  assert.equal(count.status, 200, count.text);
});

Deno.test("one client key works on every service; the rate limit counts across them", async () => {
  await using gw = await twoServices({ RATE_LIMIT_RPM: "3", DEFAULT_KEY: "" });
  const created = await gw.fetch(`${gw.url}/admin/keys`, {
    method: "POST",
    headers: { authorization: "Bearer test-admin-key-7f3a", "content-type": "application/json" },
    body: JSON.stringify({ user: "alice" }),
  }).then((r) => r.json());
  const key = created.key as string;
  const headers = { authorization: `Bearer ${key}` };
  const body = { model: "glm-4.5", messages: ASK };
  const first = await raw(gw, "/s/zai-coding/v1/chat/completions", body, headers);
  const second = await raw(gw, "/s/zai/v1/chat/completions", body, headers);
  const third = await raw(gw, "/v1/chat/completions", body, headers);
  assert.deepEqual([first.status, second.status, third.status], [200, 200, 200]);
  assert.deepEqual(
    [first, second, third].map((r) => r.headers.get("x-ratelimit-remaining-requests")),
    ["2", "1", "0"],
  );
  const fourth = await raw(gw, "/s/zai/v1/chat/completions", body, headers);
  assert.equal(fourth.status, 429);
  assert.ok(Number(fourth.headers.get("retry-after")) >= 1);
});

Deno.test("the daily budget spans services, and usage records which service it went to", async () => {
  await using gw = await twoServices({ DAILY_TOKEN_BUDGET: "1000" });
  const body = { model: "glm-4.5-air", messages: ASK }; // weight 1
  gw.fakes["zai-coding"].enqueue({
    kind: "answer",
    usage: { prompt_tokens: 500, completion_tokens: 100 },
  });
  gw.fakes.zai.enqueue({ kind: "answer", usage: { prompt_tokens: 300, completion_tokens: 200 } });
  assert.equal((await raw(gw, "/s/zai-coding/v1/chat/completions", body)).status, 200);
  assert.equal((await raw(gw, "/s/zai/v1/chat/completions", body)).status, 200);
  // 600 + 500 weighted tokens: the budget is spent, on either service.
  for (const path of ["/s/zai-coding", "/s/zai", ""]) {
    const refused = await raw(gw, `${path}/v1/chat/completions`, body);
    assert.equal(refused.status, 429, path);
    assert.match(refused.json.error.message, /budget/i);
  }

  const usage = async (query: string) => {
    const response = await gw.fetch(`${gw.url}/admin/usage?${query}`, {
      headers: { authorization: "Bearer test-admin-key-7f3a" },
    });
    return { status: response.status, body: await response.json() };
  };
  const byService = await usage("days=1&group_by=service");
  assert.equal(byService.body.group_by, "service");
  const day = byService.body.data[0]?.date;
  assert.deepEqual(byService.body.data, [
    {
      date: day,
      service: "zai",
      requests: 1,
      prompt_tokens: 300,
      completion_tokens: 200,
      weighted_tokens: 500,
    },
    {
      date: day,
      service: "zai-coding",
      requests: 1,
      prompt_tokens: 500,
      completion_tokens: 100,
      weighted_tokens: 600,
    },
  ]);
  const byModel = await usage("user=default&days=1");
  assert.equal(byModel.body.group_by, null);
  assert.deepEqual(byModel.body.data, [{
    date: day,
    user: "default",
    model: "glm-4.5-air",
    requests: 2,
    prompt_tokens: 800,
    completion_tokens: 300,
    weighted_tokens: 1100,
  }]);
  const perModel = await usage("days=1&group_by=model");
  assert.deepEqual(perModel.body.data, [{
    date: day,
    model: "glm-4.5-air",
    requests: 2,
    prompt_tokens: 800,
    completion_tokens: 300,
    weighted_tokens: 1100,
  }]);
  const bad = await usage("group_by=region");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, "group_by");
});

Deno.test("usage recorded without a service groups under service null", async () => {
  await using gw = await twoServices();
  const caller = { keyId: "default", user: "default" };
  const tokens = { promptTokens: 10, completionTokens: 0, cachedTokens: 0, estimated: false };
  gw.governance.record(caller, "glm-4.5", tokens);
  gw.governance.record(caller, "glm-4.5", tokens, "zai");
  await gw.governance.settled();
  const response = await gw.fetch(`${gw.url}/admin/usage?days=1&group_by=service`, {
    headers: { authorization: "Bearer test-admin-key-7f3a" },
  });
  const rows = (await response.json()).data as Record<string, unknown>[];
  assert.deepEqual(rows.map((r) => [r.service, r.prompt_tokens]), [[null, 10], ["zai", 10]]);
});
