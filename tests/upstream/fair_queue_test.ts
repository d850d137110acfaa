/** The fair queue: turns between users, first come first served within each. */

import assert from "node:assert/strict";
import { FairQueue } from "../../lib/upstream/fair_queue.ts";
import { RecentCounts } from "../../lib/upstream/recent_counts.ts";

Deno.test("users take turns; each user's items keep their order; a retry goes first in its line", () => {
  const queue = new FairQueue<string>();
  for (const item of ["a1", "a2", "a3", "a4"]) queue.push("alice", item);
  queue.push("bob", "b1");
  queue.push("carol", "c1");
  queue.push("bob", "b2");
  queue.push("alice", "a0", true);
  assert.equal(queue.size, 8);
  assert.equal(queue.peek(), "a0");
  assert.deepEqual(queue.drain(), ["a0", "b1", "c1", "a1", "b2", "a2", "a3", "a4"]);
  assert.equal(queue.size, 0);
  assert.equal(queue.shift(), undefined);
});

Deno.test("an item taken out leaves the others in turn; a user who comes back waits at the back", () => {
  const queue = new FairQueue<string>();
  queue.push("alice", "a1");
  queue.push("bob", "b1");
  queue.push("alice", "a2");
  assert.equal(queue.remove("a1"), true);
  assert.equal(queue.remove("a1"), false);
  assert.equal(queue.shift(), "a2", "alice keeps her turn with her next item");
  queue.push("alice", "a3");
  queue.push("carol", "c1");
  assert.deepEqual(queue.drain(), ["b1", "a3", "c1"]);
});

Deno.test("recent counts cover the last hour only", () => {
  const counts = new RecentCounts();
  const start = Date.UTC(2026, 0, 1, 12);
  counts.add("success", start);
  counts.add("1302", start + 1000);
  counts.add("success", start + 30 * 60_000);
  assert.deepEqual(counts.totals(start + 30 * 60_000), { success: 2, "1302": 1 });
  assert.deepEqual(counts.totals(start + 61 * 60_000), { success: 1 });
  assert.deepEqual(counts.totals(start + 2 * 3_600_000), {});
});
