/** The key pool on its own: choice, learned limits, cooldowns and refusals, and what it logs. */

import assert from "node:assert/strict";
import { ApiError } from "../../lib/core/errors.ts";
import { createKeyPool, type Failure } from "../../lib/upstream/pool.ts";
import type { FailureKind } from "../../lib/upstream/retry.ts";
import { failureKind } from "../../lib/upstream/retry.ts";

function failure(kind: FailureKind, label: string, message = ""): Failure {
  const status = kind === "refused" ? 502 : 429;
  return {
    kind,
    label,
    error: new ApiError(status, "upstream", `Z.ai said ${label}`, { code: `zai_${label}` }),
    detail: `[${label}] ${message}`,
    message,
    retryAfterHeader: null,
  };
}

function pool(keys: string[], concurrency = 0) {
  let time = Date.UTC(2026, 4, 25, 10); // 18:00 in Z.ai's clock (UTC+8)
  const logs: string[] = [];
  const keyPool = createKeyPool(keys, {
    concurrency,
    now: () => time,
    log: (line) => logs.push(line),
  });
  return { keyPool, logs, advance: (ms: number) => void (time += ms) };
}

Deno.test("failure kinds: spent and refused move on, 1302 is busy, 400-class is final", () => {
  assert.equal(failureKind(429, "1308"), "spent");
  assert.equal(failureKind(429, "1113"), "spent");
  assert.equal(failureKind(429, "1311"), "final", "a model the plan lacks is not a spent key");
  assert.equal(failureKind(401, "1002"), "refused");
  assert.equal(failureKind(401, undefined), "refused");
  assert.equal(failureKind(429, "1302"), "busy");
  assert.equal(failureKind(429, "1305"), "transient");
  assert.equal(failureKind(503, "1312"), "transient");
  assert.equal(failureKind(500, "500"), "transient");
  assert.equal(failureKind(502, undefined), "transient");
  assert.equal(failureKind(undefined, undefined), "transient", "no connection");
  assert.equal(failureKind(400, "1214"), "final");
  assert.equal(failureKind(400, "1301"), "final");
  assert.equal(failureKind(429, "1303"), "final");
  assert.equal(failureKind(404, "1222"), "final");
});

Deno.test("the least busy key is picked; ties go to the least recently chosen", () => {
  const { keyPool } = pool(["key-aaaa", "key-bbbb"]);
  const [a, b] = keyPool.keys;
  assert.equal(keyPool.pick(), a);
  keyPool.take(a);
  assert.equal(keyPool.pick(), b, "fewer in flight");
  keyPool.put(a);
  assert.equal(keyPool.pick(), b, "a was chosen more recently");
  assert.equal(keyPool.pick(b), a, "a key to avoid goes last");
});

Deno.test("a 1302 holds the key to one fewer than were in flight; 20 full successes raise it", () => {
  const { keyPool, logs } = pool(["key-aaaa"]);
  const [key] = keyPool.keys;
  for (let i = 0; i < 5; i++) keyPool.take(key);
  keyPool.recordFailure(key, failure("busy", "1302"));
  keyPool.put(key);
  assert.equal(key.limit, 4);
  assert.equal(key.limitSource, "learned");
  assert.equal(keyPool.pick(), undefined, "4 in flight: full");
  assert.equal(logs.length, 1);
  assert.match(logs[0], /"limit":4/);

  keyPool.put(key);
  for (let i = 0; i < 40; i++) keyPool.recordSuccess(key);
  assert.equal(key.limit, 4, "successes with a free slot do not raise it");
  keyPool.take(key);
  for (let i = 0; i < 20; i++) keyPool.recordSuccess(key);
  assert.equal(key.limit, 5, "20 successes with every slot taken raise it by one");

  for (let i = 0; i < 4; i++) keyPool.put(key);
  keyPool.take(key);
  keyPool.recordFailure(key, failure("busy", "1302"));
  assert.equal(key.limit, 1, "never below 1");
});

Deno.test("UPSTREAM_CONCURRENCY is kept: a 1302 does not change it", () => {
  const { keyPool } = pool(["key-aaaa"], 2);
  const [key] = keyPool.keys;
  keyPool.take(key);
  keyPool.take(key);
  assert.equal(keyPool.pick(), undefined);
  keyPool.recordFailure(key, failure("busy", "1302"));
  assert.equal(key.limit, 2);
  assert.equal(keyPool.snapshot()[0].limit_source, "set");
});

Deno.test("a spent key cools down until Z.ai's reset time, or an hour; then it is back", () => {
  const { keyPool, logs, advance } = pool(["key-aaaa", "key-bbbb"]);
  const [a, b] = keyPool.keys;
  keyPool.recordFailure(
    a,
    failure(
      "spent",
      "1308",
      "Usage limit reached for 5 hour. Your limit will reset at 2026-05-25 19:30:00",
    ),
  );
  assert.equal(a.status, "cooling");
  assert.equal(new Date(a.until).toISOString(), "2026-05-25T11:30:00.000Z");
  assert.equal(keyPool.pick(), b);
  keyPool.recordFailure(b, failure("spent", "1113", "Insufficient balance"));
  assert.equal(new Date(b.until).toISOString(), "2026-05-25T11:00:00.000Z", "an hour");
  assert.equal(keyPool.anyUsable(), false);
  const error = keyPool.unavailableError();
  assert.equal(error.status, 429);
  assert.equal(error.retryAfter, 3600, "the soonest reset");
  assert.equal(error.code, "zai_1113");

  advance(3600_000);
  assert.equal(keyPool.pick(), b, "b is back first");
  assert.equal(a.status, "cooling");
  advance(1800_000);
  assert.equal(keyPool.anyUsable(), true);
  assert.equal(a.status, "healthy");
  const states = logs.map((line) => JSON.parse(line).state);
  assert.deepEqual(states, ["cooling", "cooling", "healthy", "healthy"]);
  assert.ok(logs.every((line) => !line.includes("key-aaaa") && !line.includes("key-bbbb")));
});

Deno.test("a refused key is logged once, left out, and tried again after 10 minutes", () => {
  const { keyPool, logs, advance } = pool(["secret-zzzz"]);
  const [key] = keyPool.keys;
  keyPool.recordFailure(key, failure("refused", "1002", "Authorization Token is invalid"));
  keyPool.recordFailure(key, failure("refused", "1002", "Authorization Token is invalid"));
  assert.equal(logs.length, 1, "logged once");
  const line = JSON.parse(logs[0]);
  assert.equal(line.level, "error");
  assert.equal(line.upstream_key, "…zzzz");
  assert.ok(!logs[0].includes("secret-zzzz"));
  const error = keyPool.unavailableError();
  assert.equal(error.status, 502);
  assert.match(error.message, /UPSTREAM_API_KEY/);
  assert.equal(keyPool.pick(), undefined);
  advance(10 * 60_000);
  assert.equal(keyPool.pick(), key);
  const snapshot = keyPool.snapshot()[0];
  assert.equal(snapshot.last_hour.codes["1002"], 2);
});
