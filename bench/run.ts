/**
 * `deno task bench`: what ZtoApi costs on top of Z.ai. Starts, as separate processes on loopback,
 * the fake Z.ai (20 ms before its headers), the gateway (`main.ts`, KV in a temp file, a real key
 * from `POST /admin/keys`), two references (a minimal Deno relay, and ZtoApi without KV) and a
 * load generator; measures every scenario directly against the fake and through each of them in
 * rotating rounds; prints the table with PASS/FAIL per target and writes it to bench/RESULTS.md.
 */

import { HOLD, STREAM_500 } from "./fake_upstream_server.ts";
import type { ClosedResult, HoldResult, Job, RequestSpec, StreamResult } from "./load.ts";
import {
  baseEnv,
  type Child,
  cpuTimeMs,
  freePort,
  machine,
  readResident,
  resetPeakResident,
  spawnDeno,
  waitForHttp,
} from "./processes.ts";
import { renderReport } from "./report.ts";
import { measure, type Paths } from "./scenarios.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const CONFIG = `${ROOT}deno.json`;
/** The whole run is cut off after this long. */
const DEADLINE_MS = 175_000;
const UPSTREAM_KEY = "test-upstream-key";
const MODEL = "glm-4.5-air";

/** Sends jobs to the load generator and collects its answers. */
export class Load {
  readonly #child: Child;
  #id = 0;

  constructor(child: Child) {
    this.#child = child;
  }

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
    await this.#child.send(JSON.stringify(job));
    while (true) {
      const line = JSON.parse(await this.#child.lines!.next());
      if (line.id !== job.id) continue;
      if (line.done) return line as T;
      onProgress?.(line);
    }
  }
}

/** What a scenario needs: requests, the load generator, pids of the processes in the middle. */
export interface Bench {
  load: Load;
  gatewayPid: number;
  /** The minimal Deno relay (bench/floor_relay.ts). */
  floorPid: number;
  /** ZtoApi without keys and limits (bench/gateway_without_kv.ts). */
  noKvPid: number;
  requests: {
    openai: Paths;
    anthropic: Paths;
    stream: Paths;
    hold: { floor: RequestSpec; gateway: RequestSpec };
  };
  /** Progress lines go to stderr, so stdout holds only the report. */
  progress(message: string): void;
  readResident: typeof readResident;
  resetPeakResident: typeof resetPeakResident;
  cpuTimeMs: typeof cpuTimeMs;
}

function chatBody(text: string, stream: boolean): string {
  return JSON.stringify({ model: MODEL, messages: [{ role: "user", content: text }], stream });
}

/** Base URLs of the fake Z.ai, the gateway, the floor relay and the gateway without KV. */
interface Urls {
  upstream: string;
  gateway: string;
  floor: string;
  noKv: string;
}

function buildRequests(urls: Urls, key: string): Bench["requests"] {
  const direct = { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" };
  const client = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const upstream = `${urls.upstream}/chat/completions`;
  const chat = `${urls.gateway}/v1/chat/completions`;
  const floor = `${urls.floor}/v1/chat/completions`;
  const noKvChat = `${urls.noKv}/v1/chat/completions`;
  const question = "Say something short about the benchmark.";
  const streamText = `${STREAM_500} Stream five hundred chunks.`;
  const holdBody = chatBody(`${HOLD} Hold this stream open.`, true);
  return {
    openai: {
      direct: { url: upstream, headers: direct, body: chatBody(question, false) },
      floor: { url: floor, headers: client, body: chatBody(question, false) },
      noKv: { url: noKvChat, headers: client, body: chatBody(question, false) },
      gateway: { url: chat, headers: client, body: chatBody(question, false) },
    },
    anthropic: {
      direct: {
        url: upstream,
        headers: direct,
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: "user", content: question }],
          stream: false,
          max_tokens: 1024,
        }),
      },
      gateway: {
        url: `${urls.gateway}/v1/messages`,
        headers: {
          "x-api-key": key,
          "anthropic-version": "2023-06-01",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 1024,
          messages: [{ role: "user", content: question }],
        }),
      },
    },
    stream: {
      direct: { url: upstream, headers: direct, body: chatBody(streamText, true) },
      floor: { url: floor, headers: client, body: chatBody(streamText, true) },
      noKv: { url: noKvChat, headers: client, body: chatBody(streamText, true) },
      gateway: { url: chat, headers: client, body: chatBody(streamText, true) },
    },
    hold: {
      floor: { url: floor, headers: client, body: holdBody },
      gateway: { url: chat, headers: client, body: holdBody },
    },
  };
}

async function createClientKey(gatewayUrl: string, adminKey: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ user: "bench", name: "benchmark" }),
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

function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16)).join("");
}

async function main(): Promise<void> {
  const started = Date.now();
  const tmp = await Deno.makeTempDir({ prefix: "ztoapi-bench-" });
  const children: Child[] = [];
  const stopAll = () => Promise.all(children.map((child) => child.stop()));
  const watchdog = setTimeout(async () => {
    console.error(`Benchmark stopped: it ran longer than ${DEADLINE_MS / 1000} s`);
    await stopAll();
    Deno.exit(1);
  }, DEADLINE_MS);
  const progress = (message: string) =>
    console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);

  try {
    progress("starting the fake Z.ai, the gateways and the load generator");
    const fake = await spawnDeno(
      CONFIG,
      `${ROOT}bench/fake_upstream_server.ts`,
      ["--delay", "20"],
      {
        env: baseEnv(),
        stderrFile: `${tmp}/fake.err`,
      },
    );
    children.push(fake);
    const upstreamUrl = JSON.parse(await fake.lines!.next()).url as string;

    const port = freePort();
    const adminKey = `admin-${randomToken()}`;
    const gateway = await spawnDeno(CONFIG, `${ROOT}main.ts`, [], {
      cwd: tmp,
      env: {
        ...baseEnv(),
        HOST: "127.0.0.1",
        PORT: String(port),
        UPSTREAM_URL: upstreamUrl,
        UPSTREAM_API_KEY: UPSTREAM_KEY,
        ADMIN_KEY: adminKey,
        KV_PATH: `${tmp}/kv.sqlite`,
        RATE_LIMIT_RPM: "1000000",
        DAILY_TOKEN_BUDGET: "1000000000000",
        DEFAULT_KEY: "",
      },
      stdoutFile: `${tmp}/gateway.log`,
      stderrFile: `${tmp}/gateway.err`,
    });
    children.push(gateway);
    const gatewayUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${gatewayUrl}/health`, 20_000);
    const key = await createClientKey(gatewayUrl, adminKey);

    const noKvPort = freePort();
    const noKv = await spawnDeno(CONFIG, `${ROOT}bench/gateway_without_kv.ts`, [], {
      cwd: tmp,
      env: {
        ...baseEnv(),
        HOST: "127.0.0.1",
        PORT: String(noKvPort),
        UPSTREAM_URL: upstreamUrl,
        UPSTREAM_API_KEY: UPSTREAM_KEY,
        DEFAULT_KEY: "",
      },
      stdoutFile: `${tmp}/gateway_without_kv.log`,
      stderrFile: `${tmp}/gateway_without_kv.err`,
    });
    children.push(noKv);
    const noKvUrl = `http://127.0.0.1:${noKvPort}`;
    await waitForHttp(`${noKvUrl}/health`, 20_000);

    const floorPort = freePort();
    const floor = await spawnDeno(CONFIG, `${ROOT}bench/floor_relay.ts`, [], {
      env: {
        ...baseEnv(),
        PORT: String(floorPort),
        UPSTREAM_URL: upstreamUrl,
        UPSTREAM_API_KEY: UPSTREAM_KEY,
      },
      stderrFile: `${tmp}/floor.err`,
    });
    children.push(floor);
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    await waitForHttp(`${floorUrl}/health`, 20_000);

    const loadChild = await spawnDeno(CONFIG, `${ROOT}bench/load.ts`, [], {
      env: baseEnv(),
      stderrFile: `${tmp}/load.err`,
    });
    children.push(loadChild);

    const bench: Bench = {
      load: new Load(loadChild),
      gatewayPid: gateway.pid,
      floorPid: floor.pid,
      noKvPid: noKv.pid,
      requests: buildRequests(
        { upstream: upstreamUrl, gateway: gatewayUrl, floor: floorUrl, noKv: noKvUrl },
        key,
      ),
      progress,
      readResident,
      resetPeakResident,
      cpuTimeMs,
    };
    const report = renderReport(await measure(bench), machine());
    console.log(report.text);
    await Deno.writeTextFile(`${ROOT}bench/RESULTS.md`, report.markdown);
    progress(`wrote bench/RESULTS.md; ${report.summary}`);
  } catch (error) {
    console.error(`Benchmark failed: ${error instanceof Error ? error.message : error}`);
    const logs = ["gateway.err", "gateway_without_kv.err", "fake.err", "floor.err", "load.err"];
    for (const name of logs) {
      const text = await Deno.readTextFile(`${tmp}/${name}`).catch(() => "");
      if (text.trim()) console.error(`--- ${name} ---\n${text.slice(-2000)}`);
    }
    Deno.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
