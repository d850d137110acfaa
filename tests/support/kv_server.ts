/** A gateway on 127.0.0.1 for key and limit tests: in-process helper, or a process of its own. */

import { createHandler } from "../../lib/app.ts";
import { createGovernance } from "../../lib/governance/governance.ts";
import { type Config, loadConfig } from "../../lib/core/config.ts";
import type { Caller, Governance } from "../../lib/governance/governance.ts";
import type { Usage } from "../../lib/core/glm.ts";

/** The admin key of every test gateway started here. */
export const ADMIN_KEY = "test-admin-key-7f3a";

/** Admits one request of `key` and waits for its decision: the caller and rate-limit headers. */
export async function admitted(governance: Governance, key: string) {
  const { caller, decision } = await governance.admit(key);
  return { caller, headers: await decision };
}

/** Records a usage and waits until it is written. */
export async function recorded(
  governance: Governance,
  caller: Caller,
  model: string,
  usage: Usage,
): Promise<void> {
  governance.record(caller, model, usage);
  await governance.settled();
}

/** A clock tests move by hand. */
export interface FakeClock {
  now: () => number;
  advance: (ms: number) => void;
}

/** A clock starting at `start` ms (default: 2026-01-15 12:00:10 UTC, 10 s into a minute). */
export function fakeClock(start = Date.UTC(2026, 0, 15, 12, 0, 10)): FakeClock {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

/** A running gateway and what tests reach into. */
export interface KvGateway extends AsyncDisposable {
  url: string;
  kv: Deno.Kv;
  config: Readonly<Config>;
  governance: Governance;
  logs: string[];
  close(): Promise<void>;
}

/** Options of {@link startKvGateway}. */
export interface KvGatewayOptions {
  /** Environment on top of the test defaults (ADMIN_KEY set, DEFAULT_KEY empty). */
  env?: Record<string, string>;
  now?: () => number;
  /** A KV path (default `:memory:`). */
  kvPath?: string;
}

/** Starts the gateway on port 0; closing it stops the server and closes the KV. */
export async function startKvGateway(options: KvGatewayOptions = {}): Promise<KvGateway> {
  const config = loadConfig({ ADMIN_KEY, DEFAULT_KEY: "", ...options.env });
  const kv = await Deno.openKv(options.kvPath ?? ":memory:");
  const now = options.now ?? Date.now;
  const logs: string[] = [];
  const governance = createGovernance({ config, kv, now, log: (line) => logs.push(line) });
  const handler = createHandler({ config, kv, now, governance, log: (line) => logs.push(line) });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  const close = async () => {
    await server.shutdown();
    kv.close();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    kv,
    config,
    governance,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Calls the admin API with the test admin key; returns status, headers and parsed body. */
export async function admin(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      authorization: `Bearer ${init.key ?? ADMIN_KEY}`,
      "content-type": "application/json",
    },
    body: init.body === undefined
      ? undefined
      : typeof init.body === "string"
      ? init.body
      : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** Creates a key through the admin API and returns its id and the key itself. */
export async function createTestKey(
  base: string,
  user: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const { status, body } = await admin(base, "/admin/keys", { body: { user, ...extra } });
  if (status !== 201) throw new Error(`Cannot create a key: ${status} ${JSON.stringify(body)}`);
  return { id: body.id as string, key: body.key as string };
}

// As a process: serve KV_PATH (and the rest of the environment) with the clock frozen at
// FIXED_NOW, and print {"port":N} once listening. Two of these share one KV file in tests.
if (import.meta.main) {
  const config = loadConfig({ ...Deno.env.toObject(), PORT: "0", HOST: "127.0.0.1" });
  const kv = await Deno.openKv(config.kvPath);
  const fixed = Number(Deno.env.get("FIXED_NOW"));
  const now = Number.isFinite(fixed) && fixed > 0 ? () => fixed : Date.now;
  const governance = createGovernance({ config, kv, now });
  const handler = createHandler({ config, kv, now, governance, log: () => {} });
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(JSON.stringify({ port })),
  }, handler);
}
