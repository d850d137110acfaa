/**
 * Hot functions of a request, one at a time: `deno bench -A bench/hot_bench.ts`. The end-to-end
 * figures come from `deno task bench`; this shows where a request's CPU goes inside ZtoApi.
 */

import { collectAnswer } from "../lib/collect.ts";
import { loadConfig } from "../lib/config.ts";
import { completionEvents, GlmChunkDecoder, glmEvents } from "../lib/glm_events.ts";
import { logRequest, redact } from "../lib/log.ts";
import { planOpenAIChat } from "../lib/openai_request.ts";
import { openAICompletion, OpenAIStreamRenderer } from "../lib/openai_response.ts";
import { relayStream } from "../lib/relay.ts";
import { decodeSse } from "../lib/sse.ts";

const config = loadConfig({ DEFAULT_KEY: "" });
const encoder = new TextEncoder();

/** A typical request log entry. */
const LOG_ENTRY = {
  method: "POST",
  path: "/v1/chat/completions",
  status: 200,
  durationMs: 21.37,
  model: "glm-4.5-air",
  user: "bench",
  upstreamRequestId: "20261122011426a1b2c3d4e5f6a7b8c9",
};
const LOG_LINE = JSON.stringify({ time: new Date().toISOString(), ...LOG_ENTRY });

function glmChunk(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: "20261122011426a1b2c3d4e5f6a7b8c9",
    created: 1795000000,
    model: "glm-4.5-air",
    choices: [{ index: 0, delta: { role: "assistant", content }, ...extra }],
  });
}

/** A 500-chunk GLM stream as SSE bytes, in 500 network reads. */
const STREAM_500: Uint8Array[] = [
  ...Array.from({ length: 500 }, (_, i) => `data: ${glmChunk(`tok${i} `)}\n\n`),
  `data: ${
    glmChunk("", {
      finish_reason: "stop",
      usage: { prompt_tokens: 10, completion_tokens: 500, total_tokens: 510 },
    })
  }\n\n`,
  "data: [DONE]\n\n",
].map((text) => encoder.encode(text));

function byteStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (i < chunks.length) return controller.enqueue(chunks[i++].slice());
      controller.close();
      // A reader waiting with its own buffer (decodeSse's) is only told of the end this way.
      controller.byobRequest?.respond(0);
    },
  });
}

const COMPLETION = {
  id: "20261122011426a1b2c3d4e5f6a7b8c9",
  created: 1795000000,
  model: "glm-4.5-air",
  choices: [{
    index: 0,
    finish_reason: "stop",
    message: {
      role: "assistant",
      content: "ZtoApi relays this answer from the fake Z.ai. ".repeat(6),
      reasoning_content: "The user wants a short answer about the benchmark; keep it brief.",
    },
  }],
  usage: { prompt_tokens: 12, completion_tokens: 90, total_tokens: 102 },
};

const RENDER_OPTIONS = {
  model: "glm-4.5-air",
  reasoningOutput: config.reasoningOutput,
  includeUsage: false,
  created: 1795000000,
};

Deno.bench("redact a request log line", { group: "log" }, () => {
  redact(LOG_LINE);
});
Deno.bench("logRequest (stringify + redact)", { group: "log" }, () => {
  logRequest(() => {}, LOG_ENTRY);
});

Deno.bench("plan an OpenAI request", { group: "json" }, async () => {
  await planOpenAIChat(
    {
      model: "glm-4.5-air",
      messages: [{ role: "user", content: "Say something short about the benchmark." }],
      stream: false,
    },
    config,
    "application/json",
  );
});
Deno.bench("render a whole completion", { group: "json" }, () => {
  openAICompletion(collectAnswer(completionEvents(COMPLETION)), RENDER_OPTIONS);
});

Deno.bench("500 chunks: decode only (GlmChunkDecoder)", { group: "stream" }, () => {
  const decoder = new GlmChunkDecoder();
  for (const chunk of STREAM_500) {
    const text = new TextDecoder().decode(chunk);
    decoder.push({ data: text.slice(6, -2) });
  }
});
Deno.bench("500 chunks: bytes → events", { group: "stream" }, async () => {
  const events = glmEvents(decodeSse(byteStream(STREAM_500)), () => {
    throw new Error("unexpected");
  });
  for await (const _ of events) { /* drain */ }
});
Deno.bench("500 chunks: bytes → events → OpenAI SSE bytes", { group: "stream" }, async () => {
  const events = glmEvents(decodeSse(byteStream(STREAM_500)), () => {
    throw new Error("unexpected");
  });
  const body = await relayStream(events, new OpenAIStreamRenderer(RENDER_OPTIONS), {
    keepaliveMs: 15_000,
    abortUpstream: () => {},
    onEnd: () => {},
    estimateUsage: () => ({ type: "usage", promptTokens: 0, completionTokens: 0, cachedTokens: 0 }),
  });
  for await (const _ of body) { /* drain */ }
});
