/** The key pool as clients see it: spent and refused keys are skipped, the least busy key is used. */

import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { ask, postChat } from "../support/openai_client.ts";
import {
  ADMIN_KEY,
  keyOf,
  logLines,
  upstreamState,
  waitFor,
  zaiClock,
} from "../support/upstream_pool.ts";
import { TEST_KEY } from "../support/gateway.ts";

const KEY_A = "zai-key-one-secret-AAAA";
const KEY_B = "zai-key-two-secret-BBBB";
const REQUEST = { model: "glm-4.6", messages: ask("hi") };

function twoKeyGateway(options: { now?: () => number; accepted?: string[]; env?: object } = {}) {
  return startGateway({
    env: { UPSTREAM_API_KEY: `${KEY_A}, ${KEY_B}`, ADMIN_KEY, ...options.env },
    upstream: { keys: options.accepted ?? [KEY_A, KEY_B] },
    now: options.now,
  });
}

Deno.test("a spent key (1308) is skipped and not tried again until its reset, then used again", async () => {
  let now = Date.now();
  await using gw = await twoKeyGateway({ now: () => now });
  gw.upstream.setSpent(KEY_A, zaiClock(now, 2 * 3_600_000));
  for (const stream of [false, true, false, true, false]) {
    const reply = await postChat(gw, { ...REQUEST, stream });
    assert.equal(reply.status, 200, reply.text);
  }
  const used = gw.upstream.requests.map(keyOf);
  assert.deepEqual(used, [KEY_A, KEY_B, KEY_B, KEY_B, KEY_B, KEY_B], "A once, then B only");

  const [a, b] = (await upstreamState(gw)).keys;
  assert.equal(a.state, "cooling");
  const back = Date.parse(a.until!);
  assert.ok(Math.abs(back - (now + 2 * 3_600_000)) < 2000, `cooling until the reset: ${a.until}`);
  assert.match(a.reason ?? "", /1308/);
  assert.equal(b.state, "healthy");

  now += 2 * 3_600_000 + 1000;
  gw.upstream.setSpent(KEY_A, null);
  for (const stream of [false, true]) {
    assert.equal((await postChat(gw, { ...REQUEST, stream })).status, 200);
  }
  assert.ok(gw.upstream.requests.slice(6).map(keyOf).includes(KEY_A), "A is back after its reset");
  assert.equal((await upstreamState(gw)).keys[0].state, "healthy");
  assert.equal(logLines(gw.logs, /"upstream_key"/).length, 2, "one line to cool, one to come back");
});

Deno.test("every key spent → 429 with Retry-After of the soonest reset, without calling Z.ai again", async () => {
  const now = Date.now();
  await using gw = await twoKeyGateway({ now: () => now });
  gw.upstream.setSpent(KEY_A, zaiClock(now, 2 * 3_600_000));
  const soonest = zaiClock(now, 3_600_000);
  gw.upstream.setSpent(KEY_B, soonest);
  for (const stream of [false, true]) {
    const reply = await postChat(gw, { ...REQUEST, stream });
    assert.equal(reply.status, 429);
    const retryAfter = Number(reply.headers.get("retry-after"));
    assert.ok(retryAfter > 3500 && retryAfter <= 3601, `Retry-After ${retryAfter} ≈ 1 h`);
    assert.equal(reply.json.error.type, "insufficient_quota");
    assert.equal(reply.json.error.code, "zai_1308");
    assert.ok(reply.json.error.message.includes(soonest), reply.json.error.message);
  }
  assert.equal(gw.upstream.requests.length, 2, "each key tried once, then left to rest");
});

Deno.test("a key Z.ai refuses is logged once without the key, and the others carry on", async () => {
  const wrong = "zai-revoked-secret-ZZZZ";
  await using gw = await startGateway({
    env: { UPSTREAM_API_KEY: `${wrong},${KEY_A}`, ADMIN_KEY },
    upstream: { keys: [KEY_A] },
  });
  for (const stream of [false, true, false, true]) {
    const reply = await postChat(gw, { ...REQUEST, stream });
    assert.equal(reply.status, 200, reply.text);
  }
  assert.equal(gw.upstream.requests.filter((r) => keyOf(r) === wrong).length, 1);
  const refusals = logLines(gw.logs, /"refused"/);
  assert.equal(refusals.length, 1, "logged once");
  assert.equal(refusals[0].upstream_key, "…ZZZZ");
  assert.equal(refusals[0].level, "error");
  assert.match(String(refusals[0].message), /UPSTREAM_API_KEY/);
  assert.ok(!gw.logs.some((line) => line.includes("revoked-secret")), "no log line holds the key");
  assert.equal((await upstreamState(gw)).keys[0].state, "refused");
});

Deno.test("every key refused → 502 naming UPSTREAM_API_KEY, never the client's 401", async () => {
  await using gw = await twoKeyGateway({ accepted: [] });
  for (const stream of [false, true, false]) {
    const reply = await postChat(gw, { ...REQUEST, stream });
    assert.equal(reply.status, 502);
    assert.equal(reply.json.error.type, "api_error");
    assert.match(reply.json.error.message, /UPSTREAM_API_KEY/);
    assert.match(reply.json.error.message, /your key is fine/);
    assert.ok(!reply.text.includes("secret"), "no upstream key in the answer");
  }
  assert.equal(gw.upstream.requests.length, 2, "each key tried once, then left out");
});

Deno.test("keys are chosen by least in flight, not in turn", async () => {
  await using gw = await twoKeyGateway();
  gw.upstream.enqueue({ kind: "hang" });
  const slow = new AbortController();
  const held = gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ ...REQUEST, stream: false }),
    signal: slow.signal,
  }).catch(() => undefined);
  await waitFor(() => gw.upstream.requests.length === 1, "the held request reached Z.ai");
  for (let i = 0; i < 3; i++) assert.equal((await postChat(gw, REQUEST)).status, 200);
  slow.abort();
  await held;
  const [first, ...rest] = gw.upstream.requests.map(keyOf);
  assert.deepEqual(rest, [1, 2, 3].map(() => (first === KEY_A ? KEY_B : KEY_A)));
});
