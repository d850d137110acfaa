/**
 * The benchmark's measurements. Each scenario is measured directly against the fake Z.ai and
 * through ZtoApi; most also through a minimal Deno relay (the floor: what Deno.serve and fetch
 * cost) and through ZtoApi without KV (what keys and limits cost), in rotating rounds.
 */

import type { Bench } from "./run.ts";
import type { HoldResult, RequestSpec } from "./load.ts";

/** The ways a request reaches the fake Z.ai. */
export type Path = "direct" | "floor" | "noKv" | "gateway";

/** One request per path; a scenario skips the optional paths it has no request for. */
export type Paths = {
  direct: RequestSpec;
  gateway: RequestSpec;
  floor?: RequestSpec;
  noKv?: RequestSpec;
};

/** Closed-loop results of one path, over all its rounds. */
export interface Side {
  latencies: number[];
  rates: number[];
  errors: number;
  errorSample?: string;
  /** CPU milliseconds used by the process in the middle (relay or gateway). */
  relayCpuMs: number;
}

/** Closed-loop results of every path of a scenario. */
export type Closed = Partial<Record<Path, Side>> & { direct: Side; gateway: Side };

/** Stream timings of one path, in milliseconds per stream. */
export interface StreamSide {
  firstByte: number[];
  firstToken: number[];
  total: number[];
  errors: number;
  errorSample?: string;
  /** CPU milliseconds used by the process in the middle (relay or gateway). */
  relayCpuMs: number;
}

/** Stream timings of every path. */
export type Streams = Partial<Record<Path, StreamSide>> & {
  direct: StreamSide;
  gateway: StreamSide;
};

/** Resident memory of one process around a hold of many open streams. */
export interface Held {
  idle: number;
  peak: number;
  held: HoldResult;
  resetOk: boolean;
}

/** Everything measured in one run. */
export interface Measurements {
  single: Closed;
  many: Closed;
  /** Absent when the Anthropic route did not answer 200. */
  messages?: Closed;
  anthropicProbe: { ok: boolean; status: number; text: string };
  streams: Streams;
  memory: { gateway: Held; floor: Held };
  /** The gateway's VmRSS and VmHWM after every scenario. */
  afterLoad: { rss: number; hwm: number };
}

/** Durations and sizes of the scenarios. */
export const PLAN = {
  oneClient: { rounds: 6, durationMs: 1250, concurrency: 1 },
  manyClients: { rounds: 6, durationMs: 1000, concurrency: 32 },
  streams: { rounds: 4, perRound: 2 },
  held: { streams: 500, holdMs: 3000 },
} as const;

/** The paths a scenario has requests for. */
export function pathsOf(paths: Paths): Path[] {
  return (["direct", "floor", "noKv", "gateway"] as const).filter((path) => paths[path]);
}

/** Round r runs the paths rotated by r, so drift on the shared cores hits every path alike. */
function rotated<T>(items: T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function middlePid(bench: Bench, path: Path): number | undefined {
  if (path === "direct") return undefined;
  return { floor: bench.floorPid, noKv: bench.noKvPid, gateway: bench.gatewayPid }[path];
}

/** One way to the fake Z.ai: a name, the request to replay, and the process in the middle. */
export interface Route<P extends string> {
  path: P;
  request: RequestSpec;
  /** The relay's or gateway's pid; none for direct. */
  pid?: number;
}

/** Closed-loop load on every route in rotating rounds. */
export async function roundsClosed<P extends string>(
  bench: Pick<Bench, "load" | "cpuTimeMs">,
  routes: Route<P>[],
  options: { rounds: number; durationMs: number; concurrency: number },
): Promise<Record<P, Side>> {
  const result = {} as Record<P, Side>;
  for (let round = 0; round < options.rounds; round++) {
    for (const { path, request, pid } of rotated(routes, round)) {
      const side = result[path] ??= { latencies: [], rates: [], errors: 0, relayCpuMs: 0 };
      const cpuBefore = pid ? bench.cpuTimeMs(pid) : 0;
      const run = await bench.load.closed(request, options.concurrency, options.durationMs);
      if (pid) side.relayCpuMs += bench.cpuTimeMs(pid) - cpuBefore;
      side.latencies.push(...run.latencies);
      side.rates.push(run.ok / (run.elapsedMs / 1000));
      side.errors += run.errors;
      side.errorSample ??= run.errorSample;
    }
  }
  return result;
}

/** The routes of a scenario's paths. */
function routesOf(bench: Bench, paths: Paths): Route<Path>[] {
  return pathsOf(paths).map((path) => ({
    path,
    request: paths[path]!,
    pid: middlePid(bench, path),
  }));
}

function interleavedClosed(
  bench: Bench,
  paths: Paths,
  options: { rounds: number; durationMs: number; concurrency: number },
): Promise<Closed> {
  return roundsClosed(bench, routesOf(bench, paths), options) as Promise<Closed>;
}

async function interleavedStreams(bench: Bench, paths: Paths): Promise<Streams> {
  const result: Partial<Record<Path, StreamSide>> = {};
  for (let round = 0; round < PLAN.streams.rounds; round++) {
    for (const { path, request, pid } of rotated(routesOf(bench, paths), round)) {
      const cpuBefore = pid ? bench.cpuTimeMs(pid) : 0;
      const run = await bench.load.streams(request, PLAN.streams.perRound);
      const side = result[path] ??= {
        firstByte: [],
        firstToken: [],
        total: [],
        errors: 0,
        relayCpuMs: 0,
      };
      if (pid) side.relayCpuMs += bench.cpuTimeMs(pid) - cpuBefore;
      side.firstByte.push(...run.firstByte);
      side.firstToken.push(...run.firstToken);
      side.total.push(...run.total);
      side.errors += run.errors;
      side.errorSample ??= run.errorSample;
    }
  }
  return result as Record<Path, StreamSide | undefined> & {
    direct: StreamSide;
    gateway: StreamSide;
  };
}

/** Resident memory of `pid` while `PLAN.held.streams` slow streams are open through it. */
export async function heldStreams(
  bench: Pick<Bench, "load" | "readResident" | "resetPeakResident">,
  pid: number,
  request: RequestSpec,
): Promise<Held> {
  // Let earlier garbage go before taking the idle figure.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = bench.readResident(pid).rss;
  const resetOk = bench.resetPeakResident(pid);
  let sampled = 0;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) sampled = Math.max(sampled, bench.readResident(pid).rss);
  }, 50);
  const held = await bench.load.hold(request, {
    ...PLAN.held,
    onOpen: () => {
      sampling = true;
    },
  }).finally(() => clearInterval(timer));
  const after = bench.readResident(pid);
  const peak = Math.max(sampled, resetOk ? after.hwm : 0);
  return { idle, peak, held, resetOk };
}

async function probe(request: RequestSpec): Promise<{ ok: boolean; status: number; text: string }> {
  const response = await fetch(request.url, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  return { ok: response.status === 200, status: response.status, text: text.slice(0, 200) };
}

/** Runs every scenario. */
export async function measure(bench: Bench): Promise<Measurements> {
  const { load, requests, progress } = bench;
  const anthropicProbe = await probe(requests.anthropic.gateway);
  progress("warming up");
  for (const path of pathsOf(requests.openai)) await load.closed(requests.openai[path]!, 8, 1000);
  for (const path of pathsOf(requests.stream)) await load.streams(requests.stream[path]!, 2);
  if (anthropicProbe.ok) await load.closed(requests.anthropic.gateway, 8, 500);

  // Memory first, before the load scenarios grow the heaps: the figure is what the streams cost.
  progress(`${PLAN.held.streams} streams held open`);
  const floor = await heldStreams(bench, bench.floorPid, requests.hold.floor);
  const gateway = await heldStreams(bench, bench.gatewayPid, requests.hold.gateway);

  progress("OpenAI chat, 1 client");
  const single = await interleavedClosed(bench, requests.openai, PLAN.oneClient);
  progress("OpenAI chat, 32 clients");
  const many = await interleavedClosed(bench, requests.openai, PLAN.manyClients);
  let messages: Closed | undefined;
  if (anthropicProbe.ok) {
    progress("Anthropic message, 32 clients");
    messages = await interleavedClosed(bench, requests.anthropic, PLAN.manyClients);
  }
  progress("500-chunk streams");
  const streams = await interleavedStreams(bench, requests.stream);
  const afterLoad = bench.readResident(bench.gatewayPid);
  return { single, many, messages, anthropicProbe, streams, memory: { gateway, floor }, afterLoad };
}
