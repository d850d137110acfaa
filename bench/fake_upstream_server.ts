/**
 * The fake Z.ai in a process of its own, for the benchmark. The last user message picks the answer:
 * `[bench:stream500]` a 500-chunk text stream with a 1 ms gap per chunk (the first with the headers), `[bench:hold]` a slow
 * stream (one chunk every 250 ms, for holding many streams open), anything else a short answer.
 * Every answer waits `--delay` ms (default 20) before its headers. `--keys a,b` sets the keys it
 * accepts, `--concurrency N` how many requests one key may have in flight (1302 beyond it). Prints
 * `{"url":…}` once listening; answers a `stats` line on stdin with `{"stats":{…}}` (1302s sent, most
 * in flight on one key); runs until stdin closes or it is killed.
 *
 * Usage: deno run -A bench/fake_upstream_server.ts [--delay 20] [--keys a,b] [--concurrency 4]
 */

import {
  type AnswerScript,
  type Script,
  startFakeUpstream,
} from "../tests/support/fake_upstream.ts";

/** Marker for the 500-chunk stream. */
export const STREAM_500 = "[bench:stream500]";
/** Marker for a slow stream held open. */
export const HOLD = "[bench:hold]";

const STREAM_500_SCRIPT: AnswerScript = {
  kind: "answer",
  reasoning: "",
  // 500 chunks of 8 characters, none of them blank.
  text: Array.from({ length: 500 }, (_, i) => `tok${String(i).padStart(4, "0")} `).join(""),
  textChunks: 500,
  chunkDelayMs: 1,
  // With the headers, as a stream that has already started: a first chunk 1 ms behind them would
  // wait for a delayed ACK half the time (Deno.serve leaves Nagle on), on both paths alike.
  firstChunkDelayMs: 0,
};

const HOLD_SCRIPT: AnswerScript = {
  kind: "answer",
  reasoning: "",
  text: "held ".repeat(400),
  textChunks: 200,
  chunkDelayMs: 250,
};

const SHORT_SCRIPT: AnswerScript = {
  kind: "answer",
  reasoning: "The user wants a short answer about the benchmark; keep it brief.",
  text: "ZtoApi relays this answer from the fake Z.ai. ".repeat(6).trim(),
};

function lastUserText(body: unknown): string {
  const messages = (body as { messages?: { role?: string; content?: unknown }[] })?.messages;
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role !== "user") continue;
    const content = messages[i].content;
    return typeof content === "string" ? content : JSON.stringify(content ?? "");
  }
  return "";
}

/** The answer for a request body. */
export function benchScript(body: unknown): Script {
  const text = lastUserText(body);
  if (text.includes(STREAM_500)) return STREAM_500_SCRIPT;
  if (text.includes(HOLD)) return HOLD_SCRIPT;
  return SHORT_SCRIPT;
}

/** The value after `name` in `args`, or undefined. */
function argument(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

/** A whole number argument of at least `min`, or `fallback` when absent. */
function numberArgument(args: string[], name: string, fallback: number, min: number): number {
  const raw = argument(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`Invalid ${name} ${raw}: expected a whole number from ${min}`);
  }
  return value;
}

if (import.meta.main) {
  const concurrency = numberArgument(Deno.args, "--concurrency", 0, 0);
  const upstream = startFakeUpstream({
    delayMs: numberArgument(Deno.args, "--delay", 20, 0),
    script: benchScript,
    record: false,
    keys: argument(Deno.args, "--keys")?.split(","),
    concurrencyPerKey: concurrency || undefined,
  });
  console.log(JSON.stringify({ url: upstream.url, pid: Deno.pid }));
  // Held streams would keep a graceful shutdown waiting: exit at once.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  // Stdin closing means the benchmark is gone.
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const text of lines) {
    if (!text.includes("stats")) continue;
    const stats = {
      concurrencyRefusals: upstream.concurrencyRefusals,
      maxInFlight: upstream.maxInFlight,
    };
    console.log(JSON.stringify({ stats }));
  }
  Deno.exit(0);
}
