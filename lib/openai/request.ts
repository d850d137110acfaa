/** OpenAI Chat Completions request → GLM request (wire-format notes, section 8). */

import {
  isObject,
  optionalBoolean,
  optionalPositiveInt,
  requiredString,
} from "../core/json_body.ts";
import { glmSampling, glmUserId } from "../chat/glm_fields.ts";
import type { ChatPlan } from "../chat/plan.ts";
import type { Config } from "../core/config.ts";
import { invalidField } from "../core/errors.ts";
import { type ModelInfo, resolveModel } from "../core/models.ts";
import { withPromptDemands } from "../chat/system_prompt.ts";
import { glmTools } from "../chat/tools.ts";
import { forcedTool, responseFormat } from "./output_format.ts";
import { wantsStream } from "./stream_default.ts";

type Json = Record<string, unknown>;

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);
const MEDIA_PARTS = new Set(["image_url", "video_url", "file"]);

function textOfParts(parts: unknown[], path: string): string {
  return parts.map((part, i) => {
    if (typeof part === "string") return part;
    if (!isObject(part)) {
      throw invalidField(`${path}[${i}]`, `${path}[${i}] must be a content part object`);
    }
    if (part.type === "text" && typeof part.text === "string") return part.text;
    if (part.type === "text") {
      throw invalidField(`${path}[${i}].text`, `${path}[${i}].text must be a string`);
    }
    throw invalidField(
      `${path}[${i}].type`,
      `${path}[${i}] has type ${JSON.stringify(part.type)}: only text parts are allowed here`,
    );
  }).join("");
}

function imagePart(part: Json, path: string): Json {
  const image = part.image_url;
  const url = typeof image === "string" ? image : isObject(image) ? image.url : undefined;
  if (typeof url !== "string" || !/^(https?:|data:image\/)/i.test(url)) {
    throw invalidField(
      `${path}.image_url.url`,
      `${path}.image_url.url must be an http(s) URL or a data:image/… URL`,
    );
  }
  return { type: "image_url", image_url: { url } };
}

function userContent(content: unknown, path: string, model: string, info?: ModelInfo): unknown {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) {
    throw invalidField(path, `${path} must be a string or an array of content parts`);
  }
  content.forEach((part, i) => {
    if (isObject(part) && part.type !== "text" && !MEDIA_PARTS.has(part.type as string)) {
      throw invalidField(
        `${path}[${i}].type`,
        `${path}[${i}] has unsupported type ${JSON.stringify(part.type)}: use text or image_url`,
      );
    }
  });
  const hasMedia = content.some((p) => isObject(p) && p.type !== "text");
  if (!hasMedia) return textOfParts(content, path);
  if (info && !info.vision) {
    throw invalidField(
      path,
      `Model ${model} does not accept images: use a vision model such as glm-4.6v`,
    );
  }
  return content.map((part, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) throw invalidField(at, `${at} must be a content part object`);
    if (part.type === "text") return { type: "text", text: textOfParts([part], path) };
    if (part.type === "image_url") return imagePart(part, at);
    if (part.type === "video_url" || part.type === "file") return part;
    throw invalidField(
      `${at}.type`,
      `${at} has unsupported type ${JSON.stringify(part.type)}: use text or image_url`,
    );
  });
}

function flatContent(content: unknown, path: string): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return textOfParts(content, path);
  throw invalidField(path, `${path} must be a string or an array of text parts`);
}

function assistantToolCalls(calls: unknown, path: string, messageIndex: number): Json[] {
  if (!Array.isArray(calls)) throw invalidField(path, `${path} must be an array`);
  return calls.map((call, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(call) || !isObject(call.function)) {
      throw invalidField(`${at}.function`, `${at}.function is required`);
    }
    const name = requiredString(call.function, "name", `${at}.function.name`);
    const args = call.function.arguments;
    const argumentsText = typeof args === "string" ? args : JSON.stringify(args ?? {});
    // A missing id gets one unique in the request and unlike the ids clients send.
    const id = typeof call.id === "string" && call.id ? call.id : `call_m${messageIndex}_${i}`;
    return { id, type: "function", function: { name, arguments: argumentsText } };
  });
}

function glmMessage(message: unknown, i: number, model: string, info?: ModelInfo): Json {
  const path = `messages[${i}]`;
  if (!isObject(message)) throw invalidField(path, `${path} must be an object`);
  const role = message.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw invalidField(
      `${path}.role`,
      `${path}.role must be one of system, developer, user, assistant, tool`,
    );
  }
  switch (role) {
    case "system":
    case "developer":
      return { role: "system", content: flatContent(message.content, `${path}.content`) };
    case "user":
      if (message.content === undefined || message.content === null) {
        throw invalidField(`${path}.content`, `${path}.content is required`);
      }
      return {
        role: "user",
        content: userContent(message.content, `${path}.content`, model, info),
      };
    case "tool":
      return {
        role: "tool",
        tool_call_id: requiredString(message, "tool_call_id", `${path}.tool_call_id`),
        content: flatContent(message.content, `${path}.content`),
      };
    default: {
      const out: Json = {
        role: "assistant",
        content: flatContent(message.content, `${path}.content`),
      };
      if (typeof message.reasoning_content === "string" && message.reasoning_content) {
        out.reasoning_content = message.reasoning_content;
      }
      if (message.tool_calls !== undefined && message.tool_calls !== null) {
        const calls = assistantToolCalls(message.tool_calls, `${path}.tool_calls`, i);
        if (calls.length) out.tool_calls = calls;
      }
      return out;
    }
  }
}

function stopList(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  if (typeof stop === "string") return stop ? [stop] : [];
  if (Array.isArray(stop) && stop.length <= 4 && stop.every((s) => typeof s === "string")) {
    return stop.filter((s) => s.length > 0);
  }
  throw invalidField("stop", "stop must be a string or an array of at most 4 strings");
}

function thinkingFor(body: Json, info: ModelInfo | undefined, glm: Json): void {
  const effort = body.reasoning_effort;
  if (effort === undefined || effort === null) return;
  const efforts = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];
  if (typeof effort !== "string" || !efforts.includes(effort)) {
    throw invalidField("reasoning_effort", `reasoning_effort must be one of ${efforts.join(", ")}`);
  }
  if (!info) {
    glm.reasoning_effort = effort;
    return;
  }
  if (!info.thinking) return;
  glm.thinking = { type: effort === "none" || effort === "minimal" ? "disabled" : "enabled" };
}

/** Options of an OpenAI chat plan beyond the GLM request. */
export interface OpenAIPlan extends ChatPlan {
  includeUsage: boolean;
}

/** Validates and translates an OpenAI chat request (`headers` decide a stream without `stream`). */
export function planOpenAIChat(
  body: Json,
  config: Readonly<Config>,
  headers: Headers,
): OpenAIPlan {
  const model = resolveModel(requiredString(body, "model"), config.modelAliases);
  const { info } = model;
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalidField("messages", "messages is required and must be a non-empty array");
  }
  const stream = wantsStream(optionalBoolean(body, "stream"), headers, config.defaultStream);
  const messages = body.messages.map((m, i) => glmMessage(m, i, model.requested, info));
  const glm: Json = { model: model.upstream, messages, stream };

  const maxTokens = optionalPositiveInt(body, "max_completion_tokens") ??
    optionalPositiveInt(body, "max_tokens");
  Object.assign(glm, glmSampling(body, { maxTemperature: 2, maxTokens, config, info }));
  const n = optionalPositiveInt(body, "n");
  if (n !== undefined && n > 1) {
    throw invalidField("n", "n greater than 1 is not supported by GLM: send n=1");
  }

  const stops = stopList(body.stop);
  if (stops.length) glm.stop = [stops[0]];
  const toolChoice = body.tool_choice;
  const { format, demands } = responseFormat(body.response_format);
  if (body.tools !== undefined && body.tools !== null && toolChoice !== "none") {
    const tools = glmTools(body.tools, "openai");
    if (tools.length) {
      glm.tools = tools;
      glm.tool_choice = "auto";
      if (stream && info?.toolStream) glm.tool_stream = true;
      demands.forcedTool = forcedTool(toolChoice);
    }
  }
  if (
    toolChoice !== undefined && toolChoice !== null && typeof toolChoice !== "string" &&
    !isObject(toolChoice)
  ) {
    throw invalidField("tool_choice", "tool_choice must be a string or an object");
  }
  thinkingFor(body, info, glm);
  if (
    isObject(body.thinking) &&
    (body.thinking.type === "enabled" || body.thinking.type === "disabled")
  ) {
    glm.thinking = { type: body.thinking.type };
  }
  if (format) glm.response_format = format;
  glm.messages = withPromptDemands(messages, demands);
  const userId = glmUserId(body.user);
  if (userId) glm.user_id = userId;

  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) {
    throw invalidField("stream_options", "stream_options must be an object");
  }
  const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true;
  return { glm, stream, model, stopSequences: stops, includeUsage };
}
