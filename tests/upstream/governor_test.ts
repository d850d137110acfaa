/** The upstream concurrency governor and its fair queue, through real HTTP. */

import assert from "node:assert/strict";
import { postRaw } from "../support/anthropic.ts";
import { startGateway, TEST_KEY, type TestGateway } from "../support/gateway.ts";
import { createTestKey } from "../support/kv_server.ts";
import { ask, joinDeltas, postChat, sseData } from "../support/openai_client.ts";
import { ADMIN_KEY, logLines, upstreamState, waitFor } from "../support/upstream_pool.ts";

const REQUEST = { model: "glm-4.6", messages: ask("hi") };

/** Sends a chat request without waiting; `abort()` (or leaving its scope) makes its client leave. */
function sendChat(gw: TestGateway, body: unknown, key = TEST_KEY) {
  const client = new AbortController();
  const reply = gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: client.signal,
  }).then(async (response) => ({ status: response.status, text: await response.text() }))
    .catch(() => undefined);
  const abort = () => client.abort();
  return {
    reply,
    abort,
    async [Symbol.asyncDispose]() {
      abort();
      await reply;
    },
  };
}

async function queued(gw: TestGateway): Promise<number> {
  return (await upstreamState(gw)).queued;
}

Deno.test("UPSTREAM_CONCURRENCY=2: 10 parallel requests all succeed; Z.ai never sees more than 2", async () => {
  await using gw = await startGateway({
    env: { UPSTREAM_CONCURRENCY: "2" },
    upstream: {
      concurrencyPerKey: 2,
      delayMs: 30,
      // A stream holds its slot until its last chunk.
      script: (body) =>
        (body as { stream?: boolean }).stream ? { kind: "answer", chunkDelayMs: 5 } : undefined,
    },
  });
  const replies = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) => postChat(gw, { ...REQUEST, messages: ask(`n${i}`), stream: i % 2 === 0 }),
    ),
  );
  replies.forEach((reply, i) => {
    assert.equal(reply.status, 200, reply.text);
    const content = i % 2 === 0
      ? joinDeltas(sseData(reply.text), "content")
      : reply.json.choices[0].message.content;
    assert.equal(content, `Echo: n${i}`);
  });
  assert.equal(gw.upstream.concurrencyRefusals, 0, "no 1302");
  assert.equal(gw.upstream.maxInFlight, 2);
  assert.equal(gw.upstream.requests.length, 10);
});

Deno.test("without UPSTREAM_CONCURRENCY, 8 parallel requests on a key allowing 2 all succeed", async () => {
  await using gw = await startGateway({
    env: { ADMIN_KEY },
    upstream: { concurrencyPerKey: 2, delayMs: 100 },
  });
  const replies = await Promise.all(
    Array.from({ length: 8 }, (_, i) => postChat(gw, { ...REQUEST, stream: i % 2 === 0 })),
  );
  for (const reply of replies) assert.equal(reply.status, 200, reply.text);
  assert.ok(gw.upstream.concurrencyRefusals > 0, "Z.ai said 1302 at first");
  const [key] = (await upstreamState(gw)).keys;
  assert.equal(key.limit_source, "learned");
  assert.ok(key.limit! <= 2, `learned limit ${key.limit}`);
  assert.ok(key.last_hour.codes["1302"] > 0);
  assert.equal(key.last_hour.successes, 8);
});

Deno.test("the queue takes turns between users: B's one request passes A's eight", async () => {
  await using gw = await startGateway({
    env: { ADMIN_KEY, UPSTREAM_CONCURRENCY: "1" },
    upstream: { concurrencyPerKey: 1, delayMs: 40 },
  });
  const bob = await createTestKey(gw.url, "bob");
  const order: string[] = [];
  const send = (who: string, key: string, i: number) =>
    sendChat(gw, { ...REQUEST, messages: ask(`${who}${i}`) }, key).reply.then((reply) => {
      order.push(`${who}${i}`);
      return reply;
    });
  const alice = Array.from({ length: 8 }, (_, i) => send("A", TEST_KEY, i));
  await waitFor(async () => (await queued(gw)) === 7, "A's requests are queued");
  const bobs = send("B", bob.key, 0);
  for (const reply of await Promise.all([...alice, bobs])) {
    assert.equal(reply?.status, 200, reply?.text);
  }
  assert.equal(order.length, 9);
  assert.ok(order.indexOf("B0") <= 2, `B answered within two turns: ${order.join(" ")}`);
  assert.equal(gw.upstream.maxInFlight, 1);
});

Deno.test("a full queue → 429 with Retry-After after UPSTREAM_QUEUE_TIMEOUT_MS, in both dialects", async () => {
  await using gw = await startGateway({
    env: { UPSTREAM_CONCURRENCY: "1", UPSTREAM_QUEUE_TIMEOUT_MS: "200" },
  });
  gw.upstream.enqueue({ kind: "hang" });
  await using holder = sendChat(gw, REQUEST);
  await waitFor(() => gw.upstream.requests.length === 1, "the first request holds the slot");

  const openai = await postChat(gw, { ...REQUEST, stream: true });
  assert.equal(openai.status, 429);
  assert.equal(openai.headers.get("retry-after"), "1");
  assert.equal(openai.json.error.type, "rate_limit_error");
  assert.equal(openai.json.error.code, "upstream_busy");
  assert.match(openai.json.error.message, /shared Z\.ai capacity/);
  assert.match(openai.json.error.message, /UPSTREAM_QUEUE_TIMEOUT_MS/);
  assert.match(openai.json.error.message, /not your own rate limit/);

  const anthropic = await postRaw(gw, "/v1/messages", {
    model: "glm-4.6",
    max_tokens: 100,
    messages: ask("hi"),
  });
  assert.equal(anthropic.status, 429);
  assert.equal(anthropic.headers.get("retry-after"), "1");
  assert.equal(anthropic.body.type, "error");
  assert.equal(anthropic.body.error.type, "overloaded_error");
  assert.match(anthropic.body.error.message, /shared Z\.ai capacity/);

  const lines = logLines(gw.logs, /"status":429/);
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok((line.queuedMs as number) > 0, "queued time is logged");
  holder.abort();
  await holder.reply;
  assert.equal(gw.upstream.requests.length, 1, "the requests that waited never reached Z.ai");
});

Deno.test("a client that leaves while queued frees its place and never reaches Z.ai", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY, UPSTREAM_CONCURRENCY: "1" } });
  gw.upstream.enqueue({ kind: "hang" });
  await using holder = sendChat(gw, REQUEST);
  await waitFor(() => gw.upstream.requests.length === 1, "the first request holds the slot");
  await using leaver = sendChat(gw, { ...REQUEST, messages: ask("leaving") });
  await waitFor(async () => (await queued(gw)) === 1, "the second request waits");
  leaver.abort();
  await leaver.reply;
  await waitFor(async () => (await queued(gw)) === 0, "its place is freed");

  await using stayer = sendChat(gw, { ...REQUEST, messages: ask("staying") });
  await waitFor(async () => (await queued(gw)) === 1, "the third request waits");
  holder.abort();
  await holder.reply;
  const reply = await stayer.reply;
  assert.equal(reply?.status, 200);
  const prompts = gw.upstream.requests.map((r) => r.body.messages.at(-1).content);
  assert.deepEqual(prompts, ["hi", "staying"], "the one that left never went upstream");
  assert.equal((await upstreamState(gw)).keys[0].in_flight, 0, "every slot is back");
});

Deno.test("every way an answer ends gives its slot back exactly once", async () => {
  await using gw = await startGateway({
    env: { ADMIN_KEY, UPSTREAM_CONCURRENCY: "1", UPSTREAM_QUEUE_TIMEOUT_MS: "5000" },
  });
  const inFlight = async () => (await upstreamState(gw)).keys[0].in_flight;
  const ends: [string, () => Promise<unknown>][] = [
    ["a whole stream", () => postChat(gw, { ...REQUEST, stream: true })],
    ["a whole JSON answer", () => postChat(gw, { ...REQUEST, stream: false })],
    ["a 400 from Z.ai", () => {
      gw.upstream.enqueue({
        kind: "error",
        status: 400,
        body: { error: { code: "1214", message: "Invalid messages" } },
      });
      return postChat(gw, REQUEST);
    }],
    ["a stream cut by Z.ai", () => {
      gw.upstream.enqueue({ kind: "answer", text: "one two three", resetAfterChunks: 2 });
      return postChat(gw, { ...REQUEST, stream: true });
    }],
    ["a Z.ai error inside the stream", () => {
      const injectData = JSON.stringify({ error: { code: "1301", message: "Unsafe" } });
      gw.upstream.enqueue({ kind: "answer", text: "Partial", injectData });
      return postChat(gw, { ...REQUEST, stream: true });
    }],
    ["a client leaving mid-stream", async () => {
      gw.upstream.enqueue({ kind: "answer", text: "word ".repeat(200), chunkDelayMs: 20 });
      await using _leaving = sendChat(gw, { ...REQUEST, stream: true });
      await waitFor(() => gw.upstream.requests.length > 0, "the stream started");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }],
    ["an Anthropic stream", () =>
      postRaw(gw, "/v1/messages", {
        model: "glm-4.6",
        max_tokens: 100,
        stream: true,
        messages: ask("hi"),
      })],
  ];
  for (const [name, end] of ends) {
    await end();
    await waitFor(async () => (await inFlight()) === 0, `the slot is back after ${name}`);
  }
  const last = await postChat(gw, REQUEST);
  assert.equal(last.status, 200, "the one slot is still there");
  assert.equal(await inFlight(), 0, "and was not given back twice");
});
