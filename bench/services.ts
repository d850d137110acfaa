/**
 * The benchmark's processes, each started on 127.0.0.1 with a clean environment: the fake Z.ai,
 * ZtoApi, the Deno relays it is compared with, and the load generator (with {@link Load}, the
 * client that drives it).
 */

import type { ClosedResult, HoldResult, Job, RequestSpec, StreamResult } from "./load.ts";
import { baseEnv, type Child, freePort, spawnDeno, waitForHttp } from "./processes.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const CONFIG = `${ROOT}deno.json`;
/** The key the fake Z.ai expects. */
export const UPSTREAM_KEY = "test-upstream-key";

/** Sends jobs to the load generator and collects its answers. */
export class Load {
  #id = 0;

  constructor(readonly child: Child) {}

  /** Closed-loop load: `concurrency` clients for `durationMs`. */
  closed(request: RequestSpec, concurrency: number, durationMs: number): Promise<ClosedResult> {
    return this.#run({ op: "closed", id: ++this.#id, request, concurrency, durationMs });
  }

  /** `count` streams one after another. */
  streams(request: RequestSpec, count: number): Promise<StreamResult> {
    return this.#run({ op: "stream", id: ++this.#id, request, count });
  }

  /** `streams` streams at once, held for `holdMs` after all are open. */
  hold(
    request: RequestSpec,
    options: { streams: number; holdMs: number; onOpen: (open: HoldResult) => void },
  ): Promise<HoldResult> {
    const job: Job = { op: "hold", id: ++this.#id, request, ...options };
    return this.#run(job, options.onOpen);
  }

  async #run<T>(job: Job, onProgress?: (line: HoldResult) => void): Promise<T> {
    await this.child.send(JSON.stringify(job));
    while (true) {
      const line = JSON.parse(await this.child.lines!.next());
      if (line.id !== job.id) continue;
      if (line.done) return line as T;
      onProgress?.(line);
    }
  }
}

/** A started service: its process and its base URL. */
export interface Service {
  child: Child;
  url: string;
}

/**
 * The fake Z.ai, 20 ms before its response headers unless `args` say otherwise (see
 * bench/fake_upstream_server.ts); its URL is the base of `/chat/completions`.
 */
export async function startFake(tmp: string, args = ["--delay", "20"]): Promise<Service> {
  const child = spawnDeno(CONFIG, `${ROOT}bench/fake_upstream_server.ts`, args, {
    env: baseEnv(),
    stderrFile: `${tmp}/fake.err`,
  });
  const url = JSON.parse(await child.lines!.next()).url as string;
  return { child, url };
}

function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16)).join("");
}

/** A client key for `user`, made with `POST /admin/keys`. */
export async function createClientKey(
  gatewayUrl: string,
  adminKey: string,
  user = "bench",
): Promise<string> {
  const response = await fetch(`${gatewayUrl}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ user, name: "benchmark" }),
  });
  const body = await response.json().catch(() => null);
  if (response.status !== 201 || typeof body?.key !== "string") {
    throw new Error(
      `Cannot create a client key: POST /admin/keys answered ${response.status} ${
        JSON.stringify(body)
      }`,
    );
  }
  return body.key;
}

/**
 * A Deno script serving on a free port, once its `health` path answers. `name` names its log
 * files in `tmp`.
 */
async function startDenoServer(
  tmp: string,
  name: string,
  script: string,
  env: Record<string, string>,
  health = "/health",
): Promise<Service> {
  const port = freePort();
  const child = spawnDeno(CONFIG, `${ROOT}${script}`, [], {
    cwd: tmp,
    env: { ...baseEnv(), HOST: "127.0.0.1", PORT: String(port), ...env },
    stdoutFile: `${tmp}/${name}.log`,
    stderrFile: `${tmp}/${name}.err`,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}${health}`, 20_000).catch(async (error) => {
    await child.stop();
    throw error;
  });
  return { child, url };
}

/**
 * ZtoApi itself (`main.ts`) with KV in a temp file, rate limit and daily budget on, and a client
 * key made with `POST /admin/keys`. `env` adds to (or overrides) its environment; `name` names its
 * log files and KV.
 */
export async function startGateway(
  tmp: string,
  upstreamUrl: string,
  options: { env?: Record<string, string>; name?: string } = {},
): Promise<Service & { key: string; adminKey: string }> {
  const adminKey = `admin-${randomToken()}`;
  const name = options.name ?? "gateway";
  const gateway = await startDenoServer(tmp, name, "main.ts", {
    UPSTREAM_URL: upstreamUrl,
    UPSTREAM_API_KEY: UPSTREAM_KEY,
    ADMIN_KEY: adminKey,
    KV_PATH: `${tmp}/${name}-kv.sqlite`,
    RATE_LIMIT_RPM: "1000000",
    DAILY_TOKEN_BUDGET: "1000000000000",
    DEFAULT_KEY: "",
    ...options.env,
  });
  try {
    return { ...gateway, adminKey, key: await createClientKey(gateway.url, adminKey) };
  } catch (error) {
    await gateway.child.stop();
    throw error;
  }
}

/** ZtoApi with keys and limits switched off (`bench/gateway_without_kv.ts`). */
export function startGatewayWithoutKv(tmp: string, upstreamUrl: string): Promise<Service> {
  return startDenoServer(tmp, "gateway_without_kv", "bench/gateway_without_kv.ts", {
    UPSTREAM_URL: upstreamUrl,
    UPSTREAM_API_KEY: UPSTREAM_KEY,
    DEFAULT_KEY: "",
  });
}

/** The Deno floor: Deno.serve and fetch, nothing else (`bench/floor_relay.ts`). */
export function startFloor(tmp: string, upstreamUrl: string): Promise<Service> {
  return startDenoServer(tmp, "floor", "bench/floor_relay.ts", {
    UPSTREAM_URL: upstreamUrl,
    UPSTREAM_API_KEY: UPSTREAM_KEY,
  });
}

/** The load generator (`bench/load.ts`). */
export function startLoad(tmp: string): Load {
  const child = spawnDeno(CONFIG, `${ROOT}bench/load.ts`, [], {
    env: baseEnv(),
    stderrFile: `${tmp}/load.err`,
  });
  return new Load(child);
}

/** What {@link withServices} gives its body. */
export interface Session {
  /** A temp directory for logs and KV, removed at the end. */
  tmp: string;
  /** Stops `child` when the session ends, however it ends; returns it. */
  keep(child: Child): Child;
  /** A progress line on stderr, so stdout holds only the report. */
  progress(message: string): void;
}

/**
 * Runs `body` with a temp directory and the processes it keeps, all gone at the end. Over
 * `deadlineMs` the run stops with exit code 1; on an error, each process's stderr is shown.
 */
export async function withServices(
  deadlineMs: number,
  body: (session: Session) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const tmp = await Deno.makeTempDir({ prefix: "ztoapi-bench-" });
  const children: Child[] = [];
  const stopAll = () => Promise.all(children.map((child) => child.stop()));
  const watchdog = setTimeout(async () => {
    console.error(`Stopped: the run took longer than ${deadlineMs / 1000} s`);
    await stopAll();
    Deno.exit(1);
  }, deadlineMs);
  try {
    await body({
      tmp,
      keep(child) {
        children.push(child);
        return child;
      },
      progress: (message) =>
        console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`),
    });
  } catch (error) {
    console.error(`Failed: ${error instanceof Error ? error.message : error}`);
    for await (const entry of Deno.readDir(tmp)) {
      if (!entry.name.endsWith(".err")) continue;
      const text = await Deno.readTextFile(`${tmp}/${entry.name}`).catch(() => "");
      if (text.trim()) console.error(`--- ${entry.name} ---\n${text.slice(-2000)}`);
    }
    Deno.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
