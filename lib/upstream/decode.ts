/** GLM output → a small typed event sequence. Every upstream quirk is handled here and only here. */

import { ApiError } from "../core/errors.ts";
import type { FinishReason, GlmEvent } from "../core/glm.ts";
import type { SseMessage } from "./sse.ts";
import { upstreamError } from "./errors.ts";

const KNOWN_FINISH = new Set([
  "stop",
  "tool_calls",
  "length",
  "sensitive",
  "model_context_window_exceeded",
]);

// deno-lint-ignore no-explicit-any
type Json = any;

function usageEvent(usage: Json): GlmEvent | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  return {
    type: "usage",
    promptTokens: Number(usage.prompt_tokens) || 0,
    completionTokens: Number(usage.completion_tokens) || 0,
    cachedTokens: Number(usage.prompt_tokens_details?.cached_tokens) || 0,
  };
}

function midStreamError(message: string): GlmEvent {
  return { type: "error", error: new ApiError(502, "upstream", message) };
}

/**
 * Turns GLM stream chunks into events: drops whitespace sent before reasoning or tool calls,
 * opens each tool call once, and emits usage and a single finish at the very end.
 */
export class GlmChunkDecoder {
  #heldWhitespace = "";
  #textStarted = false;
  #toolCalls = new Set<number>();
  #finish?: FinishReason;
  #usage?: GlmEvent;
  #done = false;
  /** Z.ai's id of the response (from the first chunk that carries one). */
  id?: string;
  #secrets: readonly string[];

  /** `secrets` (the operator's Z.ai keys) are redacted from upstream errors. */
  constructor(secrets: readonly string[] = []) {
    this.#secrets = secrets;
  }

  /** Events for one SSE message from upstream. */
  push(message: SseMessage): GlmEvent[] {
    if (this.#done) return [];
    const data = message.data.trim();
    if (data === "[DONE]") return this.end(true);
    let chunk: Json;
    try {
      chunk = JSON.parse(data);
    } catch {
      return [];
    }
    if (message.event === "error" || chunk?.error) {
      this.#done = true;
      return [{ type: "error", error: upstreamError(502, chunk, { secrets: this.#secrets }) }];
    }
    return this.pushChunk(chunk);
  }

  /** True once a finish reason has been seen. */
  get finished(): boolean {
    return this.#finish !== undefined;
  }

  /** Events for one parsed GLM chunk (or a whole response shaped as one). */
  pushChunk(chunk: Json): GlmEvent[] {
    if (this.id === undefined && typeof chunk?.id === "string") this.id = chunk.id;
    const events: GlmEvent[] = [];
    const choice = chunk?.choices?.[0];
    const delta = choice?.delta ?? {};
    if (typeof delta.reasoning_content === "string" && delta.reasoning_content !== "") {
      if (!this.#textStarted) this.#heldWhitespace = "";
      events.push({ type: "reasoning", text: delta.reasoning_content });
    }
    if (typeof delta.content === "string" && delta.content !== "") {
      this.#pushText(delta.content, events);
    }
    if (Array.isArray(delta.tool_calls)) this.#pushToolCalls(delta.tool_calls, events);
    if (typeof choice?.finish_reason === "string") this.#finish ??= choice.finish_reason;
    if (chunk.usage) this.#usage = usageEvent(chunk.usage);
    return events;
  }

  /** The closing events: usage then exactly one finish, or an error when the stream was cut. */
  end(sawDone = false): GlmEvent[] {
    if (this.#done) return [];
    this.#done = true;
    const events: GlmEvent[] = this.#usage ? [this.#usage] : [];
    const reason = this.#finish;
    if (reason === "network_error" as string) {
      return [...events, midStreamError("Z.ai stopped the answer with a network error: retry")];
    }
    if (!reason && !sawDone) {
      return [
        ...events,
        midStreamError("Z.ai closed the stream before the answer finished: retry"),
      ];
    }
    const finish: FinishReason = reason && KNOWN_FINISH.has(reason) ? reason : "stop";
    events.push({ type: "finish", reason: finish });
    return events;
  }

  #pushText(text: string, events: GlmEvent[]): void {
    if (!this.#textStarted && text.trim() === "") {
      this.#heldWhitespace += text;
      return;
    }
    if (!this.#textStarted) {
      this.#textStarted = true;
      text = this.#heldWhitespace + text;
      this.#heldWhitespace = "";
    }
    events.push({ type: "text", text });
  }

  #pushToolCalls(calls: Json[], events: GlmEvent[]): void {
    if (!this.#textStarted) this.#heldWhitespace = "";
    for (const call of calls) {
      const index = Number.isInteger(call?.index) ? call.index : this.#toolCalls.size;
      const fn = call?.function ?? {};
      if (!this.#toolCalls.has(index)) {
        this.#toolCalls.add(index);
        events.push({
          type: "tool_call_start",
          index,
          id: typeof call.id === "string" && call.id
            ? call.id
            : `call_${crypto.randomUUID().replaceAll("-", "")}`,
          name: typeof fn.name === "string" ? fn.name : "",
        });
      }
      const args = typeof fn.arguments === "string"
        ? fn.arguments
        : fn.arguments === undefined
        ? ""
        : JSON.stringify(fn.arguments);
      if (args !== "") events.push({ type: "tool_call_args", index, json: args });
    }
  }
}

/** Events of a whole (non-streaming) GLM response. */
export function completionEvents(body: Json, secrets: readonly string[] = []): GlmEvent[] {
  if (body?.error) return [{ type: "error", error: upstreamError(502, body, { secrets }) }];
  const decoder = new GlmChunkDecoder(secrets);
  const message = body?.choices?.[0]?.message ?? {};
  const chunk = {
    choices: [{ delta: message, finish_reason: body?.choices?.[0]?.finish_reason ?? "stop" }],
    usage: body?.usage,
  };
  return [...decoder.pushChunk(chunk), ...decoder.end(true)];
}

/** Reads a GLM SSE stream as events; the last event is always a finish or an error. */
export async function* glmEvents(
  messages: AsyncIterable<SseMessage>,
  onFailure: (error: unknown) => ApiError,
  onId?: (id: string) => void,
  secrets: readonly string[] = [],
): AsyncGenerator<GlmEvent> {
  const decoder = new GlmChunkDecoder(secrets);
  try {
    for await (const message of messages) {
      const events = decoder.push(message);
      if (onId && decoder.id !== undefined) {
        onId(decoder.id);
        onId = undefined;
      }
      yield* events;
    }
  } catch (error) {
    if (decoder.finished) {
      yield* decoder.end(true);
    } else {
      yield* decoder.end(true).filter((e) => e.type === "usage");
      yield { type: "error", error: onFailure(error) };
    }
    return;
  }
  yield* decoder.end(false);
}
