/**
 * Issue 15: a request's usage counts for every key of its user before the client has the end of
 * its response (one process), and once committed across processes sharing one KV file.
 */

import assert from "node:assert/strict";
import { FAKE_UPSTREAM_KEY, startFakeUpstream } from "../support/fake_upstream.ts";
import { admin, createTestKey, startKvGateway } from "../support/kv_server.ts";
import { startGatewayProcesses } from "../support/processes.ts";

/** Each answer costs 600 weighted tokens on glm-4.5-air (1x): 600 prompt, 0 completion. */
function costlyUpstream() {
  return startFakeUpstream({
    script: () => ({
      kind: "answer",
      text: "ok",
      usage: { prompt_tokens: 600, completion_tokens: 0 },
    }),
  });
}

async function chat(
  base: string,
  key: string,
  stream = false,
): Promise<number> {
  const response = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: "glm-4.5-air",
      stream,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  await response.text(); // the whole response: the client has its end
  return response.status;
}

Deno.test("one client, one request at a time: a budget of 1000 admits two requests of 600", async () => {
  await using upstream = costlyUpstream();
  const env = {
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
  };
  await using gw = await startKvGateway({ env });
  const { key } = await createTestKey(gw.url, "pat");
  await admin(gw.url, "/admin/users/pat", {
    method: "PATCH",
    body: { daily_token_budget: 1000 },
  });
  for (const stream of [false, true]) {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await chat(gw.url, key, stream));
    assert.deepEqual(
      statuses,
      stream ? [429, 429, 429, 429] : [200, 200, 429, 429],
    );
  }
  assert.equal(
    upstream.requests.length,
    2,
    "refused requests never reach Z.ai",
  );
});

Deno.test("a user's five keys used in turn share one budget within one process", async () => {
  await using upstream = costlyUpstream();
  const env = {
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
  };
  await using gw = await startKvGateway({ env });
  const keys = [];
  for (let i = 0; i < 5; i++) {
    keys.push((await createTestKey(gw.url, "rota")).key);
  }
  await admin(gw.url, "/admin/users/rota", {
    method: "PATCH",
    body: { daily_token_budget: 1000 },
  });
  const statuses = [];
  for (const key of keys) statuses.push(await chat(gw.url, key, true));
  assert.deepEqual(statuses, [200, 200, 429, 429, 429]);
});

Deno.test("usage shows in /v1/key and /admin/usage as soon as the response has ended", async () => {
  await using upstream = costlyUpstream();
  const env = {
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
  };
  await using gw = await startKvGateway({ env });
  const { key } = await createTestKey(gw.url, "quinn");
  for (const stream of [false, true]) {
    assert.equal(await chat(gw.url, key, stream), 200);
    const info = await fetch(`${gw.url}/v1/key`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = await info.json();
    const usage = await admin(gw.url, "/admin/usage?user=quinn&days=1");
    const rows = usage.body.data as {
      requests: number;
      weighted_tokens: number;
    }[];
    const expected = stream ? 2 : 1;
    assert.equal(
      body.usage_today.requests,
      expected,
      "GET /v1/key counts the last request",
    );
    assert.equal(body.usage_today.weighted_tokens, 600 * expected);
    assert.equal(
      rows[0]?.requests,
      expected,
      "GET /admin/usage counts the last request",
    );
  }
});

Deno.test("every request that reached Z.ai is metered, aborted or not, under load", async () => {
  await using upstream = startFakeUpstream({
    script: () => ({
      kind: "answer",
      text: "one two three four five six",
      chunkDelayMs: 20,
    }),
  });
  const env = {
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
    RATE_LIMIT_RPM: "100000",
  };
  await using gw = await startKvGateway({ env });
  const { key } = await createTestKey(gw.url, "rex");
  const requests = Array.from({ length: 150 }, async (_, i) => {
    const controller = new AbortController();
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        model: "glm-4.6",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      }),
      signal: controller.signal,
    });
    // A third of the clients leave at some point of their stream.
    if (i % 3 === 0) setTimeout(() => controller.abort(), (i * 7) % 120);
    await response.text().catch(() => {});
  });
  await Promise.all(requests);
  // The gateway's side of an aborted request ends when it notices; wait for every log line.
  while (
    gw.logs.filter((line) => line.includes("/v1/chat/completions")).length < 150
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const usage = await admin(gw.url, "/admin/usage?user=rex&days=1");
  const metered = (usage.body.data as { requests: number }[]).reduce(
    (n, r) => n + r.requests,
    0,
  );
  assert.ok(
    metered >= upstream.requests.length,
    `${upstream.requests.length} requests reached Z.ai, ${metered} were metered`,
  );
  assert.ok(metered <= 150, `${metered} metered for 150 sent`);
});

Deno.test("across two processes on one KV file, usage one recorded counts in the other's budget", async () => {
  await using upstream = costlyUpstream();
  await using servers = await startGatewayProcesses(2, {
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
  });
  const [a, b] = servers.urls;
  const keys = [];
  for (let i = 0; i < 4; i++) keys.push((await createTestKey(a, "twins")).key);
  await admin(a, "/admin/users/twins", {
    method: "PATCH",
    body: { daily_token_budget: 1000 },
  });
  // Alternate processes and keys; after each answer, its process shows the usage in
  // /admin/usage (so it is committed): the other process must then count it.
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const base = i % 2 ? b : a;
    statuses.push(await chat(base, keys[i]));
    await admin(base, "/admin/usage?user=twins&days=1");
  }
  assert.deepEqual(statuses, [200, 200, 429, 429]);
});
