import assert from "node:assert/strict";
import { startGateway, TEST_KEY, type TestGateway } from "../support/gateway.ts";

const ADMIN_KEY = "admin-test-key";

interface UsageRow {
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  weighted_tokens: number;
}

async function usageOf(gw: TestGateway, model: string): Promise<UsageRow | undefined> {
  await gw.governance.settled();
  const response = await fetch(`${gw.url}/admin/usage?user=default&days=1`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  return body.data.find((row: UsageRow) => row.model === model);
}

function chat(gw: TestGateway, body: Record<string, unknown>, signal?: AbortSignal) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "count me" }], ...body }),
    signal,
  });
}

Deno.test("usage is weighted per model from the upstream's counts", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY } });
  const usage = { prompt_tokens: 100, completion_tokens: 50 };
  gw.upstream.enqueue({ kind: "answer", usage });
  gw.upstream.enqueue({ kind: "answer", usage });
  gw.upstream.enqueue({ kind: "answer", usage });
  for (const model of ["glm-4.5-flash", "GLM-5", "some-future-model"]) {
    const response = await chat(gw, { model, stream: false });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const flash = await usageOf(gw, "glm-4.5-flash");
  assert.deepEqual(
    [flash?.requests, flash?.prompt_tokens, flash?.completion_tokens, flash?.weighted_tokens],
    [1, 100, 50, 15],
    "glm-4.5-flash weighs 0.1x",
  );
  assert.equal((await usageOf(gw, "glm-5"))?.weighted_tokens, 450, "glm-5 weighs 3x");
  assert.equal(
    (await usageOf(gw, "some-future-model"))?.weighted_tokens,
    300,
    "unknown models weigh 2x",
  );
});

Deno.test("a spent daily budget refuses the next chat with 429 and Retry-After", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY, DAILY_TOKEN_BUDGET: "1000" } });
  gw.upstream.enqueue({ kind: "answer", usage: { prompt_tokens: 400, completion_tokens: 200 } });
  const first = await chat(gw, { model: "glm-4.6", stream: true });
  assert.equal(first.status, 200);
  await first.text();
  await gw.governance.settled();
  const second = await chat(gw, { model: "glm-4.6", stream: false });
  assert.equal(second.status, 429);
  assert.ok(Number(second.headers.get("retry-after")) > 0);
  const body = await second.json();
  assert.match(body.error.message, /budget/i);
});

Deno.test("a stream the client abandons is still counted, estimated when no usage arrived", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY } });
  gw.upstream.enqueue({ kind: "answer", text: "word ".repeat(200), chunkDelayMs: 20 });
  const controller = new AbortController();
  const response = await chat(gw, { model: "glm-4.6", stream: true }, controller.signal);
  const reader = response.body!.getReader();
  await reader.read();
  await reader.read();
  const aborted = gw.upstream.nextAbort();
  controller.abort();
  await aborted;
  await gw.governance.settled();
  const row = await usageOf(gw, "glm-4.6");
  assert.equal(row?.requests, 1);
  assert.ok(row!.prompt_tokens > 0, "prompt tokens are estimated");
  assert.ok(row!.weighted_tokens > 0);
});

Deno.test("a stream that fails upstream midway is still counted", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY } });
  gw.upstream.enqueue({
    kind: "answer",
    text: "partial answer ".repeat(20),
    resetAfterChunks: 6,
    chunkDelayMs: 5,
  });
  const response = await chat(gw, { model: "glm-4.7", stream: true });
  const text = await response.text();
  assert.match(text, /"error"/, "the failure arrives inside the stream");
  const row = await usageOf(gw, "glm-4.7");
  assert.equal(row?.requests, 1);
  assert.ok(row!.completion_tokens > 0, "what was produced before the failure is counted");
});
