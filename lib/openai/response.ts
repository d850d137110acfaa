/** Events → OpenAI chat.completion JSON and chat.completion.chunk SSE. */

import type { CollectedAnswer } from "../chat/collect.ts";
import type { ReasoningOutput } from "../core/config.ts";
import { type ApiError, errorBody } from "../core/errors.ts";
import type { FinishReason, GlmEvent, UsageEvent } from "../core/glm.ts";
import { encodeSse, type StreamRenderer } from "../chat/relay.ts";

/** What both OpenAI renderings need to know. */
export interface OpenAIRenderOptions {
  /** The model id the client sent. */
  model: string;
  reasoningOutput: ReasoningOutput;
  includeUsage: boolean;
  /** Seconds since the epoch. */
  created: number;
}

const FINISH: Record<FinishReason, string> = {
  stop: "stop",
  stop_sequence: "stop",
  tool_calls: "tool_calls",
  length: "length",
  model_context_window_exceeded: "length",
  sensitive: "content_filter",
};

function usageJson(usage: UsageEvent | undefined) {
  const prompt = usage?.promptTokens ?? 0;
  const completion = usage?.completionTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage?.cachedTokens ?? 0 },
  };
}

function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The non-streaming `chat.completion` body. */
export function openAICompletion(answer: CollectedAnswer, options: OpenAIRenderOptions): unknown {
  const message: Record<string, unknown> = { role: "assistant", content: answer.text };
  if (answer.reasoning && options.reasoningOutput === "reasoning_content") {
    message.reasoning_content = answer.reasoning;
  } else if (answer.reasoning && options.reasoningOutput === "think_tags") {
    message.content = `<think>${answer.reasoning}</think>${answer.text}`;
  }
  if (answer.toolCalls.length) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
    if (!message.content) message.content = null;
  }
  return {
    id: completionId(),
    object: "chat.completion",
    created: options.created,
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[answer.finish] }],
    usage: usageJson(answer.usage),
  };
}

/** Streams `chat.completion.chunk`s: role first, deltas as they come, one finish, optional usage, [DONE]. */
export class OpenAIStreamRenderer implements StreamRenderer {
  readonly #options: OpenAIRenderOptions;
  readonly #id = completionId();
  #usage?: UsageEvent;
  #thinkOpen = false;

  constructor(options: OpenAIRenderOptions) {
    this.#options = options;
  }

  open(): string {
    return this.#chunk({ role: "assistant", content: "" });
  }

  render(event: GlmEvent): string {
    switch (event.type) {
      case "reasoning":
        return this.#reasoning(event.text);
      case "text":
        return this.#chunk({ content: this.#closeThink() + event.text });
      case "tool_call_start":
        return this.#closeThinkChunk() + this.#chunk({
          tool_calls: [{
            index: event.index,
            id: event.id,
            type: "function",
            function: { name: event.name, arguments: "" },
          }],
        });
      case "tool_call_args":
        return this.#chunk({
          tool_calls: [{ index: event.index, function: { arguments: event.json } }],
        });
      case "usage":
        this.#usage = event;
        return "";
      case "finish":
        return this.#finish(event.reason);
      case "error":
        return this.fail(event.error);
    }
  }

  keepalive(): string {
    return ": keepalive\n\n";
  }

  fail(error: ApiError): string {
    return `data: ${JSON.stringify(errorBody(error, "openai"))}\n\ndata: [DONE]\n\n`;
  }

  #reasoning(text: string): string {
    if (this.#options.reasoningOutput === "reasoning_content") {
      return this.#chunk({ reasoning_content: text });
    }
    if (this.#options.reasoningOutput === "none") return "";
    const open = this.#thinkOpen ? "" : "<think>";
    this.#thinkOpen = true;
    return this.#chunk({ content: open + text });
  }

  #closeThink(): string {
    if (!this.#thinkOpen) return "";
    this.#thinkOpen = false;
    return "</think>";
  }

  #closeThinkChunk(): string {
    const close = this.#closeThink();
    return close ? this.#chunk({ content: close }) : "";
  }

  #finish(reason: FinishReason): string {
    let out = this.#closeThinkChunk();
    out += this.#event([{ index: 0, delta: {}, finish_reason: FINISH[reason] }]);
    if (this.#options.includeUsage) out += this.#event([], usageJson(this.#usage));
    return out + "data: [DONE]\n\n";
  }

  #chunk(delta: Record<string, unknown>): string {
    return this.#event([{ index: 0, delta, finish_reason: null }]);
  }

  /** One `chat.completion.chunk` event. */
  #event(choices: unknown[], usage?: unknown): string {
    const { model, created } = this.#options;
    const chunk = { id: this.#id, object: "chat.completion.chunk", created, model, choices };
    return encodeSse(usage === undefined ? chunk : { ...chunk, usage });
  }
}
