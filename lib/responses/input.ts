/** Responses `instructions` and `input` items → GLM messages (responses-api.md, "Request → GLM"). */

import { isObject } from "../core/json_body.ts";
import { invalidField } from "../core/errors.ts";
import type { ModelInfo } from "../core/models.ts";

type Json = Record<string, unknown>;

/** What translating the input needs besides the input. */
export interface InputOptions {
  /** The model id the client sent, for error messages. */
  model: string;
  info?: ModelInfo;
}

/** The GLM messages, and the types of the input items GLM has no place for (dropped). */
export interface GlmInput {
  messages: Json[];
  dropped: string[];
}

const TEXT_PARTS = new Set(["input_text", "output_text", "text", "refusal", "summary_text"]);
const MESSAGE_ROLES = new Set(["user", "system", "developer", "assistant"]);

function partsOf(content: unknown, path: string): Json[] {
  if (typeof content === "string") return [{ type: "input_text", text: content }];
  if (!Array.isArray(content)) {
    throw invalidField(path, `${path} must be a string or an array of content parts`);
  }
  return content.map((part, j) => {
    if (!isObject(part)) throw invalidField(`${path}[${j}]`, `${path}[${j}] must be an object`);
    return part;
  });
}

function partText(part: Json, at: string): string {
  const text = part.type === "refusal" ? part.refusal ?? part.text : part.text;
  if (typeof text !== "string") throw invalidField(`${at}.text`, `${at}.text must be a string`);
  return text;
}

/** The text of text-only content (parts joined by a blank line). */
function textOf(content: unknown, path: string): string {
  return partsOf(content, path).map((part, j) => {
    const at = `${path}[${j}]`;
    if (!TEXT_PARTS.has(part.type as string)) {
      throw invalidField(
        `${at}.type`,
        `${at} has type ${JSON.stringify(part.type)}: only text parts are allowed here`,
      );
    }
    return partText(part, at);
  }).join("\n\n");
}

function imageUrl(part: Json, at: string): string {
  const image = part.image_url;
  const url = typeof image === "string" ? image : isObject(image) ? image.url : undefined;
  if (typeof url !== "string" || !/^(https?:|data:image\/)/i.test(url)) {
    throw invalidField(
      `${at}.image_url`,
      `${at}.image_url must be an http(s) URL or a data:image/… URL (file ids are not supported)`,
    );
  }
  return url;
}

/** A user message's content: a string, or text and image_url parts when it has images. */
function userContent(content: unknown, path: string, options: InputOptions): unknown {
  const parts = partsOf(content, path).map((part, j) => {
    const at = `${path}[${j}]`;
    if (part.type === "input_image") {
      return { type: "image_url", image_url: { url: imageUrl(part, at) } };
    }
    if (TEXT_PARTS.has(part.type as string)) return { type: "text", text: partText(part, at) };
    throw invalidField(
      `${at}.type`,
      `${at} has unsupported type ${JSON.stringify(part.type)}: use input_text or input_image`,
    );
  });
  if (!parts.some((part) => part.type === "image_url")) {
    return parts.map((part) => (part as { text: string }).text).join("\n\n");
  }
  if (options.info && !options.info.vision) {
    throw invalidField(
      path,
      `Model ${options.model} does not accept images: use a vision model such as glm-4.6v`,
    );
  }
  return parts;
}

function requiredText(item: Json, field: string, at: string): string {
  const value = item[field];
  if (typeof value !== "string" || value === "") {
    throw invalidField(`${at}.${field}`, `${at}.${field} is required and must be a string`);
  }
  return value;
}

function reasoningText(item: Json, at: string): string {
  const summary = item.summary === undefined || item.summary === null
    ? ""
    : textOf(item.summary, `${at}.summary`);
  if (summary || item.content === undefined || item.content === null) return summary;
  return partsOf(item.content, `${at}.content`).map((part) => String(part.text ?? "")).join("");
}

function outputText(output: unknown, at: string): string {
  if (typeof output === "string") return output;
  if (!Array.isArray(output)) {
    throw invalidField(`${at}.output`, `${at}.output must be a string or an array of parts`);
  }
  // Text parts are kept; images a tool returned have no place in a GLM tool message.
  return output.filter((part) => isObject(part) && typeof part.text === "string")
    .map((part) => (part as { text: string }).text).join("\n\n");
}

/** Translates `instructions` and `input`; 400 naming the field on bad input. */
export function glmInput(instructions: unknown, input: unknown, options: InputOptions): GlmInput {
  const messages: Json[] = [];
  const dropped: string[] = [];
  if (instructions !== undefined && instructions !== null) {
    if (typeof instructions !== "string") {
      throw invalidField("instructions", "instructions must be a string");
    }
    if (instructions) messages.push({ role: "system", content: instructions });
  }
  if (typeof input === "string" && input !== "") {
    messages.push({ role: "user", content: input });
    return { messages, dropped };
  }
  if (!Array.isArray(input) || input.length === 0) {
    throw invalidField(
      "input",
      "input is required: a non-empty string or a non-empty array of input items",
    );
  }
  let reasoning = "";
  /** The assistant message function_call items join while nothing else comes between. */
  let assistant: Json | undefined;
  const newAssistant = (content: string) => {
    assistant = { role: "assistant", content };
    if (reasoning) assistant.reasoning_content = reasoning;
    reasoning = "";
    messages.push(assistant);
    return assistant;
  };
  input.forEach((item, i) => {
    const at = `input[${i}]`;
    if (!isObject(item)) throw invalidField(at, `${at} must be an object`);
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    if (type === "message") {
      const role = item.role;
      if (typeof role !== "string" || !MESSAGE_ROLES.has(role)) {
        throw invalidField(`${at}.role`, `${at}.role must be user, system, developer or assistant`);
      }
      const path = `${at}.content`;
      if (role === "assistant") return newAssistant(textOf(item.content, path));
      assistant = undefined;
      if (role === "user") {
        messages.push({ role, content: userContent(item.content, path, options) });
      } else messages.push({ role: "system", content: textOf(item.content, path) });
    } else if (type === "reasoning") {
      assistant = undefined;
      reasoning += reasoningText(item, at);
    } else if (type === "function_call") {
      const args = item.arguments;
      const call = {
        id: requiredText(item, "call_id", at),
        type: "function",
        function: {
          name: requiredText(item, "name", at),
          arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
        },
      };
      const target = assistant ?? newAssistant("");
      target.tool_calls = [...(target.tool_calls as Json[] ?? []), call];
    } else if (type === "function_call_output") {
      assistant = undefined;
      const tool_call_id = requiredText(item, "call_id", at);
      messages.push({ role: "tool", tool_call_id, content: outputText(item.output, at) });
    } else {
      dropped.push(typeof type === "string" ? type : "untyped");
    }
  });
  return { messages, dropped };
}
