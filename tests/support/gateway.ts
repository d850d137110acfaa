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
export interface TestGateway extends ServedGateway {
  upstream: FakeUpstream;
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
  const served = await serveGateway(config, {
    now: options.now,
    keepaliveMs: options.keepaliveMs,
    fetch: options.fetch,
    closeAlso: () => upstream.close(),
  });
  return { ...served, upstream };
}

/** What {@link serveGateway} starts: the gateway, its KV, governance and log lines. */
export interface ServedGateway extends AsyncDisposable {
  url: string;
  kv: Deno.Kv;
  governance: Governance;
  logs: string[];
  /** `fetch` through the gateway's own connection pool (closed before the server). */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/**
 * Serves the gateway for `config` on 127.0.0.1:0 with a fresh in-memory KV; closing it also runs
 * `closeAlso` (the fakes behind it) before usage is settled and KV closed.
 */
export async function serveGateway(
  config: Deps["config"],
  options: Pick<Deps, "now" | "keepaliveMs" | "fetch"> & { closeAlso?: () => Promise<void> } = {},
): Promise<ServedGateway> {
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
    await options.closeAlso?.();
    // Usage is written after a response ends; wait for it so KV is not closed under it.
    await governance.settled();
    kv.close();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    kv,
    governance,
    logs,
    fetch: (input, init) => fetch(input, { ...init, client: http }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
