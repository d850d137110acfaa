/**
 * The fake Z.ai in a process of its own, for the benchmark. The last user message picks the answer:
 * `[bench:stream500]` a 500-chunk text stream with a 1 ms gap per chunk (the first with the headers), `[bench:hold]` a slow
 * stream (one chunk every 250 ms, for holding many streams open), anything else a short answer.
 * Every answer waits `--delay` ms (default 20) before its headers. Prints `{"url":…}` once listening
 * and runs until stdin closes or it is killed.
 *
 * Usage: deno run -A bench/fake_upstream_server.ts [--delay 20]
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

function delayArgument(args: string[]): number {
  const at = args.indexOf("--delay");
  if (at === -1) return 20;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`Invalid --delay ${args[at + 1]}: expected milliseconds`);
  }
  return value;
}

if (import.meta.main) {
  const upstream = startFakeUpstream({
    delayMs: delayArgument(Deno.args),
    script: benchScript,
    record: false,
  });
  console.log(JSON.stringify({ url: upstream.url, pid: Deno.pid }));
  // Held streams would keep a graceful shutdown waiting: exit at once.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  // Stdin closing means the benchmark is gone.
  for await (const _ of Deno.stdin.readable) { /* drain */ }
  Deno.exit(0);
}
