/** Events → the Responses API's response object and output items (responses-api.md). */

import type { CollectedAnswer } from "../chat/collect.ts";
import type { ApiError } from "../core/errors.ts";
import type { FinishReason, UsageEvent } from "../core/glm.ts";

type Json = Record<string, unknown>;

/** What every rendering of one response needs to know. */
export interface ResponsesRenderOptions {
  /** The model id the client sent. */
  model: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** The namespace of each function tool that came inside a `namespace` tool, by name. */
  namespaces: ReadonlyMap<string, string>;
}

/** A fresh id with a prefix: `resp`, `msg`, `rs` or `fc`. */
export function itemId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Drops the newlines GLM sends before its first text. */
export function trimLeadingNewlines(text: string): string {
  return text.replace(/^[\r\n]+/, "");
}

/** The Responses `usage` object. GLM reports no reasoning breakdown: reasoning_tokens is 0. */
export function usageJson(usage: UsageEvent | undefined): Json {
  const input = usage?.promptTokens ?? 0;
  const output = usage?.completionTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.cachedTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** How a finished answer ends: status, and the details of an incomplete or failed one. */
export function endOf(reason: FinishReason): Json {
  switch (reason) {
    case "length":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
    case "sensitive":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
    case "model_context_window_exceeded":
      return {
        status: "failed",
        error: {
          code: "context_length_exceeded",
          message:
            "The conversation no longer fits the model's context window: shorten or compact it",
        },
      };
    default:
      return { status: "completed" };
  }
}

/** The `error` of a failed response, with the codes Codex understands (and its "try again in"). */
export function failureJson(error: ApiError): { code: string; message: string } {
  const retry = error.retryAfter === undefined
    ? ""
    : ` Please try again in ${Math.max(1, Math.ceil(error.retryAfter))}s.`;
  if (error.kind === "rate_limit" || error.kind === "overloaded") {
    return { code: "rate_limit_exceeded", message: error.message + retry };
  }
  if (error.kind === "quota") return { code: "insufficient_quota", message: error.message + retry };
  if (error.code === "zai_1261") return { code: "context_length_exceeded", message: error.message };
  if (error.status === 400) return { code: "invalid_request", message: error.message };
  return { code: "server_error", message: error.message };
}

/** The response object around `output`; `fields` set or override status, usage and details. */
export function responseJson(
  id: string,
  options: ResponsesRenderOptions,
  output: Json[],
  fields: Json,
): Json {
  return {
    id,
    object: "response",
    created_at: options.createdAt,
    status: "in_progress",
    model: options.model,
    output,
    usage: null,
    incomplete_details: null,
    error: null,
    ...fields,
  };
}

/** A completed reasoning item. */
export function reasoningItem(id: string, text: string): Json {
  return { id, type: "reasoning", summary: [{ type: "summary_text", text }] };
}

/** A message item with one output_text part. */
export function messageItem(id: string, text: string, status = "completed"): Json {
  return {
    id,
    type: "message",
    role: "assistant",
    status,
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

/** A function_call item; a call of a namespaced tool names its namespace, as Codex expects. */
export function functionCallItem(
  id: string,
  call: { callId: string; name: string; arguments: string },
  options: ResponsesRenderOptions,
  status = "completed",
): Json {
  const item: Json = {
    id,
    type: "function_call",
    status,
    call_id: call.callId,
    name: call.name,
    arguments: call.arguments,
  };
  const namespace = options.namespaces.get(call.name);
  if (namespace !== undefined) item.namespace = namespace;
  return item;
}

/** The non-streaming response: reasoning, message and function_call items, usage, output_text. */
export function responsesJson(answer: CollectedAnswer, options: ResponsesRenderOptions): Json {
  const output: Json[] = [];
  if (answer.reasoning) output.push(reasoningItem(itemId("rs"), answer.reasoning));
  const text = trimLeadingNewlines(answer.text);
  if (text || !answer.toolCalls.length) output.push(messageItem(itemId("msg"), text));
  for (const call of answer.toolCalls) {
    output.push(functionCallItem(itemId("fc"), { ...call, callId: call.id }, options));
  }
  return {
    ...responseJson(itemId("resp"), options, output, {
      usage: usageJson(answer.usage),
      ...endOf(answer.finish),
    }),
    output_text: text,
  };
}
