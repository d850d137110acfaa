import assert from "node:assert/strict";
import { createGovernance } from "../../lib/governance/governance.ts";
import { loadConfig } from "../../lib/core/config.ts";
import type { ApiError } from "../../lib/core/errors.ts";
import { createHandler } from "../../lib/app.ts";
import { createKey, setKeyDisabled } from "../../lib/governance/keys.ts";
import { FAKE_UPSTREAM_KEY, startFakeUpstream } from "../support/fake_upstream.ts";
import { intercepted } from "../support/intercepted_kv.ts";
import { fakeClock } from "../support/kv_server.ts";

async function governanceWithKey(rateLimitRpm: number) {
  const clock = fakeClock();
  const kv = await Deno.openKv(":memory:");
  const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: String(rateLimitRpm) });
  const governance = createGovernance({ config, kv, now: clock.now });
  const options = { user: "early", name: null, lifetimeDays: 9, maxKeysPerUser: 5 };
  const created = await createKey(kv, { ...options, now: clock.now() });
  return { clock, kv, governance, ...created };
}

Deno.test("a key's next request starts early only while the last decision leaves it room", async () => {
  const { clock, kv, governance, key } = await governanceWithKey(3);
  try {
    const first = await governance.admit(key);
    assert.equal(first.startEarly, false, "an unknown key waits for its decision");
    await first.decision;
    const second = await governance.admit(key);
    assert.equal(second.startEarly, true);
    await second.decision;
    const third = await governance.admit(key);
    assert.equal(third.startEarly, true, "2 of 3 counted: room for one more");
    await third.decision;
    const fourth = await governance.admit(key);
    assert.equal(fourth.startEarly, false, "the window is full");
    await assert.rejects(fourth.decision, (e: ApiError) => e.status === 429);

    clock.advance(60_000);
    // A new window: of 5 asked at once, three may start early; all five are decided exactly.
    const burst = await Promise.all(Array.from({ length: 5 }, () => governance.admit(key)));
    assert.deepEqual(burst.map((a) => a.startEarly), [true, true, true, false, false]);
    const outcomes = await Promise.allSettled(burst.map((a) => a.decision));
    assert.deepEqual(outcomes.map((o) => o.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);

    clock.advance(9 * 86_400_000);
    const expired = await governance.admit(key);
    assert.equal(expired.startEarly, false, "the key has expired since");
    await assert.rejects(expired.decision, (e: ApiError) => e.status === 403);
  } finally {
    kv.close();
  }
});

Deno.test("a key disabled behind the process's back is refused: its early start is not an admission", async () => {
  const { kv, governance, key, record } = await governanceWithKey(100);
  try {
    await (await governance.admit(key)).decision;
    await setKeyDisabled(kv, record.id, true); // as another process would, unseen by this one
    const started = await governance.admit(key);
    assert.equal(started.startEarly, true, "this process last saw the key enabled");
    await assert.rejects(started.decision, (e: ApiError) => e.status === 403);
    const next = await governance.admit(key);
    assert.equal(next.startEarly, false, "the refusal is remembered");
    await assert.rejects(next.decision, (e: ApiError) => e.status === 403);
  } finally {
    kv.close();
  }
});

/** Waits for `promise`, failing with `message` after `ms`. */
async function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A KV whose reads take `ms` longer, like a distant KV server. */
function withSlowReads(kv: Deno.Kv, ms: number): Deno.Kv {
  return intercepted(kv, (method, call) => {
    if (method !== "getMany") return call();
    return new Promise((resolve) => setTimeout(resolve, ms)).then(call);
  });
}

Deno.test("a request started early and then refused: the client gets the refusal, Z.ai's call is aborted", async () => {
  await using upstream = startFakeUpstream({ delayMs: 5000 });
  await using kv = await Deno.openKv(":memory:");
  const config = loadConfig({
    DEFAULT_KEY: "",
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
  });
  const governance = createGovernance({ config, kv: withSlowReads(kv, 300), now: Date.now });
  const handler = createHandler({ config, kv, governance, log: () => {} });
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const options = { user: "ivy", name: null, lifetimeDays: 9, maxKeysPerUser: 5 };
  const { record: { id }, key } = await createKey(kv, { ...options, now: Date.now() });
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

  for (const stream of [false, true]) {
    const models = await fetch(`${url}/v1/models`, { headers });
    assert.equal(models.status, 200);
    await models.body?.cancel();
    await setKeyDisabled(kv, id, true); // behind the gateway's back, as another process would
    const aborted = upstream.nextAbort();
    const started = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: "glm-4.6",
        stream,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.equal(response.status, 403);
    assert.match((await response.json()).error.message, /is disabled/);
    assert.ok(performance.now() - started < 2500, "refused without waiting for Z.ai's answer");
    await within(3000, aborted, "Z.ai's call was not aborted");
    await setKeyDisabled(kv, id, false);
  }
  assert.equal(upstream.requests.length, 2, "both calls started before their decision");
  assert.equal(upstream.aborted, 2);
});
