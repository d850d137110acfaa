/**
 * ZtoApi exactly as `main.ts` serves it, but with a governance that admits every request and
 * records nothing: no key lookup, rate limit, budget or usage in KV. Beside the real gateway it
 * shows what keys and limits cost; beside the floor relay, what the rest of ZtoApi costs.
 *
 * Usage: PORT=… UPSTREAM_URL=… UPSTREAM_API_KEY=… deno run -A bench/gateway_without_kv.ts
 */

import { createHandler } from "../lib/app.ts";
import { loadConfig, readEnvironment } from "../lib/core/config.ts";
import type { Governance } from "../lib/governance/governance.ts";

/** Admits everyone as one caller, with the rate-limit headers a real admission carries. */
export const openGovernance: Governance = {
  admit: () =>
    Promise.resolve({
      caller: { keyId: "bench", user: "bench" },
      startEarly: false,
      decision: Promise.resolve({
        "x-ratelimit-limit-requests": "1000000",
        "x-ratelimit-remaining-requests": "999999",
        "x-ratelimit-reset-requests": "60s",
      }),
    }),
  record: () => {},
  describe: () => Promise.resolve({}),
  settled: () => Promise.resolve(),
};

if (import.meta.main) {
  const config = loadConfig(readEnvironment());
  const kv = await Deno.openKv(":memory:");
  Deno.serve(
    { port: config.port, hostname: config.host, onListen() {} },
    createHandler({ config, kv, now: Date.now, governance: openGovernance }),
  );
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
