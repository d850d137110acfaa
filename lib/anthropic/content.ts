/** Anthropic `system`, messages and content blocks → GLM messages (wire-format notes, section 8). */

import { isObject, requiredString } from "../core/json_body.ts";
import { invalidField } from "../core/errors.ts";
import type { ModelInfo } from "../core/models.ts";

type Json = Record<string, unknown>;

/** What translating content needs to know besides the content. */
export interface ContentOptions {
  /** The model id the client sent, for error messages. */
  model: string;
  info?: ModelInfo;
  /** Whether a thinking block's signature is the gateway's own. */
  verifyThinking: (thinking: string, signature: unknown) => boolean;
}

const ROLES = new Set(["user", "assistant", "system"]);

function blocksOf(content: unknown, path: string): Json[] {
  if (!Array.isArray(content)) {
    throw invalidField(path, `${path} must be a string or an array of content blocks`);
  }
  return content.map((block, j) => {
    if (!isObject(block)) {
      throw invalidField(`${path}[${j}]`, `${path}[${j}] must be a content block object`);
    }
    return block;
  });
}

function badType(at: string, type: unknown, allowed: string) {
  return invalidField(
    `${at}.type`,
    `${at}.type ${JSON.stringify(type)} is not allowed here: use ${allowed}`,
  );
}

function textOf(block: Json, at: string): string {
  if (typeof block.text !== "string") {
    throw invalidField(`${at}.text`, `${at}.text must be a string`);
  }
  return block.text;
}

/** Text of a `system` value (string or text blocks); cache_control and citations are ignored. */
export function systemText(system: unknown, path: string): string {
  if (typeof system === "string") return system;
  return blocksOf(system, path).map((block, j) => {
    const at = `${path}[${j}]`;
    if (block.type !== "text") throw badType(at, block.type, "text");
    return textOf(block, at);
  }).filter((text) => text !== "").join("\n\n");
}

function noImages(at: string, options: ContentOptions) {
  return invalidField(
    at,
    `Model ${options.model} does not accept images (${at}): use a vision model such as glm-4.6v, or leave the image out`,
  );
}

function imagePart(block: Json, at: string): Json {
  const source = block.source;
  if (!isObject(source)) throw invalidField(`${at}.source`, `${at}.source must be an object`);
  if (source.type === "base64") {
    const mediaType = source.media_type;
    if (typeof mediaType !== "string" || !/^image\/[\w.+-]+$/i.test(mediaType)) {
      throw invalidField(`${at}.source.media_type`, `${at}.source.media_type must be image/…`);
    }
    if (typeof source.data !== "string" || source.data === "") {
      throw invalidField(`${at}.source.data`, `${at}.source.data must be base64 image data`);
    }
    return { type: "image_url", image_url: { url: `data:${mediaType};base64,${source.data}` } };
  }
  if (source.type === "url") {
    if (typeof source.url !== "string" || !/^https?:\/\//i.test(source.url)) {
      throw invalidField(`${at}.source.url`, `${at}.source.url must be an http(s) URL`);
    }
    return { type: "image_url", image_url: { url: source.url } };
  }
  throw invalidField(`${at}.source.type`, `${at}.source.type must be base64 or url`);
}

function documentText(block: Json, at: string): string {
  const source = block.source;
  if (isObject(source) && source.type === "text" && typeof source.data === "string") {
    return source.data;
  }
  if (isObject(source) && source.type === "content") {
    return typeof source.content === "string"
      ? source.content
      : systemText(source.content, `${at}.source.content`);
  }
  throw invalidField(
    `${at}.source`,
    `${at}.source: only text documents are supported (GLM reads no PDF here): send the text instead`,
  );
}

/** A tool_result's content as the text of a GLM tool message; its images go to `media`. */
function toolResultText(content: unknown, at: string, options: ContentOptions, media: Json[]) {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return blocksOf(content, at).map((block, j) => {
    const blockAt = `${at}[${j}]`;
    if (block.type === "text") return textOf(block, blockAt);
    if (block.type === "image") {
      const part = imagePart(block, blockAt);
      if (options.info && !options.info.vision) {
        return `(image omitted: model ${options.model} does not accept images)`;
      }
      media.push(part);
      return "(image attached in the next user message)";
    }
    if (block.type === "document") return documentText(block, blockAt);
    return typeof block.text === "string" ? block.text : "";
  }).filter((text) => text !== "").join("\n");
}

function toolMessage(block: Json, at: string, options: ContentOptions, media: Json[]): Json {
  const id = requiredString(block, "tool_use_id", `${at}.tool_use_id`);
  if (
    block.is_error !== undefined && block.is_error !== null && typeof block.is_error !== "boolean"
  ) {
    throw invalidField(`${at}.is_error`, `${at}.is_error must be true or false`);
  }
  const text = toolResultText(block.content, `${at}.content`, options, media);
  return { role: "tool", tool_call_id: id, content: block.is_error ? `[error] ${text}` : text };
}

function userContent(parts: Json[]): unknown {
  if (parts.every((part) => part.type === "text")) return parts.map((p) => p.text).join("\n\n");
  return parts;
}

/** A user message: its tool results become tool messages first, the rest one user message after. */
function userMessages(content: unknown, path: string, options: ContentOptions): Json[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const blocks = blocksOf(content, path);
  if (blocks.length === 0) throw invalidField(path, `${path} must not be empty`);
  const tools: Json[] = [];
  const parts: Json[] = [];
  const media: Json[] = [];
  blocks.forEach((block, j) => {
    const at = `${path}[${j}]`;
    switch (block.type) {
      case "text":
        parts.push({ type: "text", text: textOf(block, at) });
        break;
      case "image": {
        const part = imagePart(block, at);
        if (options.info && !options.info.vision) throw noImages(at, options);
        parts.push(part);
        break;
      }
      case "document":
        parts.push({ type: "text", text: documentText(block, at) });
        break;
      case "tool_result":
        tools.push(toolMessage(block, at, options, media));
        break;
      default:
        throw badType(at, block.type, "text, image, document or tool_result");
    }
  });
  parts.push(...media);
  return parts.length ? [...tools, { role: "user", content: userContent(parts) }] : tools;
}

function toolCall(block: Json, at: string): Json {
  const id = requiredString(block, "id", `${at}.id`);
  const name = requiredString(block, "name", `${at}.name`);
  const input = block.input ?? {};
  if (!isObject(input)) throw invalidField(`${at}.input`, `${at}.input must be an object`);
  return { id, type: "function", function: { name, arguments: JSON.stringify(input) } };
}

/** An assistant message: text, verified thinking as `reasoning_content`, tool_use as tool_calls. */
function assistantMessage(content: unknown, path: string, options: ContentOptions): Json {
  if (typeof content === "string") return { role: "assistant", content };
  const texts: string[] = [];
  const reasoning: string[] = [];
  const calls: Json[] = [];
  blocksOf(content, path).forEach((block, j) => {
    const at = `${path}[${j}]`;
    switch (block.type) {
      case "text":
        texts.push(textOf(block, at));
        break;
      case "thinking":
        if (typeof block.thinking !== "string") {
          throw invalidField(`${at}.thinking`, `${at}.thinking must be a string`);
        }
        if (options.verifyThinking(block.thinking, block.signature)) reasoning.push(block.thinking);
        break;
      case "redacted_thinking":
        break;
      case "tool_use":
        calls.push(toolCall(block, at));
        break;
      default:
        throw badType(at, block.type, "text, thinking, redacted_thinking or tool_use");
    }
  });
  const message: Json = { role: "assistant", content: texts.filter(Boolean).join("\n\n") };
  if (reasoning.length) message.reasoning_content = reasoning.join("\n\n");
  if (calls.length) message.tool_calls = calls;
  return message;
}

/** The GLM messages of a request: `system` first, then every message in order. */
export function glmMessages(system: unknown, messages: unknown[], options: ContentOptions): Json[] {
  const out: Json[] = [];
  if (system !== undefined && system !== null) {
    const text = systemText(system, "system");
    if (text) out.push({ role: "system", content: text });
  }
  messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (!isObject(message)) throw invalidField(path, `${path} must be an object`);
    if (typeof message.role !== "string" || !ROLES.has(message.role)) {
      throw invalidField(`${path}.role`, `${path}.role must be user, assistant or system`);
    }
    const at = `${path}.content`;
    if (message.content === undefined || message.content === null) {
      throw invalidField(at, `${at} is required`);
    }
    if (message.role === "user") out.push(...userMessages(message.content, at, options));
    else if (message.role === "assistant") out.push(assistantMessage(message.content, at, options));
    else out.push({ role: "system", content: systemText(message.content, at) });
  });
  return out;
}
