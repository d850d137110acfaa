/** Starts the real gateway on 127.0.0.1 beside a fake Z.ai, for integration tests. */

import { createHandler, type Deps } from "../../lib/app.ts";
import { createGovernance, type Governance } from "../../lib/governance/governance.ts";
import { loadConfig } from "../../lib/core/config.ts";

import {
  FAKE_UPSTREAM_KEY,
  type FakeUpstream,
  type FakeUpstreamOptions,
  startFakeUpstream,
} from "./fake_upstream.ts";

/** The client key every test gateway accepts (as DEFAULT_KEY). */
export const TEST_KEY = "sk-test-default-key-0123456789";

/** A running gateway with its fake upstream. */
export interface TestGateway extends AsyncDisposable {
  /** Base URL, e.g. http://127.0.0.1:1234 */
  url: string;
  upstream: FakeUpstream;
  kv: Deno.Kv;
  governance: Governance;
  logs: string[];
  /** `fetch` through the gateway's own connection pool (closed before the server). */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  env?: Record<string, string>;
  keepaliveMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  /** How the fake Z.ai behaves (accepted keys, concurrency per key, …). */
  upstream?: FakeUpstreamOptions;
}

/** Starts the gateway (DEFAULT_KEY = {@link TEST_KEY}) on port 0 with a fresh in-memory KV. */
export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const upstream = startFakeUpstream(options.upstream);
  const config = loadConfig({
    DEFAULT_KEY: TEST_KEY,
    UPSTREAM_URL: upstream.url,
    UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
    RATE_LIMIT_RPM: "100000",
    ...options.env,
  });
  const kv = await Deno.openKv(":memory:");
  const logs: string[] = [];
  const now = options.now ?? Date.now;
  const governance = createGovernance({ config, kv, now });
  const deps: Deps = { config, kv, now, governance, log: (line) => logs.push(line) };
  if (options.keepaliveMs) deps.keepaliveMs = options.keepaliveMs;
  if (options.fetch) deps.fetch = options.fetch;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, createHandler(deps));
  // Deno 2.5's server.shutdown() waits minutes for a keep-alive connection whose last body the
  // client cancelled (the SDKs stop reading after [DONE] / message_stop) once another request was
  // made on it; clients use this pool, closed first, so those connections end at once.
  const http = Deno.createHttpClient({});
  const close = async () => {
    http.close();
    await server.shutdown();
    await upstream.close();
    // Usage is written after a response ends; wait for it so KV is not closed under it.
    await governance.settled();
    kv.close();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    upstream,
    kv,
    governance,
    logs,
    fetch: (input, init) => fetch(input, { ...init, client: http }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
