import assert from "node:assert/strict";
import { admin, createTestKey, fakeClock, startKvGateway } from "../support/kv_server.ts";

const TOKENS = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, estimated: false };

async function status(url: string, key: string): Promise<number> {
  const response = await fetch(url, { headers: { "x-api-key": key } });
  await response.body?.cancel();
  return response.status;
}

Deno.test("without ADMIN_KEY every /admin path is 404", async () => {
  await using gw = await startKvGateway({ env: { ADMIN_KEY: "" } });
  for (const path of ["/admin", "/admin/keys", "/admin/users/alice", "/admin/nope"]) {
    const { status, body } = await admin(gw.url, path, { key: "" });
    assert.equal(status, 404, path);
    assert.equal((body.error as Record<string, unknown>).type, "not_found_error");
  }
});

Deno.test("admin routes need the admin key as a bearer token", async () => {
  await using gw = await startKvGateway();
  const none = await fetch(`${gw.url}/admin/keys`);
  assert.equal(none.status, 401);
  assert.match((await none.json()).error.message, /Missing admin key/);
  const wrong = await admin(gw.url, "/admin/keys", { key: "test-admin-key-7f3b" });
  assert.equal(wrong.status, 401);
  assert.match(JSON.stringify(wrong.body), /Invalid admin key/);
  assert.equal((await admin(gw.url, "/admin/nope")).status, 404);
});

Deno.test("key lifecycle: create, use, list, disable, enable, revoke", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({ now: clock.now });
  const models = `${gw.url}/v1/models`;
  const created = await admin(gw.url, "/admin/keys", {
    body: { user: "alice", name: "laptop", lifetime_days: 7 },
  });
  assert.equal(created.status, 201);
  const { id, key } = created.body as { id: string; key: string };
  assert.deepEqual(created.body, {
    id,
    key,
    user: "alice",
    name: "laptop",
    created_at: "2026-01-15T12:00:10.000Z",
    expires_at: "2026-01-22T12:00:10.000Z",
  });
  assert.equal(await status(models, key), 200);

  const list = await admin(gw.url, "/admin/keys?user=alice");
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data, [{
    id,
    user: "alice",
    name: "laptop",
    prefix: key.slice(0, 7),
    last4: key.slice(-4),
    created_at: "2026-01-15T12:00:10.000Z",
    expires_at: "2026-01-22T12:00:10.000Z",
    disabled: false,
    last_used_at: "2026-01-15T12:00:10.000Z",
  }]);
  assert.ok(!JSON.stringify(list.body).includes(key));
  assert.equal(((await admin(gw.url, "/admin/keys")).body.data as unknown[]).length, 1);

  const disabled = await admin(gw.url, `/admin/keys/${id}`, {
    method: "PATCH",
    body: { disabled: true },
  });
  assert.deepEqual([disabled.status, disabled.body.disabled], [200, true]);
  assert.equal(await status(models, key), 403);
  await admin(gw.url, `/admin/keys/${id}`, { method: "PATCH", body: { disabled: false } });
  assert.equal(await status(models, key), 200);
  assert.equal((await admin(gw.url, `/admin/keys/${id}`)).body.disabled, false);

  const revoked = await fetch(`${gw.url}/admin/keys/${id}`, {
    method: "DELETE",
    headers: { authorization: "Bearer test-admin-key-7f3a" },
  });
  assert.equal(revoked.status, 204);
  assert.equal(await revoked.text(), "");
  assert.equal(await status(models, key), 401);
  assert.deepEqual((await admin(gw.url, "/admin/keys?user=alice")).body.data, []);
  assert.equal((await admin(gw.url, `/admin/keys/${id}`, { method: "DELETE" })).status, 404);
});

Deno.test("lists are in creation order and show each key's own last use", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({ now: clock.now });
  const created: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { id, key } = await createTestKey(gw.url, "ivy");
    created.push(id);
    clock.advance(1000);
    if (i % 2 === 0) assert.equal(await status(`${gw.url}/v1/models`, key), 200);
    clock.advance(1000);
  }
  const { data } = (await admin(gw.url, "/admin/keys?user=ivy")).body as {
    data: { id: string; created_at: string; last_used_at: string | null }[];
  };
  assert.deepEqual(data.map((k) => k.id), created);
  data.forEach((k, i) => {
    const used = i % 2 === 0 ? new Date(Date.parse(k.created_at) + 1000).toISOString() : null;
    assert.equal(k.last_used_at, used, k.id);
  });
});

Deno.test("bad admin input gets 400 naming the field; unknown ids 404; wrong methods 405", async () => {
  await using gw = await startKvGateway();
  const { id } = await createTestKey(gw.url, "alice");
  const cases: [string, string, unknown, string][] = [
    ["POST", "/admin/keys", {}, "user"],
    ["POST", "/admin/keys", { user: "no spaces" }, "user"],
    ["POST", "/admin/keys", { user: "bob", lifetime_days: 0 }, "lifetime_days"],
    ["POST", "/admin/keys", { user: "bob", lifetime_days: "9" }, "lifetime_days"],
    ["POST", "/admin/keys", { user: "bob", name: 3 }, "name"],
    ["POST", "/admin/keys", { user: "bob", colour: "red" }, "colour"],
    ["PATCH", `/admin/keys/${id}`, { disabled: "yes" }, "disabled"],
    ["PATCH", `/admin/keys/${id}`, {}, "disabled"],
    ["PATCH", "/admin/users/alice", { rate_limit_rpm: 0 }, "rate_limit_rpm"],
    ["PATCH", "/admin/users/alice", { daily_token_budget: -1 }, "daily_token_budget"],
    ["GET", "/admin/usage?days=0", undefined, "days"],
    ["GET", "/admin/keys?user=a%2Fb", undefined, "user"],
  ];
  for (const [method, path, body, param] of cases) {
    const response = await admin(gw.url, path, { method, body });
    assert.equal(response.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.param, param);
    assert.match(String(error.message), new RegExp(param));
  }
  const badJson = await admin(gw.url, "/admin/keys", { body: "{nope" });
  assert.equal(badJson.status, 400);
  assert.match(JSON.stringify(badJson.body), /Cannot parse request body/);

  for (const [method, path] of [["GET", "/admin/keys/key_nope"], ["DELETE", "/admin/keys/x"]]) {
    assert.equal((await admin(gw.url, path, { method })).status, 404, path);
  }
  const unknownUser = await admin(gw.url, "/admin/users/nobody");
  assert.equal(unknownUser.status, 404);
  assert.match(JSON.stringify(unknownUser.body), /Unknown user nobody/);
  const patchUnknown = await admin(gw.url, "/admin/users/nobody", {
    method: "PATCH",
    body: { disabled: true },
  });
  assert.equal(patchUnknown.status, 404);
  assert.equal((await admin(gw.url, "/admin/keys?user=nobody")).status, 404);
  assert.equal((await admin(gw.url, "/admin/usage?user=nobody")).status, 404);

  const wrong = await admin(gw.url, "/admin/keys", { method: "PUT", body: {} });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, POST");
  assert.equal((await admin(gw.url, "/admin/usage", { method: "POST", body: {} })).status, 405);
});

Deno.test("the per-user key cap holds when 20 creations race (cap 5)", async () => {
  await using gw = await startKvGateway({ env: { MAX_KEYS_PER_USER: "5" } });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => admin(gw.url, "/admin/keys", { body: { user: "racer" } })),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(5).fill(201), ...Array(15).fill(409)]);
  const refused = results.find((r) => r.status === 409)!;
  assert.match(JSON.stringify(refused.body), /already holds 5 active keys/);
  const listed = (await admin(gw.url, "/admin/keys?user=racer")).body.data as { id: string }[];
  assert.equal(listed.length, 5);
  assert.equal((await admin(gw.url, "/admin/users/racer")).body.active_keys, 5);

  await admin(gw.url, `/admin/keys/${listed[0].id}`, { method: "DELETE" });
  assert.equal((await admin(gw.url, "/admin/keys", { body: { user: "racer" } })).status, 201);
  assert.equal((await admin(gw.url, "/admin/keys", { body: { user: "racer" } })).status, 409);
});

Deno.test("per-user overrides show in GET /admin/users and apply to the user's keys", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({ env: { RATE_LIMIT_RPM: "100" }, now: clock.now });
  const { key } = await createTestKey(gw.url, "dave");
  const before = await admin(gw.url, "/admin/users/dave");
  assert.deepEqual(before.body, {
    user: "dave",
    disabled: false,
    rate_limit_rpm: null,
    daily_token_budget: null,
    limits: { rate_limit_rpm: 100, daily_token_budget: 0 },
    active_keys: 1,
    created_at: "2026-01-15T12:00:10.000Z",
  });
  const patched = await admin(gw.url, "/admin/users/dave", {
    method: "PATCH",
    body: { rate_limit_rpm: 1, daily_token_budget: 500 },
  });
  assert.deepEqual(patched.body.limits, { rate_limit_rpm: 1, daily_token_budget: 500 });
  const first = await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": key } });
  await first.body?.cancel();
  assert.equal(first.headers.get("x-ratelimit-limit-requests"), "1");
  assert.equal(await status(`${gw.url}/v1/models`, key), 429);
  const reset = await admin(gw.url, "/admin/users/dave", {
    method: "PATCH",
    body: { rate_limit_rpm: null },
  });
  assert.deepEqual(reset.body.limits, { rate_limit_rpm: 100, daily_token_budget: 500 });
  assert.equal(await status(`${gw.url}/v1/models`, key), 200);
});

Deno.test("GET /admin/usage lists per day and model: requests, tokens, weighted tokens", async () => {
  const clock = fakeClock();
  await using gw = await startKvGateway({ now: clock.now });
  const alice = { keyId: "k1", user: "alice" };
  await createTestKey(gw.url, "alice");
  await createTestKey(gw.url, "bob");
  await gw.governance.record(alice, "glm-4.5", {
    ...TOKENS,
    promptTokens: 10,
    completionTokens: 5,
  });
  clock.advance(86_400_000);
  await gw.governance.record(alice, "GLM-4.5", { ...TOKENS, promptTokens: 1, completionTokens: 1 });
  await gw.governance.record(alice, "glm-4.5", { ...TOKENS, promptTokens: 2, completionTokens: 2 });
  await gw.governance.record(alice, "glm-4.7-flash", { ...TOKENS, promptTokens: 15 });
  await gw.governance.record({ keyId: "k2", user: "bob" }, "x", { ...TOKENS, promptTokens: 1 });
  const usage = await admin(gw.url, "/admin/usage?user=alice&days=2");
  assert.equal(usage.status, 200);
  assert.deepEqual(usage.body.data, [
    row("2026-01-15", "glm-4.5", 1, 10, 5, 30),
    row("2026-01-16", "glm-4.5", 2, 3, 3, 12),
    row("2026-01-16", "glm-4.7-flash", 1, 15, 0, 1.5),
  ]);
  const today = await admin(gw.url, "/admin/usage?days=1");
  assert.deepEqual((today.body.data as { user: string }[]).map((r) => r.user), [
    "alice",
    "alice",
    "bob",
  ]);
});

function row(date: string, model: string, requests: number, p: number, c: number, w: number) {
  return {
    date,
    user: "alice",
    model,
    requests,
    prompt_tokens: p,
    completion_tokens: c,
    weighted_tokens: w,
  };
}
