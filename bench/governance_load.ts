/**
 * Keys, rate limit and usage under load, without HTTP: `deno run -A bench/governance_load.ts [KV]`.
 * Prints wall time, CPU time and KV commits per admitted-and-recorded request at 1 and 32 at once.
 */

import process from "node:process";
import { createGovernance } from "../lib/governance/governance.ts";
import { loadConfig } from "../lib/core/config.ts";
import { createKey } from "../lib/governance/keys.ts";
import { countingKv } from "../tests/support/intercepted_kv.ts";

const REQUESTS = 2000;
const dir = await Deno.makeTempDir({ prefix: "governance_load_" });
const kv = await Deno.openKv(Deno.args[0] ?? `${dir}/kv.sqlite3`);
const config = loadConfig({
  DEFAULT_KEY: "",
  RATE_LIMIT_RPM: "1000000",
  DAILY_TOKEN_BUDGET: String(Number.MAX_SAFE_INTEGER),
});
const counting = countingKv(kv);
const governance = createGovernance({ config, kv: counting.kv, now: Date.now });
const options = { user: "bench", name: null, lifetimeDays: 1, maxKeysPerUser: 5, now: Date.now() };
const { key } = await createKey(kv, options);
const usage = { promptTokens: 100, completionTokens: 50, cachedTokens: 0, estimated: false };

for (const concurrency of [1, 32]) {
  let started = 0;
  const atomicsBefore = counting.atomics();
  const wall = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (started++ < REQUESTS) {
      const { caller, decision } = await governance.admit(key);
      await decision;
      governance.record(caller, "glm-4.6", usage);
    }
  }));
  await governance.settled();
  const used = process.cpuUsage(cpu);
  console.log(
    `${concurrency} at once: ${
      ((performance.now() - wall) / REQUESTS * 1000).toFixed(0)
    } µs wall, ` +
      `${((used.user + used.system) / REQUESTS).toFixed(0)} µs CPU, ` +
      `${((counting.atomics() - atomicsBefore) / REQUESTS).toFixed(2)} commits per request`,
  );
}
kv.close();
await Deno.remove(dir, { recursive: true });
