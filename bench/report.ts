/** The benchmark's report: the table with PASS/FAIL per target, for the terminal and RESULTS.md. */

import {
  type Closed,
  type Held,
  type Measurements,
  PLAN,
  type Side,
  type Streams,
  type StreamSide,
} from "./scenarios.ts";
import {
  addedMs,
  markdownTable,
  median,
  megabytes,
  ms,
  percent,
  quantile,
  type Row,
  rps,
  verdict,
  wrap,
} from "./stats.ts";

/** The finished report. */
export interface Report {
  /** For the terminal. */
  text: string;
  /** bench/RESULTS.md. */
  markdown: string;
  /** e.g. "8/8 targets pass". */
  summary: string;
}

/** Machine facts printed with the results. */
export interface Machine {
  cores: number;
  cpu: string;
  memory: string;
  deno: string;
}

/** When a run ended (ISO, to the second) and on what machine, for a report's first line. */
export function runStamp(host: Machine): { date: string; machineLine: string } {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machineLine:
      `${host.cores} cores, ${host.cpu}, ${host.memory} RAM, Deno ${host.deno}, ${Deno.build.os}`,
  };
}

/** The report's column titles. */
const HEADER: Row = {
  scenario: "scenario",
  metric: "metric",
  direct: "direct",
  floor: "Deno floor",
  noKv: "ZtoApi without KV",
  gateway: "through ZtoApi",
  cost: "ZtoApi adds",
  target: "target",
  verdict: "result",
};

const { oneClient: ONE_CLIENT, manyClients: MANY_CLIENTS, streams: STREAMS, held: HELD } = PLAN;

/** CPU of the process in the middle per request, e.g. "581 µs"; empty without requests. */
export function cpuPerRequest(side: Side | undefined): string {
  if (!side || side.latencies.length === 0) return "";
  return `${Math.round((side.relayCpuMs * 1000) / side.latencies.length)} µs`;
}

function latencyRows(name: string, closed: Closed, targets?: { p50: number; p99: number }): Row[] {
  const rows: Row[] = [];
  const levels = [["p50", 0.5, targets?.p50], ["p99", 0.99, targets?.p99]] as const;
  for (const [metric, q, limit] of levels) {
    const d = quantile(closed.direct.latencies, q);
    const g = quantile(closed.gateway.latencies, q);
    rows.push({
      scenario: rows.length === 0 ? name : "",
      metric: `${metric} latency`,
      direct: ms(d),
      floor: closed.floor ? ms(quantile(closed.floor.latencies, q)) : "",
      noKv: closed.noKv ? ms(quantile(closed.noKv.latencies, q)) : "",
      gateway: ms(g),
      cost: addedMs(g - d),
      target: limit === undefined ? "" : `≤ +${limit} ms`,
      verdict: limit === undefined ? "" : verdict(g - d, (v) => v <= limit),
    });
  }
  return rows;
}

function throughputRows(closed: Closed, target?: number): Row[] {
  const d = median(closed.direct.rates);
  const g = median(closed.gateway.rates);
  const ofDirect = (side: Side | undefined) => {
    if (!side) return "";
    const rate = median(side.rates);
    return `${rps(rate)} (${percent(rate / d)})`;
  };
  return [{
    scenario: "",
    metric: "throughput",
    direct: rps(d),
    floor: ofDirect(closed.floor),
    noKv: ofDirect(closed.noKv),
    gateway: rps(g),
    cost: `${percent(g / d)} of direct`,
    target: target === undefined ? "" : `≥ ${target * 100} % of direct`,
    verdict: target === undefined ? "" : verdict(g / d, (v) => v >= target),
  }, {
    scenario: "",
    metric: "CPU per request in the middle",
    direct: "",
    floor: cpuPerRequest(closed.floor),
    noKv: cpuPerRequest(closed.noKv),
    gateway: cpuPerRequest(closed.gateway),
    cost: "",
    target: "",
    verdict: "",
  }];
}

function signedPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return `${ratio <= -0.0005 ? "−" : "+"}${percent(Math.abs(ratio))}`;
}

function streamRows(streams: Streams): Row[] {
  const { direct, gateway, floor, noKv } = streams;
  const rows: Row[] = [];
  const firsts = [["time to first byte", "firstByte"], ["time to first token", "firstToken"]];
  for (const [metric, pick] of firsts as [string, "firstByte" | "firstToken"][]) {
    const d = median(direct[pick]);
    const g = median(gateway[pick]);
    rows.push({
      scenario: rows.length === 0 ? "500-chunk stream (median)" : "",
      metric,
      direct: ms(d),
      floor: floor ? ms(median(floor[pick])) : "",
      noKv: noKv ? ms(median(noKv[pick])) : "",
      gateway: ms(g),
      cost: addedMs(g - d),
      target: "≤ +2 ms",
      verdict: verdict(g - d, (v) => v <= 2),
    });
  }
  const d = median(direct.total);
  const g = median(gateway.total);
  rows.push({
    scenario: "",
    metric: "total time",
    direct: ms(d),
    floor: floor ? ms(median(floor.total)) : "",
    noKv: noKv ? ms(median(noKv.total)) : "",
    gateway: ms(g),
    cost: signedPercent(g / d - 1),
    target: "≤ +2 %",
    verdict: verdict(g / d - 1, (v) => v <= 0.02),
  });
  const cpuPerStream = (side: StreamSide | undefined) =>
    side && side.total.length ? ms(side.relayCpuMs / side.total.length) : "";
  rows.push({
    scenario: "",
    metric: "CPU per stream in the middle",
    direct: "",
    floor: cpuPerStream(floor),
    noKv: cpuPerStream(noKv),
    gateway: cpuPerStream(gateway),
    cost: "",
    target: "",
    verdict: "",
  });
  return rows;
}

function memoryRow({ gateway, floor }: Measurements["memory"]): Row {
  const complete = gateway.held.opened === HELD.streams;
  return {
    scenario: `${HELD.streams} open streams`,
    metric: "peak resident memory (idle)",
    direct: "",
    floor: `${megabytes(floor.peak)} (${megabytes(floor.idle)})`,
    noKv: "",
    gateway: `${megabytes(gateway.peak)} (${megabytes(gateway.idle)})`,
    cost: `+${megabytes(gateway.peak - gateway.idle)} over idle`,
    target: "≤ 100 MB",
    verdict: complete ? verdict(gateway.peak, (v) => v <= 100e6) : "FAIL",
  };
}

function errorNotes(
  label: string,
  sides: ({ errors: number; errorSample?: string } | undefined)[],
): string[] {
  const present = sides.filter((side) => side !== undefined);
  const errors = present.reduce((n, side) => n + side.errors, 0);
  if (errors === 0) return [];
  const sample = present.find((side) => side.errorSample)?.errorSample;
  return [`${label}: ${errors} failed requests (e.g. ${sample})`];
}

function heldNotes(label: string, memory: Held): string[] {
  const { held } = memory;
  const notes = held.opened === HELD.streams ? [] : [
    `${label}: only ${held.opened} of ${HELD.streams} streams opened (${held.errors} failed: ${held.errorSample})`,
  ];
  if (!memory.resetOk) notes.push(`${label}: peak is sampled VmRSS (VmHWM could not be reset)`);
  return notes;
}

const METHOD = wrap(
  `The fake Z.ai (20 ms before its response headers), ZtoApi (\`main.ts\`, KV in a temp file, a key
  made with \`POST /admin/keys\`, rate limit and daily budget on) and the load generator run as
  separate processes on loopback, sharing the machine's cores, with two references: _Deno floor_,
  a minimal relay (\`bench/floor_relay.ts\`: Deno.serve and fetch, nothing else), and _ZtoApi
  without KV_ (\`bench/gateway_without_kv.ts\`: the same handler with keys and limits switched off).
  Paths take turns in rotating rounds: ${ONE_CLIENT.rounds}×${ONE_CLIENT.durationMs / 1000} s per
  path at 1 client, ${MANY_CLIENTS.rounds}×${MANY_CLIENTS.durationMs / 1000} s at 32 clients;
  latency percentiles over all rounds, throughput the median round. Streams: 500 chunks 1 ms apart,
  medians of ${STREAMS.rounds * STREAMS.perRound} streams per path. Memory: VmHWM (reset just
  before) with ${HELD.streams} slow streams open, measured first, after a warm-up. _ZtoApi adds_
  compares ZtoApi with direct.`,
);

/** The rows and notes of a run, as a table for the terminal and as bench/RESULTS.md. */
export function renderReport(results: Measurements, host: Machine): Report {
  const { single, many, messages, anthropicProbe, streams, memory, afterLoad } = results;
  const rows: Row[] = [
    ...latencyRows("OpenAI chat, 1 client", single, { p50: 1, p99: 5 }),
    ...throughputRows(single),
    ...latencyRows("OpenAI chat, 32 clients", many),
    ...throughputRows(many, 0.9),
  ];
  const notes: string[] = [];
  if (messages) {
    rows.push(
      ...latencyRows("Anthropic message, 32 clients", messages),
      ...throughputRows(messages, 0.9),
    );
  } else {
    rows.push({
      scenario: "Anthropic message, 32 clients",
      metric: "throughput",
      direct: "",
      floor: "",
      noKv: "",
      gateway: `HTTP ${anthropicProbe.status}`,
      cost: "",
      target: "≥ 90 % of direct",
      verdict: "n/a",
    });
    notes.push(
      `Anthropic scenario not measured: POST /v1/messages answered ${anthropicProbe.status} (${anthropicProbe.text})`,
    );
  }
  rows.push(...streamRows(streams), memoryRow(memory));
  notes.push(
    ...errorNotes("OpenAI chat", [...Object.values(single), ...Object.values(many)]),
    ...(messages ? errorNotes("Anthropic message", Object.values(messages)) : []),
    ...errorNotes("500-chunk stream", Object.values(streams)),
    ...heldNotes("ZtoApi", memory.gateway),
    ...heldNotes("Floor relay", memory.floor),
    `ZtoApi resident memory after every scenario: ${megabytes(afterLoad.rss)} (peak over the run ${
      megabytes(afterLoad.hwm)
    })`,
  );

  const verdicts = rows.map((row) => row.verdict).filter((v) => v === "PASS" || v === "FAIL");
  const passed = verdicts.filter((v) => v === "PASS").length;
  const summary = `${passed}/${verdicts.length} targets pass`;
  const table = markdownTable(HEADER, rows);
  const { date, machineLine } = runStamp(host);
  const markdown = [
    "# Benchmark results",
    "",
    wrap(`\`deno task bench\` on ${date}. Machine: ${machineLine}.`),
    "",
    table,
    "",
    `**${summary}.**`,
    "",
    METHOD,
    ...(notes.length
      ? ["", ...notes.map((note) => wrap(`- ${note}`).replaceAll("\n", "\n  "))]
      : []),
    "",
  ].join("\n");
  const text = [`ZtoApi benchmark, ${date}, ${machineLine}`, "", table, "", summary, ...notes]
    .join("\n");
  return { text, markdown, summary };
}
