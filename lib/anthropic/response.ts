/** Events → an Anthropic `message` (JSON) and Anthropic's streaming event grammar. */

import type { CollectedAnswer } from "../chat/collect.ts";
import { type ApiError, errorBody } from "../core/errors.ts";
import type { FinishReason, GlmEvent, UsageEvent } from "../core/glm.ts";
import type { StreamRenderer } from "../chat/relay.ts";
import { randomBase62 } from "../core/crypto.ts";
import { encodeSse } from "../chat/relay.ts";
import type { ThinkingSignature, ThinkingSigner } from "./thinking_signature.ts";

/** What both Anthropic renderings need to know. */
export interface AnthropicRenderOptions {
  /** The model id the client sent. */
  model: string;
  signer: ThinkingSigner;
  /** The gateway's estimate of the input, used until (or unless) upstream reports usage. */
  inputTokens: number;
}

type Json = Record<string, unknown>;

const STOP_REASONS: Record<FinishReason, string> = {
  stop: "end_turn",
  stop_sequence: "stop_sequence",
  tool_calls: "tool_use",
  length: "max_tokens",
  model_context_window_exceeded: "max_tokens",
  sensitive: "refusal",
};

const TOOL_ID = /^[a-zA-Z0-9_-]{1,128}$/;

/** Anthropic's `stop_reason` for a finish (a plain stop after tool calls is `tool_use`). */
export function stopReason(finish: FinishReason, sawToolUse: boolean): string {
  return finish === "stop" && sawToolUse ? "tool_use" : STOP_REASONS[finish];
}

function messageId(): string {
  return `msg_${randomBase62(24)}`;
}

/** The upstream tool-call id when Anthropic clients accept it, else a fresh `toolu_` id. */
export function toolUseId(id: string): string {
  return TOOL_ID.test(id) ? id : `toolu_${randomBase62(24)}`;
}

/** Tool arguments as an `input` object; anything but a JSON object is kept under `_raw_arguments`. */
export function toolInput(args: string): Json {
  if (args.trim() === "") return {};
  try {
    const input = JSON.parse(args);
    if (input && typeof input === "object" && !Array.isArray(input)) return input;
  } catch {
    // fall through: the model wrote something that is not JSON
  }
  return { _raw_arguments: args };
}

function usageJson(usage: UsageEvent | undefined, inputTokens: number): Json {
  const prompt = usage?.promptTokens ?? inputTokens;
  const cached = Math.min(prompt, usage?.cachedTokens ?? 0);
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: usage?.completionTokens ?? 0,
  };
}

/** The non-streaming `message` body. */
export function anthropicMessage(answer: CollectedAnswer, options: AnthropicRenderOptions): Json {
  const content: Json[] = [];
  if (answer.reasoning) {
    const signature = options.signer.sign(answer.reasoning);
    content.push({ type: "thinking", thinking: answer.reasoning, signature });
  }
  if (answer.text) content.push({ type: "text", text: answer.text });
  for (const call of answer.toolCalls) {
    const input = toolInput(call.arguments);
    content.push({ type: "tool_use", id: toolUseId(call.id), name: call.name, input });
  }
  return {
    id: messageId(),
    type: "message",
    role: "assistant",
    model: options.model,
    content,
    stop_reason: stopReason(answer.finish, answer.toolCalls.length > 0),
    stop_sequence: answer.finish === "stop_sequence" ? answer.stopSequence ?? null : null,
    usage: usageJson(answer.usage, options.inputTokens),
  };
}

type BlockKind = "thinking" | "text" | "tool_use";

/**
 * Streams Anthropic events: message_start and ping, then one content block at a time (thinking
 * with its signature_delta before the stop, text, tool_use with input_json_delta), message_delta
 * with the stop reason and usage, message_stop.
 */
export class AnthropicStreamRenderer implements StreamRenderer {
  readonly #options: AnthropicRenderOptions;
  #index = -1;
  #open: BlockKind | null = null;
  #signature?: ThinkingSignature;
  readonly #toolBlocks = new Map<number, number>();
  #usage?: UsageEvent;

  constructor(options: AnthropicRenderOptions) {
    this.#options = options;
  }

  open(): string {
    const message = {
      id: messageId(),
      type: "message",
      role: "assistant",
      model: this.#options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: this.#options.inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    };
    return encodeSse({ type: "message_start", message }, "message_start") + this.keepalive();
  }

  render(event: GlmEvent): string {
    switch (event.type) {
      case "reasoning":
        return this.#ensure("thinking") +
          this.#delta({ type: "thinking_delta", thinking: event.text }, event.text);
      case "text":
        return this.#ensure("text") + this.#delta({ type: "text_delta", text: event.text });
      case "tool_call_start":
        return this.#toolStart(event);
      case "tool_call_args": {
        const index = this.#toolBlocks.get(event.index) ?? this.#index;
        return this.#event("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: event.json },
        });
      }
      case "usage":
        this.#usage = event;
        return "";
      case "finish":
        return this.#finish(event.reason, event.stopSequence);
      case "error":
        return this.fail(event.error);
    }
  }

  keepalive(): string {
    return encodeSse({ type: "ping" }, "ping");
  }

  fail(error: ApiError): string {
    return encodeSse(errorBody(error, "anthropic"), "error");
  }

  #event(type: string, fields: Json): string {
    return encodeSse({ type, ...fields }, type);
  }

  #delta(delta: Json, thinking?: string): string {
    if (thinking !== undefined) this.#signature?.update(thinking);
    return this.#event("content_block_delta", { index: this.#index, delta });
  }

  #ensure(kind: "thinking" | "text"): string {
    if (this.#open === kind) return "";
    const block = kind === "thinking"
      ? { type: "thinking", thinking: "", signature: "" }
      : { type: "text", text: "" };
    return this.#start(kind, block);
  }

  #toolStart(event: Extract<GlmEvent, { type: "tool_call_start" }>): string {
    const block = { type: "tool_use", id: toolUseId(event.id), name: event.name, input: {} };
    const text = this.#start("tool_use", block);
    this.#toolBlocks.set(event.index, this.#index);
    return text;
  }

  #start(kind: BlockKind, block: Json): string {
    const closing = this.#close();
    this.#index++;
    this.#open = kind;
    if (kind === "thinking") this.#signature = this.#options.signer.start();
    return closing +
      this.#event("content_block_start", { index: this.#index, content_block: block });
  }

  #close(): string {
    if (this.#open === null) return "";
    let out = "";
    if (this.#open === "thinking" && this.#signature) {
      out += this.#delta({ type: "signature_delta", signature: this.#signature.digest() });
      this.#signature = undefined;
    }
    this.#open = null;
    return out + this.#event("content_block_stop", { index: this.#index });
  }

  #finish(reason: FinishReason, stopSequence?: string): string {
    const out = this.#close();
    const delta = {
      stop_reason: stopReason(reason, this.#toolBlocks.size > 0),
      stop_sequence: reason === "stop_sequence" ? stopSequence ?? null : null,
    };
    const usage = usageJson(this.#usage, this.#options.inputTokens);
    return out + this.#event("message_delta", { delta, usage }) + this.#event("message_stop", {});
  }
}
