/** The console's page and API through real HTTP: /admin, /admin/users, /admin/usage, /admin/requests, /v1/key?days. */

import assert from "node:assert/strict";
import { fakeClock } from "../support/kv_server.ts";
import { TEST_KEY } from "../support/gateway.ts";
import {
  adminCall,
  chatAs,
  CONSOLE_ADMIN_KEY,
  createKeyFor,
  startConsoleGateway,
} from "../support/console_fixture.ts";

const DAY_MS = 86_400_000;

Deno.test("GET /admin serves the page to anyone while ADMIN_KEY is set; it holds no data", async () => {
  await using gw = await startConsoleGateway();
  await createKeyFor(gw, "zelda-the-user");
  for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
    const response = await gw.fetch(`${gw.url}/admin`, { headers });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/html/);
    const csp = response.headers.get("content-security-policy")!;
    const nonce = csp.match(/script-src 'nonce-([^']+)'/)![1];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const html = await response.text();
    assert.ok(html.includes(`<script nonce="${nonce}">`));
    assert.ok(!html.includes("zelda-the-user"), "no user appears in the page");
    assert.ok(!html.includes(CONSOLE_ADMIN_KEY) && !html.includes(TEST_KEY), "no key either");
    assert.ok(!/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/.test(html));
  }
  const slash = await gw.fetch(`${gw.url}/admin/`);
  assert.equal(slash.status, 200);
  await slash.body?.cancel();
  const head = await gw.fetch(`${gw.url}/admin`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const two = await Promise.all([1, 2].map(() => gw.fetch(`${gw.url}/admin`)));
  const nonces = two.map((r) => r.headers.get("content-security-policy"));
  await Promise.all(two.map((r) => r.body?.cancel()));
  assert.notEqual(nonces[0], nonces[1], "a fresh nonce per response");
});

Deno.test("GET /admin/users: every user with keys count, overrides, limits and today's usage", async () => {
  const clock = fakeClock();
  await using gw = await startConsoleGateway({
    env: { RATE_LIMIT_RPM: "90", DAILY_TOKEN_BUDGET: "1000" },
    now: clock.now,
  });
  assert.equal((await adminCall(gw, "/admin/users", { key: "nope" })).status, 401);
  const alice = await createKeyFor(gw, "alice");
  await createKeyFor(gw, "alice");
  const gone = await createKeyFor(gw, "bob");
  await adminCall(gw, `/admin/keys/${gone.id}`, { method: "DELETE" });
  await adminCall(gw, "/admin/keys", { body: { user: "carol", lifetime_days: 1 } });
  await adminCall(gw, "/admin/users/bob", {
    method: "PATCH",
    body: { disabled: true, daily_token_budget: 0 },
  });
  assert.equal(
    await chatAs(gw, alice.key, {
      model: "glm-4.5",
      usage: { prompt_tokens: 100, completion_tokens: 50 },
    }),
    200,
  );
  clock.advance(DAY_MS); // yesterday's usage is not today's; carol's one-day key has expired
  assert.equal(
    await chatAs(gw, alice.key, {
      model: "glm-4.7-flash",
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    }),
    200,
  );
  assert.equal(
    await chatAs(gw, TEST_KEY, {
      model: "glm-5",
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    }),
    200,
  );

  const { status, body } = await adminCall(gw, "/admin/users");
  assert.equal(status, 200);
  assert.equal(body.date, "2026-01-16");
  assert.deepEqual(body.defaults, { rate_limit_rpm: 90, daily_token_budget: 1000 });
  const byName = Object.fromEntries(
    body.data.map((u: { user: string }) => [u.user, u]),
  );
  assert.deepEqual(body.data.map((u: { user: string }) => u.user), [
    "alice",
    "bob",
    "carol",
    "default",
  ]);
  assert.deepEqual(byName.alice, {
    user: "alice",
    disabled: false,
    rate_limit_rpm: null,
    daily_token_budget: null,
    limits: { rate_limit_rpm: 90, daily_token_budget: 1000 },
    active_keys: 2,
    created_at: "2026-01-15T12:00:10.000Z",
    usage_today: { requests: 1, prompt_tokens: 10, completion_tokens: 5, weighted_tokens: 1.5 },
  });
  assert.equal(byName.bob.disabled, true);
  assert.equal(byName.bob.daily_token_budget, 0, "an override of 0 (no budget) is kept apart");
  assert.deepEqual(byName.bob.limits, { rate_limit_rpm: 90, daily_token_budget: 0 });
  assert.equal(byName.bob.active_keys, 0, "a revoked key is not counted");
  assert.equal(byName.carol.active_keys, 0, "an expired key is not counted");
  assert.deepEqual(byName.default.usage_today, {
    requests: 1,
    prompt_tokens: 1,
    completion_tokens: 1,
    weighted_tokens: 6,
  });
});

Deno.test("GET /admin/usage without user: per day, user and model; group_by model or user", async () => {
  const clock = fakeClock();
  await using gw = await startConsoleGateway({ now: clock.now });
  const alice = await createKeyFor(gw, "alice");
  const bob = await createKeyFor(gw, "bob");
  const usage = { prompt_tokens: 10, completion_tokens: 10 };
  await chatAs(gw, alice.key, { model: "glm-4.5", usage });
  clock.advance(DAY_MS);
  await chatAs(gw, alice.key, { model: "glm-4.5", usage });
  await chatAs(gw, bob.key, { model: "glm-4.5", usage });
  await chatAs(gw, bob.key, { model: "glm-4.7-flash", usage });

  const all = await adminCall(gw, "/admin/usage?days=2");
  assert.equal(all.status, 200);
  assert.equal(all.body.date, "2026-01-16");
  assert.equal(all.body.group_by, null);
  assert.equal(all.body.data.length, 4);
  const byModel = await adminCall(gw, "/admin/usage?days=2&group_by=model");
  assert.deepEqual(byModel.body.data, [
    {
      date: "2026-01-15",
      model: "glm-4.5",
      requests: 1,
      prompt_tokens: 10,
      completion_tokens: 10,
      weighted_tokens: 40,
    },
    {
      date: "2026-01-16",
      model: "glm-4.5",
      requests: 2,
      prompt_tokens: 20,
      completion_tokens: 20,
      weighted_tokens: 80,
    },
    {
      date: "2026-01-16",
      model: "glm-4.7-flash",
      requests: 1,
      prompt_tokens: 10,
      completion_tokens: 10,
      weighted_tokens: 2,
    },
  ]);
  const byUser = await adminCall(gw, "/admin/usage?days=1&group_by=user");
  assert.deepEqual(
    byUser.body.data.map((r: Record<string, unknown>) => [r.user, r.requests, r.weighted_tokens]),
    [["alice", 1, 40], ["bob", 2, 42]],
  );
  const oneUser = await adminCall(gw, "/admin/usage?days=2&user=alice&group_by=model");
  assert.deepEqual(oneUser.body.data.map((r: { requests: number }) => r.requests), [1, 1]);

  for (
    const [query, param] of [
      ["days=0", "days"],
      ["days=367", "days"],
      ["days=ten", "days"],
      ["group_by=key", "group_by"],
    ]
  ) {
    const bad = await adminCall(gw, `/admin/usage?${query}`);
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.error.param, param);
    assert.match(bad.body.error.message, new RegExp(param));
  }
  const unknown = await adminCall(gw, "/admin/usage?user=nobody");
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error.message, /Unknown user nobody/);
});

Deno.test("GET /admin/requests: this instance's client requests, newest first, filtered", async () => {
  await using gw = await startConsoleGateway();
  const alice = await createKeyFor(gw, "alice");
  const secret = "the secret prompt words";
  await chatAs(gw, alice.key, {
    model: "glm-4.5",
    usage: { prompt_tokens: 120, completion_tokens: 30 },
    content: secret,
  });
  await chatAs(gw, TEST_KEY, {
    model: "glm-4.7-flash",
    usage: { prompt_tokens: 7, completion_tokens: 3 },
    stream: true,
  });
  const refused = await gw.fetch(`${gw.url}/v1/models`, {
    headers: { authorization: "Bearer sk-unknown-key-000000000000000000" },
  });
  await refused.body?.cancel();
  await adminCall(gw, "/admin/users"); // admin calls and pages are not client requests
  await gw.fetch(`${gw.url}/`).then((r) => r.body?.cancel());

  // The streamed request joins the ring when its stream has ended on the server.
  let list = await adminCall(gw, "/admin/requests");
  for (let i = 0; i < 100 && list.body.data.length < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    list = await adminCall(gw, "/admin/requests");
  }
  assert.equal(list.status, 200);
  assert.equal(list.body.capacity, 1000);
  const rows = list.body.data;
  assert.deepEqual(
    rows.map((r: Record<string, unknown>) => [r.method, r.path, r.status, r.user]),
    [
      ["GET", "/v1/models", 401, null],
      ["POST", "/v1/chat/completions", 200, "default"],
      ["POST", "/v1/chat/completions", 200, "alice"],
    ],
  );
  const [unknownKey, streamed, first] = rows;
  assert.equal(first.key_id, alice.id);
  assert.equal(first.model, "glm-4.5");
  assert.equal(first.prompt_tokens, 120);
  assert.equal(first.completion_tokens, 30);
  assert.match(first.upstream_request_id, /^\d{14}[0-9a-f]{16}$/);
  assert.equal(typeof first.duration_ms, "number");
  assert.ok(!Number.isNaN(Date.parse(first.time)));
  assert.equal(first.error, null);
  assert.deepEqual(
    [streamed.key_id, streamed.prompt_tokens, streamed.completion_tokens],
    ["default", 7, 3],
  );
  assert.equal(unknownKey.key_id, null);
  assert.match(unknownKey.error, /Unknown API key/);
  const text = JSON.stringify(list.body);
  for (const leak of [alice.key, TEST_KEY, secret, "sk-unknown-key"]) {
    assert.ok(!text.includes(leak), `${leak} is not in the list`);
  }
  assert.equal(list.body.today.requests, 3);
  assert.equal(list.body.today.client_errors, 1);
  assert.equal(list.body.today.server_errors, 0);

  const only = async (query: string) =>
    (await adminCall(gw, `/admin/requests?${query}`)).body.data.map((r: { status: number }) =>
      r.status
    );
  assert.deepEqual(await only("limit=1"), [401]);
  assert.deepEqual(await only("user=alice"), [200]);
  assert.deepEqual(await only("status=4xx"), [401]);
  assert.deepEqual(await only("status=error"), [401]);
  assert.deepEqual(await only("status=200"), [200, 200]);
  assert.deepEqual(await only("status=5xx"), []);

  for (
    const [query, param] of [
      ["limit=ten", "limit"],
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["status=bad", "status"],
      ["status=600", "status"],
      ["user=a%2Fb", "user"],
    ]
  ) {
    const bad = await adminCall(gw, `/admin/requests?${query}`);
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.error.param, param, query);
    assert.match(bad.body.error.message, new RegExp(param));
  }
  assert.equal((await adminCall(gw, "/admin/requests?user=nobody")).status, 404);
  assert.equal((await adminCall(gw, "/admin/requests", { key: "wrong" })).status, 401);
  assert.equal((await adminCall(gw, "/admin/requests", { method: "POST", body: {} })).status, 405);
});

Deno.test("a request's log line carries its key id and tokens, never the key", async () => {
  await using gw = await startConsoleGateway();
  const alice = await createKeyFor(gw, "alice");
  await chatAs(gw, alice.key, {
    model: "glm-4.5",
    usage: { prompt_tokens: 11, completion_tokens: 4 },
  });
  const line = gw.logs.map((l) => JSON.parse(l)).find((l) => l.path === "/v1/chat/completions");
  assert.deepEqual(
    [line.user, line.keyId, line.promptTokens, line.completionTokens],
    ["alice", alice.id, 11, 4],
  );
  assert.ok(!gw.logs.join("\n").includes(alice.key));
});

Deno.test("GET /v1/key?days=N adds the user's last N days, zero-filled, by model", async () => {
  const clock = fakeClock();
  await using gw = await startConsoleGateway({ now: clock.now });
  const alice = await createKeyFor(gw, "alice");
  const usage = { prompt_tokens: 5, completion_tokens: 5 };
  await chatAs(gw, alice.key, { model: "glm-4.5", usage });
  clock.advance(2 * DAY_MS);
  await chatAs(gw, alice.key, { model: "glm-4.5", usage });
  await chatAs(gw, alice.key, { model: "glm-5", usage });
  await chatAs(gw, TEST_KEY, { model: "glm-5", usage }); // another user's usage stays out

  const key = async (query: string) => {
    const response = await gw.fetch(`${gw.url}/v1/key${query}`, {
      headers: { authorization: `Bearer ${alice.key}` },
    });
    return { status: response.status, body: await response.json() };
  };
  const plain = await key("");
  assert.equal(plain.status, 200);
  assert.equal(plain.body.daily, undefined, "without days, the response is as before");
  const { status, body } = await key("?days=30");
  assert.equal(status, 200);
  assert.equal(body.user, "alice");
  assert.equal(body.daily.length, 30);
  assert.equal(body.daily[0].date, "2025-12-19");
  assert.equal(body.daily.at(-1).date, "2026-01-17");
  const used = body.daily.filter((d: { requests: number }) => d.requests > 0);
  assert.deepEqual(used, [
    {
      date: "2026-01-15",
      requests: 1,
      prompt_tokens: 5,
      completion_tokens: 5,
      weighted_tokens: 20,
      models: [{
        model: "glm-4.5",
        requests: 1,
        prompt_tokens: 5,
        completion_tokens: 5,
        weighted_tokens: 20,
      }],
    },
    {
      date: "2026-01-17",
      requests: 2,
      prompt_tokens: 10,
      completion_tokens: 10,
      weighted_tokens: 50,
      models: [
        {
          model: "glm-4.5",
          requests: 1,
          prompt_tokens: 5,
          completion_tokens: 5,
          weighted_tokens: 20,
        },
        {
          model: "glm-5",
          requests: 1,
          prompt_tokens: 5,
          completion_tokens: 5,
          weighted_tokens: 30,
        },
      ],
    },
  ]);
  for (const days of ["0", "367", "x"]) {
    const bad = await key(`?days=${days}`);
    assert.equal(bad.status, 400, days);
    assert.equal(bad.body.error.param, "days");
  }
});
