import assert from "node:assert/strict";
import { createGovernance } from "../../lib/governance/governance.ts";
import {
  hurryAdmission,
  keyAdmissions,
  mayStartEarly,
  requestAdmission,
} from "../../lib/governance/admission.ts";
import { loadConfig } from "../../lib/core/config.ts";
import type { ApiError } from "../../lib/core/errors.ts";
import { createHandler } from "../../lib/app.ts";
import { createKey, setKeyDisabled, updateUser } from "../../lib/governance/keys.ts";
import { FAKE_UPSTREAM_KEY, startFakeUpstream } from "../support/fake_upstream.ts";
import { countingKv, intercepted } from "../support/intercepted_kv.ts";
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
    const first = governance.admit(key);
    assert.equal(first.early, null, "an unknown key waits for its decision");
    const { caller } = await first;
    const second = governance.admit(key);
    assert.deepEqual(second.early, caller);
    await second;
    const third = governance.admit(key);
    assert.deepEqual(third.early, caller, "2 of 3 counted: room for one more");
    await third;
    const fourth = governance.admit(key);
    assert.equal(fourth.early, null, "the window is full");
    await assert.rejects(fourth, (e: ApiError) => e.status === 429);

    clock.advance(60_000);
    // A new window: of 5 asked at once, three may start early; all five are decided exactly.
    const burst = Array.from({ length: 5 }, () => governance.admit(key));
    assert.deepEqual(burst.map((p) => p.early !== null), [true, true, true, false, false]);
    const outcomes = await Promise.allSettled(burst);
    assert.deepEqual(outcomes.map((o) => o.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);

    clock.advance(9 * 86_400_000);
    const expired = governance.admit(key);
    assert.equal(expired.early, null, "the key has expired since");
    await assert.rejects(expired, (e: ApiError) => e.status === 403);
  } finally {
    kv.close();
  }
});

Deno.test("a key disabled behind the process's back is refused: its early start is not an admission", async () => {
  const { kv, governance, key, record } = await governanceWithKey(100);
  try {
    await governance.admit(key);
    await setKeyDisabled(kv, record.id, true); // as another process would, unseen by this one
    const started = governance.admit(key);
    assert.notEqual(started.early, null, "this process last saw the key enabled");
    await assert.rejects(started, (e: ApiError) => e.status === 403);
    const next = governance.admit(key);
    assert.equal(next.early, null, "the refusal is remembered");
    await assert.rejects(next, (e: ApiError) => e.status === 403);
  } finally {
    kv.close();
  }
});

Deno.test("requests that started early are decided together, by one commit", async () => {
  const clock = fakeClock();
  await using kv = await Deno.openKv(":memory:");
  const counting = countingKv(kv);
  const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: "100" });
  const governance = createGovernance({ config, kv: counting.kv, now: clock.now });
  const options = { user: "kim", name: null, lifetimeDays: 9, maxKeysPerUser: 5 };
  const { key } = await createKey(kv, { ...options, now: clock.now() });
  await governance.admit(key);
  const before = counting.atomics();
  const burst = Array.from({ length: 10 }, () => governance.admit(key));
  assert.ok(burst.every((admission) => admission.early !== null));
  const remaining = (await Promise.all(burst)).map((a) =>
    a.headers["x-ratelimit-remaining-requests"]
  );
  assert.deepEqual(remaining, ["98", "97", "96", "95", "94", "93", "92", "91", "90", "89"]);
  assert.equal(counting.atomics() - before, 1);
});

/** A key's admissions after one decided request (so the next may start early), on a counting KV. */
async function decidedOnce(kv: Deno.Kv) {
  const counting = countingKv(kv);
  const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: "100" });
  const deps = { config, kv: counting.kv, now: Date.now };
  const options = { user: "lee", name: null, lifetimeDays: 9, maxKeysPerUser: 5 };
  const { record } = await createKey(kv, { ...options, now: Date.now() });
  const state = keyAdmissions({ keyId: record.id, user: record.user });
  await requestAdmission(deps, state, false);
  return { counting, deps, state };
}

Deno.test("an early start's decision gathers company until a response needs it", async () => {
  await using kv = await Deno.openKv(":memory:");
  const { deps, state } = await decidedOnce(kv);
  assert.equal(mayStartEarly(state, Date.now()), true);

  const gathered = requestAdmission(deps, state, true);
  assert.equal(state.deciding, false, "an early start's decision waits for company");
  assert.notEqual(state.gathering, undefined);
  gathered.hurry();
  assert.equal(state.deciding, true, "a response is ready: decided at once");
  assert.equal(state.gathering, undefined);
  const admitted = await gathered;
  assert.equal(admitted.headers["x-ratelimit-remaining-requests"], "98");
  hurryAdmission(deps, state); // nothing waits: nothing to do
  assert.equal(state.deciding, false);
});

Deno.test("early starts that arrive during a decision gather for the next one; hurrying a decided request decides nothing", async () => {
  await using kv = await Deno.openKv(":memory:");
  const { counting, deps, state } = await decidedOnce(kv);
  const before = counting.atomics();

  const first = requestAdmission(deps, state, true);
  first.hurry();
  assert.equal(state.deciding, true);
  const second = requestAdmission(deps, state, true); // arrives while the first is decided
  second.catch(() => {}); // a failed assertion below must not leave it unhandled
  await first;
  assert.equal(state.deciding, false, "the second does not follow at once: it gathers");
  assert.notEqual(state.gathering, undefined);
  first.hurry(); // decided already: nothing to hurry
  assert.equal(state.deciding, false);
  assert.notEqual(state.gathering, undefined);
  const third = requestAdmission(deps, state, true);
  third.hurry();
  assert.equal(state.deciding, true, "a waiting request's response is ready: decided at once");
  const [admittedSecond, admittedThird] = await Promise.all([second, third]);
  assert.equal(counting.atomics() - before, 2, "the second and third share one commit");
  assert.deepEqual(
    [admittedSecond, admittedThird].map((a) => a.headers["x-ratelimit-remaining-requests"]),
    ["97", "96"],
  );
  assert.equal(state.gathering, undefined);
});

Deno.test("a key's admissions read KV once; the commit's check catches what other writers change", async () => {
  const clock = fakeClock();
  await using kv = await Deno.openKv(":memory:");
  const counting = countingKv(kv);
  const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: "100", DAILY_TOKEN_BUDGET: "50" });
  const governance = createGovernance({ config, kv: counting.kv, now: clock.now });
  const options = { user: "jo", name: null, lifetimeDays: 9, maxKeysPerUser: 5 };
  const { key, record } = await createKey(kv, { ...options, now: clock.now() });
  for (let i = 0; i < 5; i++) await governance.admit(key);
  assert.equal(counting.reads(), 1, "judged again from what the last commit wrote");
  // Budget: usage this process records counts at once; usage written elsewhere within a second.
  const { caller } = await governance.admit(key);
  await governance.record(caller, "glm-4.5-air", {
    promptTokens: 50,
    completionTokens: 0,
    cachedTokens: 0,
    estimated: false,
  });
  await assert.rejects(governance.admit(key), (e: ApiError) => e.status === 429);
  assert.equal(counting.reads(), 2, "a refusal is read from KV first");
  await kv.delete(["usage_total", "2026-01-15", "jo"]); // as if another day's figure
  clock.advance(1000);
  await governance.admit(key);
  assert.equal(counting.reads(), 3, "usage is read again after a second");
  await setKeyDisabled(kv, record.id, true); // another writer
  await assert.rejects(governance.admit(key), (e: ApiError) => e.status === 403);
  await updateUser(kv, "jo", { changes: { rateLimitRpm: 8 }, now: clock.now(), create: true });
  await setKeyDisabled(kv, record.id, false);
  const { headers } = await governance.admit(key);
  assert.equal(headers["x-ratelimit-limit-requests"], "8", "the user's new limit applies at once");
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
