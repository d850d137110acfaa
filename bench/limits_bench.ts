/**
 * What key checks, limits and metering add to a request: `deno bench -A bench/limits_bench.ts`.
 * These are the times until admit() and record() resolve, one call at a time: a decision on a known
 * key that started early gathers more requests for up to 10 ms unless hurried (the request itself
 * has started by then, see lib/admission.ts), and record() waits USAGE_FLUSH_MS (lib/usage.ts) to
 * gather usage. For CPU per request and commits, see bench/governance_load.ts.
 */

import { createGovernance } from "../lib/governance/governance.ts";
import { loadConfig } from "../lib/core/config.ts";
import { createKey } from "../lib/governance/keys.ts";

const dir = await Deno.makeTempDir({ prefix: "limits_bench_" });
const config = loadConfig({
  DEFAULT_KEY: "",
  RATE_LIMIT_RPM: "1000000",
  DAILY_TOKEN_BUDGET: String(Number.MAX_SAFE_INTEGER),
});
const usage = { promptTokens: 1200, completionTokens: 300, cachedTokens: 0, estimated: false };

async function setup(path: string) {
  const kv = await Deno.openKv(path);
  const governance = createGovernance({ config, kv, now: Date.now });
  const options = { user: "bench", name: null, lifetimeDays: 1, maxKeysPerUser: 5 };
  const { key } = await createKey(kv, { ...options, now: Date.now() });
  const { caller } = await governance.admit(key);
  return { kv, governance, key, caller };
}

const file = await setup(`${dir}/kv.sqlite3`);
const memory = await setup(":memory:");

globalThis.addEventListener("unload", () => {
  file.kv.close();
  memory.kv.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.bench("admit, KV file", { group: "file", baseline: true }, async () => {
  await file.governance.admit(file.key);
});
Deno.bench("record, KV file", { group: "file" }, async () => {
  await file.governance.record(file.caller, "glm-4.5", usage);
});
Deno.bench("admit + record, KV file", { group: "file" }, async () => {
  const { caller } = await file.governance.admit(file.key);
  await file.governance.record(caller, "glm-4.5", usage);
});
Deno.bench("admit + record, in-memory KV", { group: "memory" }, async () => {
  const { caller } = await memory.governance.admit(memory.key);
  await memory.governance.record(caller, "glm-4.5", usage);
});
Deno.bench("50 concurrent admits on one key, KV file", { group: "concurrent" }, async () => {
  await Promise.all(Array.from({ length: 50 }, () => file.governance.admit(file.key)));
});
