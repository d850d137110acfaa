/** Reads config, opens KV, serves the gateway. Nothing else lives here. */

import { BUILTIN_DEFAULT_KEY, ConfigError, loadConfig, parseDotEnv } from "./lib/config.ts";
import { createHandler } from "./lib/app.ts";
import { createGovernance } from "./lib/access.ts";

function readDotEnv(): Record<string, string> {
  try {
    return parseDotEnv(Deno.readTextFileSync(".env"));
  } catch {
    return {};
  }
}

function environment(): Record<string, string | undefined> {
  return { ...readDotEnv(), ...Deno.env.toObject() };
}

let config;
try {
  config = loadConfig(environment());
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
if (config.upstreamApiKeys.length === 0) {
  console.warn("WARNING: UPSTREAM_API_KEY is not set: chat requests will get 503 until it is.");
}

const kv = await Deno.openKv(config.kvPath || undefined);
const now = Date.now;
const handler = createHandler({
  config,
  kv,
  now,
  governance: createGovernance({ config, kv, now }),
});
Deno.serve({ port: config.port, hostname: config.host }, handler);
