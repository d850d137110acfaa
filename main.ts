/** Reads config, opens KV, serves the gateway. Nothing else lives here. */

import {
  BUILTIN_DEFAULT_KEY,
  ConfigError,
  loadConfig,
  readEnvironment,
} from "./lib/core/config.ts";
import { createHandler } from "./lib/app.ts";
import { createGovernance } from "./lib/governance/governance.ts";

let config;
try {
  config = loadConfig(readEnvironment());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`ZtoApi cannot start: ${error.message}`);
  Deno.exit(1);
}
if (config.defaultKey === BUILTIN_DEFAULT_KEY) {
  console.warn(
    `WARNING: DEFAULT_KEY is the built-in "${BUILTIN_DEFAULT_KEY}": anyone can use this gateway. Set DEFAULT_KEY (or empty to disable it).`,
  );
}
for (const service of config.services) {
  if (!service.enabled || service.keys.length > 0) continue;
  console.warn(
    `WARNING: ${service.keysEnv} is not set: chat requests to service ${service.slug} will get 503 until it is.`,
  );
}

const kv = await Deno.openKv(config.kvPath || undefined);
const now = Date.now;
const governance = createGovernance({ config, kv, now, log: console.error });
/**
 * A request's log line goes to stdout on the next timer turn, once its response has gone out: a
 * write to stdout before the response added 0.2–0.3 ms to it at one client (docs/performance.md,
 * ledger row 36).
 */
const logAfterResponse = (line: string) => setTimeout(console.log, 0, line);
const server = Deno.serve(
  { port: config.port, hostname: config.host },
  createHandler({ config, kv, now, governance, log: logAfterResponse }),
);

/** On SIGINT/SIGTERM: finish in-flight requests, write their usage and log lines, then exit. */
async function shutdown(): Promise<void> {
  await server.shutdown();
  await governance.settled();
  await new Promise((resolve) => setTimeout(resolve, 0)); // after every line already waiting
  kv.close();
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, shutdown);
  } catch {
    // Signals are not available everywhere (e.g. Deno Deploy); the platform stops us there.
  }
}
