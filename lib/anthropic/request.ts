/** Anthropic Messages request → a GLM chat plan (wire-format notes, section 8). */

import { glmMessages } from "./content.ts";
import {
  isObject,
  optionalBoolean,
  optionalNumber,
  optionalPositiveInt,
  requiredString,
} from "../core/json_body.ts";
import { glmSampling, glmUserId } from "../chat/glm_fields.ts";
import type { ChatPlan } from "../chat/plan.ts";
import type { Config } from "../core/config.ts";
import { invalidField } from "../core/errors.ts";
import { resolveModel } from "../core/models.ts";
import { type PromptDemands, withPromptDemands } from "../chat/system_prompt.ts";
import { glmTools } from "../chat/tools.ts";

type Json = Record<string, unknown>;

/** How {@link planAnthropicMessages} treats what it cannot see in the body. */
export interface AnthropicPlanOptions {
  /** Whether a thinking block's signature is the gateway's own (unverified blocks are dropped). */
  verifyThinking: (thinking: string, signature: unknown) => boolean;
  /** `max_tokens` is required, except for count_tokens. */
  requireMaxTokens?: boolean;
}

const TOOL_CHOICES = ["auto", "any", "tool", "none"];
const THINKING_TYPES = ["enabled", "disabled", "adaptive", "between_tools"];

/** An optional object field; 400 naming it when present with another type. */
function optionalObject(body: Json, field: string): Json | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidField(field, `${field} must be an object`);
  return value;
}

/** `stop_sequences` as a list; empty strings are dropped. */
export function stopSequences(value: unknown, field = "stop_sequences"): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) {
    throw invalidField(field, `${field} must be an array of strings`);
  }
  return value.filter((s) => s.length > 0);
}

/** `tool_choice`: its type, and the tool it forces (a name for `tool`, `true` for `any`). */
function toolChoiceOf(body: Json): { type?: string; forced?: string | true } {
  const choice = optionalObject(body, "tool_choice");
  if (!choice) return {};
  if (typeof choice.type !== "string" || !TOOL_CHOICES.includes(choice.type)) {
    throw invalidField("tool_choice.type", "tool_choice.type must be auto, any, tool or none");
  }
  const name = choice.type === "tool"
    ? requiredString(choice, "name", "tool_choice.name")
    : undefined;
  const parallel = choice.disable_parallel_tool_use;
  if (parallel !== undefined && parallel !== null && typeof parallel !== "boolean") {
    throw invalidField(
      "tool_choice.disable_parallel_tool_use",
      "tool_choice.disable_parallel_tool_use must be true or false",
    );
  }
  return { type: choice.type, forced: name ?? (choice.type === "any" || undefined) };
}

/** GLM's thinking switch for the request's `thinking` (adaptive, between_tools → enabled). */
function thinkingType(body: Json): "enabled" | "disabled" | undefined {
  const thinking = optionalObject(body, "thinking");
  if (!thinking) return undefined;
  if (typeof thinking.type !== "string" || !THINKING_TYPES.includes(thinking.type)) {
    throw invalidField(
      "thinking.type",
      "thinking.type must be enabled, disabled, adaptive or between_tools",
    );
  }
  const budget = thinking.budget_tokens;
  if (
    budget !== undefined && budget !== null && (!Number.isInteger(budget) || Number(budget) < 0)
  ) {
    throw invalidField("thinking.budget_tokens", "thinking.budget_tokens must be an integer");
  }
  return thinking.type === "disabled" ? "disabled" : "enabled";
}

/**
 * `output_config`: effort is a hint GLM has no switch for; a JSON Schema format asks GLM for a JSON
 * object and the model, in the system prompt, for the schema.
 */
function outputFormat(body: Json): PromptDemands["jsonSchema"] {
  const config = optionalObject(body, "output_config");
  const effort = config?.effort;
  if (effort !== undefined && effort !== null && typeof effort !== "string") {
    throw invalidField("output_config.effort", "output_config.effort must be a string");
  }
  const format = config?.format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format) || typeof format.type !== "string") {
    throw invalidField(
      "output_config.format",
      "output_config.format must be an object with a type",
    );
  }
  if (format.type !== "json_schema") return undefined;
  if (!isObject(format.schema)) {
    throw invalidField(
      "output_config.format.schema",
      "output_config.format.schema must be a JSON Schema object",
    );
  }
  return { schema: format.schema };
}

function userIdOf(body: Json): string | undefined {
  const metadata = optionalObject(body, "metadata");
  const user = metadata?.user_id;
  if (user === undefined || user === null) return undefined;
  if (typeof user !== "string") {
    throw invalidField("metadata.user_id", "metadata.user_id must be a string");
  }
  return glmUserId(user);
}

/** Validates and translates a Messages request; 400 naming the field on bad input. */
export function planAnthropicMessages(
  body: Json,
  config: Readonly<Config>,
  options: AnthropicPlanOptions,
): ChatPlan {
  const model = resolveModel(requiredString(body, "model"), config.modelAliases);
  const { info } = model;
  const maxTokens = optionalPositiveInt(body, "max_tokens");
  if (maxTokens === undefined && options.requireMaxTokens !== false) {
    throw invalidField(
      "max_tokens",
      "max_tokens is required: a positive integer, the most tokens the answer may use",
    );
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalidField("messages", "messages is required and must be a non-empty array");
  }
  const stream = optionalBoolean(body, "stream") ?? false;
  const messages = glmMessages(body.system, body.messages, {
    model: model.requested,
    info,
    verifyThinking: options.verifyThinking,
  });
  const glm: Json = { model: model.upstream, messages, stream };
  Object.assign(glm, glmSampling(body, { maxTemperature: 1, maxTokens, config, info }));
  optionalNumber(body, "top_k", 0, Number.MAX_SAFE_INTEGER); // validated, then dropped
  const demands: PromptDemands = { jsonSchema: outputFormat(body) };
  if (demands.jsonSchema) glm.response_format = { type: "json_object" };

  const choice = toolChoiceOf(body);
  if (body.tools !== undefined && body.tools !== null) {
    const tools = glmTools(body.tools, "anthropic");
    if (tools.length && choice.type !== "none") {
      glm.tools = tools;
      glm.tool_choice = "auto";
      if (stream && info?.toolStream) glm.tool_stream = true;
      demands.forcedTool = choice.forced;
    }
  }
  glm.messages = withPromptDemands(messages, demands);
  const thinking = thinkingType(body);
  if (thinking && (info?.thinking ?? true)) glm.thinking = { type: thinking };
  const userId = userIdOf(body);
  if (userId) glm.user_id = userId;
  return { glm, stream, model, stopSequences: stopSequences(body.stop_sequences) };
}
