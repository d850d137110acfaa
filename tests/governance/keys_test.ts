import assert from "node:assert/strict";
import {
  createKey,
  findKeyByHash,
  getKey,
  hashApiKey,
  listKeys,
  revokeKey,
  setKeyDisabled,
} from "../../lib/governance/keys.ts";
import { ApiError } from "../../lib/core/errors.ts";
import { randomBase62, secretsEqual } from "../../lib/core/crypto.ts";
import { generateApiKey } from "../../lib/governance/secrets.ts";
import { admin, createTestKey, fakeClock, startKvGateway } from "../support/kv_server.ts";

const DAY = 86_400_000;

async function call(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("a new key is sk- and 48 base62 characters, every character drawn evenly", () => {
  const keys = Array.from({ length: 1000 }, generateApiKey);
  for (const key of keys) assert.match(key, /^sk-[0-9A-Za-z]{48}$/);
  assert.equal(new Set(keys).size, keys.length);
  const counts = new Map<string, number>();
  for (const char of randomBase62(248_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
  assert.equal(counts.size, 62);
  // 4000 expected each (σ ≈ 63); a modulo bias would give the first 8 characters about 4840.
  for (const count of counts.values()) assert.ok(count > 3600 && count < 4400, `count ${count}`);
});

Deno.test("a key's handle is its SHA-256 in hex; hashes compare equal only when identical", () => {
  // FIPS 180-2's test vector for "abc".
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(hashApiKey("abc"), abc);
  assert.equal(secretsEqual(hashApiKey("abc"), abc), true);
  assert.equal(secretsEqual(hashApiKey("abd"), abc), false);
  assert.equal(secretsEqual(abc.slice(0, 63), abc), false, "a prefix is not equal");
  assert.equal(secretsEqual("", ""), true);
});

Deno.test("KV holds a key's hash, never the key; lists show prefix and last 4 only", async () => {
  await using kv = await Deno.openKv(":memory:");
  const now = Date.UTC(2026, 0, 1);
  const options = { user: "alice", name: "laptop", lifetimeDays: 30, maxKeysPerUser: 5, now };
  const { record, key } = await createKey(kv, options);
  assert.equal(record.hash, await hashApiKey(key));
  assert.equal(record.expiresAt, now + 30 * DAY);
  assert.deepEqual(await findKeyByHash(kv, record.hash), { id: record.id, user: "alice" });
  for await (const entry of kv.list({ prefix: [] })) {
    assert.ok(!JSON.stringify(entry, (_, v) => typeof v === "bigint" ? 0 : v).includes(key));
  }
  const [listed] = await listKeys(kv, "alice");
  assert.deepEqual(listed, {
    id: record.id,
    user: "alice",
    name: "laptop",
    prefix: key.slice(0, 7),
    last4: key.slice(-4),
    created_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2026-01-31T00:00:00.000Z",
    disabled: false,
    last_used_at: null,
  });
  assert.equal((await setKeyDisabled(kv, record.id, true)).disabled, true);
  await revokeKey(kv, record.id);
  assert.equal(await findKeyByHash(kv, record.hash), null);
  assert.deepEqual(await listKeys(kv, "alice"), []);
  await assert.rejects(getKey(kv, record.id), (e: ApiError) => e.status === 404);
});

Deno.test("missing and unknown keys get 401 in the OpenAI and the Anthropic dialect", async () => {
  await using gw = await startKvGateway();
  const models = `${gw.url}/v1/models`;
  const missing = await call(models);
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error.type, "authentication_error");
  assert.match(missing.body.error.message, /Missing API key/);
  const unknown = await call(models, { authorization: "Bearer sk-not-a-real-key-at-all" });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.error.code, "invalid_api_key");
  assert.match(unknown.body.error.message, /Unknown API key/);
  assert.ok(!JSON.stringify(unknown.body).includes("sk-not-a-real"));
  const anthropic = await call(models, { "anthropic-version": "2023-06-01", "x-api-key": "sk-x" });
  assert.equal(anthropic.status, 401);
  assert.equal(anthropic.body.type, "error");
  assert.equal(anthropic.body.error.type, "authentication_error");
  assert.match(anthropic.body.error.message, /Unknown API key/);
  const noKey = await call(models, { "anthropic-version": "2023-06-01" });
  assert.deepEqual([noKey.status, noKey.body.error.type], [401, "authentication_error"]);
  for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
    const response = await fetch(gw.url + path, {
      method: "POST",
      headers: { "x-api-key": "sk-unknown", "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.json();
    assert.equal(response.status, 401, path);
    assert.deepEqual([body.type, body.error.type], ["error", "authentication_error"], path);
  }
});

Deno.test("disabled keys, expired keys and disabled users get 403 saying which", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({ now: clock.now });
  const models = `${gw.url}/v1/models`;
  const a = await createTestKey(gw.url, "alice");
  const b = await createTestKey(gw.url, "bob", { lifetime_days: 2 });
  assert.equal((await call(models, { "x-api-key": a.key })).status, 200);
  assert.equal((await call(models, { authorization: `Bearer ${b.key}` })).status, 200);

  await admin(gw.url, `/admin/keys/${a.id}`, { method: "PATCH", body: { disabled: true } });
  const disabled = await call(models, { "x-api-key": a.key });
  assert.equal(disabled.status, 403);
  assert.equal(disabled.body.error.type, "permission_error");
  assert.match(disabled.body.error.message, /API key key_\w+ is disabled/);
  const anthropic = await call(models, { "x-api-key": a.key, "anthropic-version": "2023-06-01" });
  assert.deepEqual([anthropic.status, anthropic.body.error.type], [403, "permission_error"]);
  assert.match(anthropic.body.error.message, /is disabled/);

  await admin(gw.url, "/admin/users/bob", { method: "PATCH", body: { disabled: true } });
  const user = await call(models, { "x-api-key": b.key });
  assert.equal(user.status, 403);
  assert.match(user.body.error.message, /User bob is disabled/);
  await admin(gw.url, "/admin/users/bob", { method: "PATCH", body: { disabled: false } });
  assert.equal((await call(models, { "x-api-key": b.key })).status, 200);

  clock.advance(2 * DAY);
  const expired = await call(models, { "x-api-key": b.key });
  assert.equal(expired.status, 403);
  assert.match(expired.body.error.message, /expired at 2026-01-17T12:00:10\.000Z/);
  const view = await admin(gw.url, "/admin/users/bob");
  assert.equal(view.body.active_keys, 0, "an expired key is no longer active");
});

Deno.test("DEFAULT_KEY is user default's key, limited like any other, and can be disabled", async () => {
  const clock = fakeClock();
  const env = { DEFAULT_KEY: "sk-default-test-key-abc", RATE_LIMIT_RPM: "2" };
  await using gw = await startKvGateway({ env, now: clock.now });
  const headers = { authorization: "Bearer sk-default-test-key-abc" };
  const info = await call(`${gw.url}/v1/key`, headers);
  assert.equal(info.status, 200);
  assert.equal(info.body.user, "default");
  assert.equal(info.body.expires_at, null);
  assert.equal((await call(`${gw.url}/v1/models`, headers)).status, 200);
  assert.equal((await call(`${gw.url}/v1/models`, headers)).status, 429);
  assert.equal(
    (await call(`${gw.url}/v1/models`, { authorization: "Bearer sk-default" })).status,
    401,
  );
  clock.advance(60_000);
  await admin(gw.url, "/admin/users/default", { method: "PATCH", body: { disabled: true } });
  assert.equal((await call(`${gw.url}/v1/models`, headers)).status, 403);
});

Deno.test("an empty DEFAULT_KEY accepts nothing, and there is no user default", async () => {
  await using gw = await startKvGateway({ env: { DEFAULT_KEY: "" } });
  assert.equal((await call(`${gw.url}/v1/models`, { "x-api-key": "sk-your-key" })).status, 401);
  assert.equal((await admin(gw.url, "/admin/users/default")).status, 404);
});

Deno.test("GET /v1/key describes the calling key, its limits, today's usage and what remains", async () => {
  const clock = fakeClock();
  const env = { RATE_LIMIT_RPM: "10", DAILY_TOKEN_BUDGET: "1000" };
  await using gw = await startKvGateway({ env, now: clock.now });
  const { id, key } = await createTestKey(gw.url, "carol", { name: "ci" });
  const usage = { promptTokens: 100, completionTokens: 50, cachedTokens: 0, estimated: false };
  await gw.governance.record({ keyId: id, user: "carol" }, "glm-4.5", usage);
  const info = await call(`${gw.url}/v1/key`, { "x-api-key": key });
  assert.equal(info.status, 200);
  assert.equal(info.headers.get("x-ratelimit-remaining-requests"), "9");
  assert.deepEqual(
    { ...info.body, usage_today: { ...info.body.usage_today, models: undefined } },
    {
      object: "api_key",
      id,
      user: "carol",
      name: "ci",
      created_at: "2026-01-15T12:00:10.000Z",
      expires_at: "2026-04-15T12:00:10.000Z",
      limits: { rate_limit_rpm: 10, daily_token_budget: 1000 },
      usage_today: {
        date: "2026-01-15",
        requests: 1,
        prompt_tokens: 100,
        completion_tokens: 50,
        weighted_tokens: 300,
        models: undefined,
      },
      remaining: {
        requests: 9,
        requests_reset_seconds: 50,
        daily_tokens: 700,
        daily_tokens_reset_seconds: 43_190,
      },
    },
  );
  assert.equal(info.body.usage_today.models[0].model, "glm-4.5");
});
