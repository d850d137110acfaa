/**
 * `deno task bench`: what ZtoApi costs on top of Z.ai. Starts, as separate processes on loopback,
 * the fake Z.ai (20 ms before its headers), the gateway (`main.ts`, KV in a temp file, a real key
 * from `POST /admin/keys`), two references (a minimal Deno relay, and ZtoApi without KV) and a
 * load generator; measures every scenario directly against the fake and through each of them in
 * rotating rounds; then the shared-account scenario (bench/shared_account.ts) with processes of its
 * own; prints the tables (ZtoApi over direct and over the floor; the shared-account scenario with
 * PASS/FAIL against its own targets) and writes them to bench/RESULTS.md.
 */

import { HOLD, STREAM_500 } from "./fake_upstream_server.ts";
import type { RequestSpec } from "./load.ts";
import { cpuTimeMs, machine, readResident, resetPeakResident } from "./processes.ts";
import { renderReport } from "./report.ts";
import { measure, type Paths } from "./scenarios.ts";
import { measureSharedAccount, renderSharedAccount } from "./shared_account.ts";
import {
  type Load,
  startFake,
  startFloor,
  startGateway,
  startGatewayWithoutKv,
  startLoad,
  UPSTREAM_KEY,
  withServices,
} from "./services.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
/** The whole run is cut off after this long. */
const DEADLINE_MS = 200_000;
const MODEL = "glm-4.5-air";

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

function main(): Promise<void> {
  return withServices(DEADLINE_MS, async (session) => {
    const { tmp, keep, progress } = session;
    progress("starting the fake Z.ai, the gateways and the load generator");
    const fake = await startFake(tmp);
    keep(fake.child);
    const gateway = await startGateway(tmp, fake.url);
    keep(gateway.child);
    const noKv = await startGatewayWithoutKv(tmp, fake.url);
    keep(noKv.child);
    const floor = await startFloor(tmp, fake.url);
    keep(floor.child);
    const load = startLoad(tmp);
    keep(load.child);

    const bench: Bench = {
      load,
      gatewayPid: gateway.child.pid,
      floorPid: floor.child.pid,
      noKvPid: noKv.child.pid,
      requests: buildRequests(
        { upstream: fake.url, gateway: gateway.url, floor: floor.url, noKv: noKv.url },
        gateway.key,
      ),
      progress,
      readResident,
      resetPeakResident,
      cpuTimeMs,
    };
    const report = renderReport(await measure(bench), machine());
    const shared = renderSharedAccount(await measureSharedAccount(session));
    console.log(`${report.text}\n\n${shared.text}`);
    await Deno.writeTextFile(`${ROOT}bench/RESULTS.md`, `${report.markdown}\n${shared.markdown}`);
    progress(`wrote bench/RESULTS.md; ${report.summary}`);
  });
}

if (import.meta.main) await main();
