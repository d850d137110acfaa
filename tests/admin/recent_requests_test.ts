import assert from "node:assert/strict";
import {
  type RecentRequest,
  RecentRequests,
  statusMatcher,
} from "../../lib/admin/recent_requests.ts";
import type { RequestLog } from "../../lib/core/log.ts";

const NOON = Date.UTC(2026, 0, 15, 12);

function entry(status: number, extra: Partial<RequestLog> = {}): RequestLog {
  return { method: "POST", path: "/v1/chat/completions", status, durationMs: 1, ...extra };
}

Deno.test("the ring keeps the newest entries up to its capacity, newest first", () => {
  const ring = new RecentRequests({ capacity: 3, now: NOON });
  assert.deepEqual(ring.list(10), []);
  for (let i = 1; i <= 5; i++) ring.add(entry(200, { model: `m${i}` }), NOON + i);
  assert.deepEqual(ring.list(10).map((r) => r.model), ["m5", "m4", "m3"]);
  assert.deepEqual(ring.list(2).map((r) => r.model), ["m5", "m4"]);
  assert.deepEqual(ring.list(10, (r) => r.model !== "m4").map((r) => r.model), ["m5", "m3"]);
  assert.equal(ring.list(1)[0].time, new Date(NOON + 5).toISOString());
});

Deno.test("today's counts by outcome start again on a new UTC day", () => {
  const ring = new RecentRequests({ now: NOON });
  ring.add(entry(200), NOON);
  ring.add(entry(200, { error: "Client disconnected before the end" }), NOON);
  ring.add(entry(429), NOON);
  ring.add(entry(502), NOON);
  assert.deepEqual(ring.counts(NOON), {
    date: "2026-01-15",
    since: new Date(NOON).toISOString(),
    requests: 4,
    client_errors: 1,
    server_errors: 1,
    interrupted: 1,
  });
  const tomorrow = NOON + 86_400_000;
  assert.deepEqual(ring.counts(tomorrow), {
    date: "2026-01-16",
    since: "2026-01-16T00:00:00.000Z",
    requests: 0,
    client_errors: 0,
    server_errors: 0,
    interrupted: 0,
  });
  ring.add(entry(200), tomorrow);
  assert.equal(ring.counts(tomorrow).requests, 1);
  assert.equal(ring.list(10).length, 5, "the ring itself spans days");
});

Deno.test("an entry keeps no key: errors are redacted and shortened", () => {
  const ring = new RecentRequests({ now: NOON });
  ring.add(entry(401, { error: `Bad key sk-abcdefghijklmnop ${"x".repeat(500)}` }), NOON);
  const [stored] = ring.list(1);
  assert.ok(!stored.error!.includes("abcdefghijklmnop"));
  assert.ok(stored.error!.length <= 300);
});

Deno.test("status filters: a code, a class, or error", () => {
  const of = (status: number) => ({ status }) as RecentRequest;
  assert.equal(statusMatcher("429")!(of(429)), true);
  assert.equal(statusMatcher("429")!(of(428)), false);
  assert.equal(statusMatcher("4xx")!(of(404)), true);
  assert.equal(statusMatcher("4XX")!(of(500)), false);
  assert.equal(statusMatcher("error")!(of(400)), true);
  assert.equal(statusMatcher("error")!(of(200)), false);
  for (const bad of ["", "42", "600", "6xx", "errors", "4x"]) {
    assert.equal(statusMatcher(bad), null);
  }
});
