/** OpenAI Responses request → a GLM chat plan (responses-api.md, "Request → GLM"). */

import { glmSampling, glmUserId } from "../chat/glm_fields.ts";
import type { ChatPlan } from "../chat/plan.ts";
import { type PromptDemands, withPromptDemands } from "../chat/system_prompt.ts";
import { glmFunctionTool } from "../chat/tools.ts";
import type { Config } from "../core/config.ts";
import { invalidField } from "../core/errors.ts";
import {
  isObject,
  optionalBoolean,
  optionalPositiveInt,
  requiredString,
} from "../core/json_body.ts";
import { type ModelInfo, resolveModel } from "../core/models.ts";
import { glmInput } from "./input.ts";

type Json = Record<string, unknown>;

/** A Responses plan: the chat plan plus what the answer's rendering needs. */
export interface ResponsesPlan extends ChatPlan {
  /** The namespace of each function tool that came inside a `namespace` tool, by name. */
  namespaces: Map<string, string>;
  /** Input item types GLM has no place for, dropped. */
  dropped: string[];
}

const EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

function optionalObject(body: Json, field: string): Json | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidField(field, `${field} must be an object`);
  return value;
}

/** Function tools (namespaces flattened); the tools GLM cannot run (web_search, custom, …) are dropped. */
function glmTools(tools: unknown, namespaces: Map<string, string>): Json[] {
  if (!Array.isArray(tools)) throw invalidField("tools", "tools must be an array");
  const out: Json[] = [];
  const add = (tool: unknown, path: string, namespace?: string) => {
    if (!isObject(tool)) throw invalidField(path, `${path} must be an object`);
    if (tool.type === "namespace" && namespace === undefined) {
      const name = requiredString(tool, "name", `${path}.name`);
      if (!Array.isArray(tool.tools)) {
        throw invalidField(`${path}.tools`, `${path}.tools must be an array`);
      }
      tool.tools.forEach((inner, j) => add(inner, `${path}.tools[${j}]`, name));
      return;
    }
    if (tool.type !== "function") return;
    out.push(glmFunctionTool(tool.name, tool.description, tool.parameters, path));
    if (namespace !== undefined && !namespaces.has(tool.name as string)) {
      namespaces.set(tool.name as string, namespace);
    }
  };
  tools.forEach((tool, i) => add(tool, `tools[${i}]`));
  if (out.length > 128) {
    throw invalidField("tools", "tools may hold at most 128 function tools (GLM's limit)");
  }
  return out;
}

/** The tool a `tool_choice` forces: a function's name, `true` for `required`, else undefined. */
function forcedTool(choice: unknown): string | true | undefined {
  if (choice === undefined || choice === null || choice === "auto" || choice === "none") return;
  if (choice === "required") return true;
  if (typeof choice === "string") {
    throw invalidField("tool_choice", "tool_choice must be auto, none, required or an object");
  }
  if (!isObject(choice)) {
    throw invalidField("tool_choice", "tool_choice must be a string or an object");
  }
  if (choice.type !== "function") return undefined;
  return typeof choice.name === "string" && choice.name ? choice.name : true;
}

function thinking(body: Json, info: ModelInfo | undefined): Json | undefined {
  const effort = optionalObject(body, "reasoning")?.effort;
  if (effort === undefined || effort === null) return undefined;
  if (typeof effort !== "string" || !EFFORTS.includes(effort)) {
    throw invalidField("reasoning.effort", `reasoning.effort must be one of ${EFFORTS.join(", ")}`);
  }
  if (info && !info.thinking) return undefined;
  return { type: effort === "none" || effort === "minimal" ? "disabled" : "enabled" };
}

/** `text.format` → GLM's `json_object`, and the schema the model must be told about. */
function textFormat(body: Json): PromptDemands["jsonSchema"] | "json_object" | undefined {
  const format = optionalObject(body, "text")?.format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format) || typeof format.type !== "string") {
    throw invalidField("text.format", "text.format must be an object with a type");
  }
  if (format.type === "text") return undefined;
  if (format.type === "json_object") return "json_object";
  if (format.type !== "json_schema") {
    throw invalidField(
      "text.format.type",
      "text.format.type must be text, json_object or json_schema",
    );
  }
  if (!isObject(format.schema)) {
    throw invalidField("text.format.schema", "text.format.schema must be a JSON Schema object");
  }
  return { schema: format.schema, name: typeof format.name === "string" ? format.name : undefined };
}

/** Validates and translates a Responses request; 400 naming the field on bad input. */
export function planResponses(body: Json, config: Readonly<Config>): ResponsesPlan {
  const model = resolveModel(requiredString(body, "model"), config.modelAliases);
  const { info } = model;
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw invalidField(
      "previous_response_id",
      "previous_response_id is not supported: this gateway stores no responses; send the whole conversation in input",
    );
  }
  const stream = optionalBoolean(body, "stream") ?? false;
  const { messages, dropped } = glmInput(body.instructions, body.input, {
    model: model.requested,
    info,
  });
  const glm: Json = { model: model.upstream, messages, stream };
  const maxTokens = optionalPositiveInt(body, "max_output_tokens");
  Object.assign(glm, glmSampling(body, { maxTemperature: 2, maxTokens, config, info }));

  const demands: PromptDemands = {};
  const format = textFormat(body);
  if (format) glm.response_format = { type: "json_object" };
  if (format && format !== "json_object") demands.jsonSchema = format;

  const namespaces = new Map<string, string>();
  const forced = forcedTool(body.tool_choice);
  if (body.tools !== undefined && body.tools !== null && body.tool_choice !== "none") {
    const tools = glmTools(body.tools, namespaces);
    if (tools.length) {
      glm.tools = tools;
      glm.tool_choice = "auto";
      if (stream && info?.toolStream) glm.tool_stream = true;
      demands.forcedTool = forced;
    }
  }
  glm.messages = withPromptDemands(messages, demands);
  const glmThinking = thinking(body, info);
  if (glmThinking) glm.thinking = glmThinking;
  const userId = glmUserId(body.user);
  if (userId) glm.user_id = userId;
  return { glm, stream, model, stopSequences: [], namespaces, dropped };
}
