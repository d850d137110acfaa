/** `GET /admin/upstream`: the key pool by last 4 characters, never a key. */

import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { admin } from "../support/kv_server.ts";
import { ask, postChat } from "../support/openai_client.ts";
import { ADMIN_KEY } from "../support/upstream_pool.ts";

const GOOD = "zai-good-secret-key-AAAA";
const REVOKED = "zai-revoked-secret-key-BBBB";

Deno.test("/admin/upstream shows each key by its last 4: state, in flight, limit, queue, last hour", async () => {
  await using gw = await startGateway({
    env: { ADMIN_KEY, UPSTREAM_API_KEY: `${GOOD},${REVOKED}`, UPSTREAM_CONCURRENCY: "3" },
    upstream: { keys: [GOOD] },
  });
  for (let i = 0; i < 3; i++) {
    assert.equal((await postChat(gw, { model: "glm-4.6", messages: ask("hi") })).status, 200);
  }
  const response = await fetch(`${gw.url}/admin/upstream`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(!text.includes(GOOD) && !text.includes(REVOKED), "no key in the answer");
  assert.ok(!text.includes("secret"), "no part of a key beyond its last 4");
  const { object, data } = JSON.parse(text);
  assert.equal(object, "list");
  assert.equal(data.length, 1);
  assert.equal(data[0].url, gw.upstream.url);
  assert.equal(data[0].queued, 0);
  const [good, revoked] = data[0].keys;
  assert.deepEqual(good, {
    last4: "AAAA",
    position: 1,
    state: "healthy",
    until: null,
    reason: null,
    in_flight: 0,
    limit: 3,
    limit_source: "set",
    last_hour: { successes: 3, codes: {} },
  });
  assert.equal(revoked.last4, "BBBB");
  assert.equal(revoked.state, "refused");
  assert.ok(Date.parse(revoked.until) > Date.now(), "when it is tried again");
  assert.match(revoked.reason, /1002/);
  assert.deepEqual(revoked.last_hour, { successes: 0, codes: { "1002": 1 } });
});

Deno.test("/admin/upstream needs the admin key; unlimited keys show limit null", async () => {
  await using gw = await startGateway({ env: { ADMIN_KEY } });
  assert.equal((await admin(gw.url, "/admin/upstream", { key: "wrong" })).status, 401);
  const { status, body } = await admin(gw.url, "/admin/upstream");
  assert.equal(status, 200);
  // deno-lint-ignore no-explicit-any
  const [key] = (body.data as any)[0].keys;
  assert.equal(key.limit, null);
  assert.equal(key.limit_source, "unlimited");
  assert.equal(key.state, "healthy");
});
