/** A local, deterministic estimate of a request's input tokens (`/v1/messages/count_tokens`). */

import { isObject } from "../core/json_body.ts";
import type { GlmRequest } from "../core/glm.ts";
import { estimateTokens, IMAGE_TOKENS } from "../chat/tokens.ts";

/** Tokens added for each message (role and separators of the chat template). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

function contentTokens(content: unknown): number {
  if (typeof content === "string") return estimateTokens(content);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content) {
    if (!isObject(part)) continue;
    if (part.type === "text" && typeof part.text === "string") tokens += estimateTokens(part.text);
    else if (part.type === "image_url") tokens += IMAGE_TOKENS;
  }
  return tokens;
}

function toolCallTokens(calls: unknown): number {
  if (!Array.isArray(calls)) return 0;
  let tokens = 0;
  for (const call of calls) {
    const fn = isObject(call) && isObject(call.function) ? call.function : {};
    tokens += estimateTokens(String(fn.name ?? "")) + estimateTokens(String(fn.arguments ?? ""));
  }
  return tokens;
}

function toolTokens(tools: unknown): number {
  if (!Array.isArray(tools)) return 0;
  let tokens = 0;
  for (const tool of tools) {
    const fn = isObject(tool) && isObject(tool.function) ? tool.function : {};
    tokens += estimateTokens(String(fn.name ?? "")) +
      estimateTokens(String(fn.description ?? "")) +
      estimateTokens(JSON.stringify(fn.parameters ?? {}));
  }
  return tokens;
}

/**
 * Input tokens of a translated request: every message's text, reasoning and tool calls (name and
 * JSON arguments), {@link IMAGE_TOKENS} per image, {@link MESSAGE_OVERHEAD_TOKENS} per message,
 * and each tool's name, description and JSON schema — all through `estimateTokens`.
 */
export function countInputTokens(glm: GlmRequest): number {
  let tokens = toolTokens(glm.tools);
  const messages = Array.isArray(glm.messages) ? glm.messages : [];
  for (const message of messages) {
    if (!isObject(message)) continue;
    tokens += MESSAGE_OVERHEAD_TOKENS + contentTokens(message.content);
    if (typeof message.reasoning_content === "string") {
      tokens += estimateTokens(message.reasoning_content);
    }
    tokens += toolCallTokens(message.tool_calls);
  }
  return tokens;
}
