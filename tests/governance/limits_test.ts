import assert from "node:assert/strict";
import { createGovernance } from "../../lib/governance/governance.ts";
import { loadConfig } from "../../lib/core/config.ts";
import { ApiError } from "../../lib/core/errors.ts";
import type { Caller } from "../../lib/governance/governance.ts";
import type { Usage } from "../../lib/core/glm.ts";
import { createKey, setKeyDisabled, updateUser } from "../../lib/governance/keys.ts";
import { listUsage } from "../../lib/governance/usage.ts";
import {
  admitted,
  createTestKey,
  fakeClock,
  recorded,
  startKvGateway,
} from "../support/kv_server.ts";
import { startGatewayProcesses } from "../support/processes.ts";

function usage(promptTokens: number, completionTokens = 0): Usage {
  return { promptTokens, completionTokens, cachedTokens: 0, estimated: false };
}

async function hit(url: string, key: string) {
  const response = await fetch(`${url}/v1/models`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return {
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  };
}

Deno.test("200 simultaneous requests against a limit of 50 admit exactly 50", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({
    env: { RATE_LIMIT_RPM: "50" },
    now: clock.now,
  });
  const { key } = await createTestKey(gw.url, "burst");
  const results = await Promise.all(
    Array.from({ length: 200 }, () => hit(gw.url, key)),
  );
  const admitted = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 429);
  assert.equal(admitted.length, 50);
  assert.equal(refused.length, 150);
  const remaining = admitted.map((r) => Number(r.headers.get("x-ratelimit-remaining-requests")));
  assert.deepEqual(
    remaining.sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  for (const r of refused) {
    assert.equal(r.headers.get("retry-after"), "50");
    assert.equal(r.headers.get("x-ratelimit-remaining-requests"), "0");
  }
});

Deno.test("the limit holds exactly across two server processes sharing one KV file", async () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 10);
  const env = { RATE_LIMIT_RPM: "50", FIXED_NOW: String(now) };
  await using servers = await startGatewayProcesses(2, env);
  const setup = await Deno.openKv(servers.kvPath);
  const options = {
    user: "shared",
    name: null,
    lifetimeDays: 1,
    maxKeysPerUser: 5,
    now,
  };
  const { key } = await createKey(setup, options);
  setup.close();
  const urls = servers.urls;
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => hit(urls[i % 2], key)),
  );
  const byServer = urls.map((_url, s) =>
    results.filter((r, i) => i % 2 === s && r.status === 200).length
  );
  assert.equal(
    results.filter((r) => r.status === 200).length,
    50,
    `admitted ${byServer}`,
  );
  assert.deepEqual(
    results.filter((r) => r.status !== 200 && r.status !== 429),
    [],
  );
  assert.equal(results.filter((r) => r.status === 429).length, 150);
});

/** Runs `body` with two KV handles on one temp file, as two processes would open it. */
async function withSharedKvFile(body: (kvA: Deno.Kv, kvB: Deno.Kv) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await using kvA = await Deno.openKv(`${dir}/kv.sqlite3`);
    await using kvB = await Deno.openKv(`${dir}/kv.sqlite3`);
    await body(kvA, kvB);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("two KV handles on one file (no shared queue) still admit exactly the limit", async () => {
  await withSharedKvFile(async (kvA, kvB) => {
    const clock = fakeClock();
    const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: "50" });
    const options = {
      user: "twin",
      name: null,
      lifetimeDays: 1,
      maxKeysPerUser: 5,
    };
    const { key } = await createKey(kvA, { ...options, now: clock.now() });
    const governances = [kvA, kvB].map((kv) => createGovernance({ config, kv, now: clock.now }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => admitted(governances[i % 2], key)),
    );
    const refused = outcomes.flatMap((o) => o.status === "rejected" ? [o.reason.status] : []);
    assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 50);
    assert.deepEqual(refused, Array(150).fill(429));
  });
});

Deno.test("another process's changes reach this process's very next decision", async () => {
  await withSharedKvFile(async (kvA, kvB) => {
    const clock = fakeClock();
    const config = loadConfig({ DEFAULT_KEY: "", RATE_LIMIT_RPM: "1000" });
    const options = { user: "pair", name: null, lifetimeDays: 1, maxKeysPerUser: 5 };
    const first = await createKey(kvA, { ...options, now: clock.now() });
    const second = await createKey(kvA, { ...options, now: clock.now() });
    const [a, b] = [kvA, kvB].map((kv) => createGovernance({ config, kv, now: clock.now }));
    // A decides a few requests of each key in a row, so what it last saw would admit the next.
    for (let i = 0; i < 3; i++) {
      await admitted(a, first.key);
      await admitted(a, second.key);
    }

    await setKeyDisabled(kvB, first.record.id, true);
    await assert.rejects(admitted(a, first.key), (e: ApiError) => e.status === 403);

    await updateUser(kvB, "pair", { changes: { rateLimitRpm: 3 }, now: clock.now(), create: true });
    const limited = await admitted(a, second.key).catch((e: ApiError) => e);
    assert.ok(limited instanceof ApiError && limited.status === 429, "the lowered limit holds");

    await updateUser(kvB, "pair", {
      changes: { rateLimitRpm: 1000, dailyTokenBudget: 500 },
      now: clock.now(),
      create: true,
    });
    await admitted(a, second.key);
    const { caller } = await admitted(b, second.key);
    await recorded(b, caller, "glm-4.5-air", usage(600));
    const spent = await admitted(a, second.key).catch((e: ApiError) => e);
    assert.ok(spent instanceof ApiError && spent.status === 429, "B's usage spends A's budget");
  });
});

Deno.test("rate-limit headers count down, 429 says when to retry, a new window admits again", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({
    env: { RATE_LIMIT_RPM: "2" },
    now: clock.now,
  });
  const { key } = await createTestKey(gw.url, "erin");
  const first = await hit(gw.url, key);
  assert.equal(first.headers.get("x-ratelimit-limit-requests"), "2");
  assert.equal(first.headers.get("x-ratelimit-remaining-requests"), "1");
  assert.equal(first.headers.get("x-ratelimit-reset-requests"), "50s");
  clock.advance(20_000);
  const second = await hit(gw.url, key);
  assert.equal(second.headers.get("x-ratelimit-remaining-requests"), "0");
  assert.equal(second.headers.get("x-ratelimit-reset-requests"), "30s");
  const third = await fetch(`${gw.url}/v1/models`, {
    headers: { "x-api-key": key },
  });
  assert.equal(third.status, 429);
  assert.equal(third.headers.get("retry-after"), "30");
  assert.equal(third.headers.get("x-ratelimit-limit-requests"), "2");
  const body = await third.json();
  assert.equal(body.error.type, "rate_limit_error");
  assert.match(body.error.message, /Rate limit of 2 requests per minute/);
  clock.advance(30_000);
  const next = await hit(gw.url, key);
  assert.equal(next.status, 200);
  assert.equal(next.headers.get("x-ratelimit-remaining-requests"), "1");
  assert.equal(next.headers.get("x-ratelimit-reset-requests"), "60s");
});

Deno.test("the daily budget counts weighted tokens per model, refuses once spent, renews at 00:00 UTC", async () => {
  const clock = fakeClock(Date.UTC(2026, 0, 15, 23, 0, 0));
  await using kv = await Deno.openKv(":memory:");
  const config = loadConfig({ DEFAULT_KEY: "", DAILY_TOKEN_BUDGET: "1000" });
  const governance = createGovernance({ config, kv, now: clock.now });
  const { key } = await createKey(kv, {
    user: "frank",
    name: null,
    lifetimeDays: 90,
    maxKeysPerUser: 5,
    now: clock.now(),
  });
  const { caller } = await admitted(governance, key);
  await recorded(governance, caller, "glm-4.5", usage(300, 100)); // 2x: 800
  await admitted(governance, key);
  await recorded(governance, caller, "glm-4.7-flash", usage(600, 400)); // 0.1x: 100
  await admitted(governance, key);
  await recorded(governance, caller, "some-new-model", usage(30, 20)); // unknown, 2x: 100
  const refused = await admitted(governance, key).then(
    () => null,
    (e: ApiError) => e,
  );
  assert.ok(refused instanceof ApiError);
  assert.equal(refused.status, 429);
  assert.equal(refused.kind, "quota");
  assert.equal(refused.retryAfter, 3600);
  assert.equal(refused.headers["x-ratelimit-limit-requests"], "120");
  assert.match(
    refused.message,
    /Daily token budget of 1000 weighted tokens is spent/,
  );
  const rows = await listUsage(kv, {
    user: "frank",
    days: 1,
    now: clock.now(),
  });
  assert.deepEqual(rows.map((r) => [r.model, r.requests, r.weighted_tokens]), [
    ["glm-4.5", 1, 800],
    ["glm-4.7-flash", 1, 100],
    ["some-new-model", 1, 100],
  ]);
  clock.advance(3600_000);
  const described = await governance.describe(caller);
  assert.deepEqual(described.remaining, {
    requests: 120,
    requests_reset_seconds: 60,
    daily_tokens: 1000,
    daily_tokens_reset_seconds: 86_400,
  });
  await admitted(governance, key);
});

Deno.test("a user's budget override replaces the server's; 0 means unlimited", async () => {
  const clock = fakeClock();
  await using kv = await Deno.openKv(":memory:");
  const config = loadConfig({ DEFAULT_KEY: "", DAILY_TOKEN_BUDGET: "10" });
  const governance = createGovernance({ config, kv, now: clock.now });
  const options = {
    user: "gina",
    name: null,
    lifetimeDays: 9,
    maxKeysPerUser: 5,
  };
  const { key } = await createKey(kv, { ...options, now: clock.now() });
  const { caller } = await admitted(governance, key);
  await recorded(governance, caller, "glm-4.5-air", usage(10)); // 1x: 10
  await assert.rejects(
    admitted(governance, key),
    (e: ApiError) => e.status === 429,
  );
  const now = clock.now();
  await updateUser(kv, "gina", {
    changes: { dailyTokenBudget: 0 },
    now,
    create: false,
  });
  await admitted(governance, key);
  await updateUser(kv, "gina", {
    changes: { dailyTokenBudget: 11 },
    now,
    create: false,
  });
  await admitted(governance, key);
  await recorded(governance, caller, "glm-4.5-air", usage(1));
  await assert.rejects(
    admitted(governance, key),
    (e: ApiError) => e.status === 429,
  );
});

Deno.test("record() loses nothing under 100 concurrent settlements", async () => {
  const clock = fakeClock();
  await using kv = await Deno.openKv(":memory:");
  const governance = createGovernance({
    config: loadConfig({}),
    kv,
    now: clock.now,
  });
  const caller: Caller = { keyId: "k", user: "hank" };
  for (let i = 0; i < 100; i++) governance.record(caller, "glm-5", usage(i, 1));
  await governance.settled();
  const [row] = await listUsage(kv, {
    user: "hank",
    days: 1,
    now: clock.now(),
  });
  assert.deepEqual(row, {
    date: "2026-01-15",
    user: "hank",
    model: "glm-5",
    requests: 100,
    prompt_tokens: 4950,
    completion_tokens: 100,
    weighted_tokens: 3 * 5050,
  });
});

Deno.test("a KV failure is a 503 from admit and describe, and record() does not throw", async () => {
  const kv = await Deno.openKv(":memory:");
  const logs: string[] = [];
  const config = loadConfig({ DEFAULT_KEY: "sk-default-kv-failure" });
  const governance = createGovernance({
    config,
    kv,
    now: Date.now,
    log: (l) => logs.push(l),
  });
  const caller = (await admitted(governance, "sk-default-kv-failure")).caller;
  kv.close();
  const failed = await governance.admit("sk-default-kv-failure");
  assert.equal(failed.startEarly, true, "the last decision admitted the key");
  await assert.rejects(failed.decision, (e: ApiError) => e.status === 503);
  const next = await governance.admit("sk-default-kv-failure");
  assert.equal(
    next.startEarly,
    false,
    "after a failed decision, requests wait for the next one",
  );
  await assert.rejects(next.decision, (e: ApiError) => e.status === 503);
  for (
    const attempt of [
      () => admitted(governance, "sk-default-kv-failure"),
      () => governance.describe(caller),
    ]
  ) {
    await assert.rejects(attempt, (e: ApiError) => {
      assert.equal(e.status, 503);
      assert.equal(e.kind, "unavailable");
      assert.match(e.message, /key store \(Deno KV\) is unavailable/);
      return true;
    });
  }
  await recorded(governance, caller, "glm-4.5", usage(5, 5));
  assert.equal(logs.length, 1);
  assert.match(logs[0], /Cannot record usage in KV/);
  assert.doesNotMatch(logs[0], /sk-default/);
});

Deno.test("record() retries failed commits and counts the usage exactly once", async () => {
  await using kv = await Deno.openKv(":memory:");
  const failures = [
    new TypeError("database is locked"),
    new TypeError("database is locked"),
  ];
  failures.push(new Error("disk I/O error"), new Error("disk I/O error"));
  const flaky = new Proxy(kv, {
    get(target, property) {
      if (property !== "atomic") {
        return Reflect.get(target, property).bind(target);
      }
      return () => {
        const op = target.atomic();
        const commit = op.commit.bind(op);
        op.commit = () => failures.length ? Promise.reject(failures.shift()) : commit();
        return op;
      };
    },
  });
  const clock = fakeClock();
  const governance = createGovernance({
    config: loadConfig({}),
    kv: flaky,
    now: clock.now,
  });
  await recorded(
    governance,
    { keyId: "k", user: "ivan" },
    "glm-4.5-air",
    usage(7, 3),
  );
  assert.equal(failures.length, 0);
  const rows = await listUsage(kv, { user: "ivan", days: 1, now: clock.now() });
  assert.deepEqual(rows.map((r) => [r.requests, r.weighted_tokens]), [[1, 10]]);
});

Deno.test("200 concurrent records, grouped into few commits, count every token exactly once", async () => {
  await using kv = await Deno.openKv(":memory:");
  const clock = fakeClock();
  const governance = createGovernance({
    config: loadConfig({}),
    kv,
    now: clock.now,
  });
  const caller = { keyId: "k", user: "judy" };
  for (let i = 0; i < 200; i++) {
    governance.record(
      caller,
      i % 2 ? "glm-4.6" : "glm-4.5-flash",
      usage(10, 5),
    );
  }
  await governance.settled();
  const rows = await listUsage(kv, { user: "judy", days: 1, now: clock.now() });
  const byModel = Object.fromEntries(
    rows.map((
      r,
    ) => [r.model, [r.requests, r.prompt_tokens, r.weighted_tokens]]),
  );
  assert.deepEqual(byModel, {
    "glm-4.6": [100, 1000, 3000],
    "glm-4.5-flash": [100, 1000, 150],
  });
});
