/** Retries before the first byte: what is retried, where, how often, and what never is. */

import assert from "node:assert/strict";
import type { ErrorScript } from "../support/fake_upstream.ts";
import { startGateway, TEST_KEY } from "../support/gateway.ts";
import { ask, joinDeltas, postChat, sseData } from "../support/openai_client.ts";
import { keyOf, waitFor } from "../support/upstream_pool.ts";

const REQUEST = { model: "glm-4.6", messages: ask("hi") };

function zaiError(status: number, code: string, message: string): ErrorScript {
  return { kind: "error", status, body: { error: { code, message } } };
}

const OVERLOADED = zaiError(
  429,
  "1305",
  "The service may be temporarily overloaded, please try again later",
);

for (
  const [name, failure] of [
    ["1305", OVERLOADED],
    ["500", zaiError(500, "500", "Internal Error")],
    ["503 without a body", { kind: "error", status: 503, body: "" } as ErrorScript],
  ] as const
) {
  Deno.test(`a first attempt's ${name} is retried, streaming and not: the client gets the answer`, async () => {
    await using gw = await startGateway({ upstream: { failFirstAttempt: failure } });
    const json = await postChat(gw, { ...REQUEST, messages: ask("one"), stream: false });
    assert.equal(json.status, 200, json.text);
    assert.equal(json.json.choices[0].message.content, "Echo: one");
    const stream = await postChat(gw, { ...REQUEST, messages: ask("two"), stream: true });
    assert.equal(stream.status, 200, stream.text);
    const events = sseData(stream.text);
    assert.equal(joinDeltas(events, "content"), "Echo: two");
    assert.ok(!events.some((e) => e !== "[DONE]" && e.error), "no error in the stream");
    assert.equal(gw.upstream.requests.length, 4, "one retry each");
  });
}

Deno.test("a retry goes to another key when there is one", async () => {
  const keys = ["zai-key-one-AAAA", "zai-key-two-BBBB"];
  await using gw = await startGateway({
    env: { UPSTREAM_API_KEY: keys.join(",") },
    upstream: { keys, failFirstAttempt: OVERLOADED },
  });
  assert.equal((await postChat(gw, REQUEST)).status, 200);
  assert.deepEqual(gw.upstream.requests.map(keyOf), keys);
});

Deno.test("UPSTREAM_RETRIES bounds the retries; then the client gets Z.ai's error", async () => {
  await using gw = await startGateway({ env: { UPSTREAM_RETRIES: "2" } });
  for (let i = 0; i < 3; i++) gw.upstream.enqueue(OVERLOADED);
  const reply = await postChat(gw, { ...REQUEST, stream: false });
  assert.equal(reply.status, 429);
  assert.equal(reply.json.error.code, "zai_1305");
  assert.ok(reply.headers.get("retry-after"));
  assert.equal(gw.upstream.requests.length, 3, "the first attempt and two retries");
});

Deno.test("a 400-class refusal (1214, 1301) is never retried; a 1305 is", async () => {
  await using gw = await startGateway();
  for (const code of ["1214", "1301"]) {
    gw.upstream.enqueue(zaiError(400, code, "Invalid request"));
    const reply = await postChat(gw, { ...REQUEST, stream: true });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.code, `zai_${code}`);
  }
  assert.equal(gw.upstream.requests.length, 2, "one attempt each");
  gw.upstream.enqueue(OVERLOADED);
  assert.equal((await postChat(gw, REQUEST)).status, 200);
  assert.equal(gw.upstream.requests.length, 4, "the 1305 was retried");
});

Deno.test("once the first byte is out nothing is retried: a cut stream ends in an error", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue(zaiError(500, "500", "Internal Error"));
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "",
    text: "one two three four",
    resetAfterChunks: 2,
  });
  const reply = await postChat(gw, { ...REQUEST, stream: true });
  assert.equal(reply.status, 200);
  const events = sseData(reply.text);
  assert.equal(joinDeltas(events, "content"), "one two ");
  assert.equal(events.filter((e) => e !== "[DONE]" && e.error).length, 1);
  assert.equal(gw.upstream.requests.length, 2, "the 500 was retried, the cut stream was not");
});

Deno.test("a client that leaves during the wait before a retry is not retried", async () => {
  await using gw = await startGateway();
  gw.upstream.enqueue(OVERLOADED);
  const client = new AbortController();
  const request = gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(REQUEST),
    signal: client.signal,
  }).catch(() => undefined);
  await waitFor(() => gw.upstream.requests.length === 1, "the first attempt reached Z.ai");
  client.abort();
  await request;
  await waitFor(() => gw.logs.some((line) => line.includes('"status":499')), "the request ended");
  assert.equal(gw.upstream.requests.length, 1, "no attempt after the client left");

  gw.upstream.enqueue(OVERLOADED);
  assert.equal((await postChat(gw, REQUEST)).status, 200, "a client that stays gets its retry");
  assert.equal(gw.upstream.requests.length, 3);
});

Deno.test("a connection reset before the headers is retried", async () => {
  let attempts = 0;
  const flaky: typeof fetch = (input, init) =>
    attempts++ === 0
      ? Promise.reject(new TypeError("error sending request: connection reset"))
      : fetch(input, init);
  await using gw = await startGateway({ fetch: flaky });
  for (const stream of [false, true]) {
    attempts = 0;
    const reply = await postChat(gw, { ...REQUEST, stream });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(attempts, 2);
  }
  assert.equal(gw.upstream.requests.length, 2, "Z.ai saw only the second attempts");
});
