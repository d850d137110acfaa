/** Anthropic's legacy Text Completions (`/v1/complete`): `\n\nHuman:`/`\n\nAssistant:` prompts. */

import { stopSequences } from "./request.ts";
import {
  isObject,
  optionalBoolean,
  optionalNumber,
  optionalPositiveInt,
  requiredString,
} from "../core/json_body.ts";
import { glmSampling, glmUserId } from "../chat/glm_fields.ts";
import type { ChatPlan } from "../chat/plan.ts";
import type { CollectedAnswer } from "../chat/collect.ts";
import type { Config } from "../core/config.ts";
import { type ApiError, errorBody, invalidField } from "../core/errors.ts";
import type { FinishReason, GlmEvent } from "../core/glm.ts";
import { resolveModel } from "../core/models.ts";
import type { StreamRenderer } from "../chat/relay.ts";
import { randomBase62 } from "../core/crypto.ts";
import { encodeSse } from "../chat/relay.ts";

type Json = Record<string, unknown>;

const HUMAN = "\n\nHuman:";
const TURN = /\n\n(Human|Assistant):/;

/** The legacy API stops at the next human turn even when not asked to. */
const IMPLICIT_STOP = HUMAN;

function malformed(why: string): ApiError {
  return invalidField(
    "prompt",
    `prompt is malformed: ${why} (expected "\\n\\nHuman: …\\n\\nAssistant:")`,
  );
}

/** The chat messages of a legacy prompt; text after the last `\n\nAssistant:` is a prefill. */
export function promptMessages(prompt: string): Json[] {
  if (!prompt.startsWith(HUMAN)) throw malformed('it must start with "\\n\\nHuman:"');
  const pieces = prompt.split(TURN); // ["", role, text, role, text, …]
  const messages: Json[] = [];
  for (let i = 1; i < pieces.length; i += 2) {
    const role = pieces[i] === "Human" ? "user" : "assistant";
    messages.push({ role, content: pieces[i + 1].trim() });
  }
  const last = messages.at(-1)!;
  if (last.role !== "assistant") throw malformed('it must end with "\\n\\nAssistant:"');
  if (last.content === "") messages.pop();
  return messages;
}

/** Validates and translates a `/v1/complete` request; thinking is switched off upstream. */
export function planComplete(body: Json, config: Readonly<Config>): ChatPlan {
  const model = resolveModel(requiredString(body, "model"), config.modelAliases);
  const prompt = requiredString(body, "prompt");
  const maxTokens = optionalPositiveInt(body, "max_tokens_to_sample");
  if (maxTokens === undefined) {
    throw invalidField("max_tokens_to_sample", "max_tokens_to_sample is required");
  }
  const stream = optionalBoolean(body, "stream") ?? false;
  const glm: Json = {
    model: model.upstream,
    messages: promptMessages(prompt),
    stream,
    ...glmSampling(body, { maxTemperature: 1, maxTokens, config, info: model.info }),
  };
  if (model.info?.thinking ?? true) glm.thinking = { type: "disabled" };
  optionalNumber(body, "top_k", 0, Number.MAX_SAFE_INTEGER);
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw invalidField("metadata", "metadata must be an object");
  }
  const userId = glmUserId(isObject(metadata) ? metadata.user_id : undefined);
  if (userId) glm.user_id = userId;
  const stops = [...new Set([...stopSequences(body.stop_sequences), IMPLICIT_STOP])];
  return { glm, stream, model, stopSequences: stops };
}

function legacyStopReason(finish: FinishReason): string {
  return finish === "length" || finish === "model_context_window_exceeded"
    ? "max_tokens"
    : "stop_sequence";
}

function completionId(): string {
  return `compl_${randomBase62(24)}`;
}

/** The non-streaming completion body; reasoning and tool calls are never part of it. */
export function completionJson(answer: CollectedAnswer, model: string): Json {
  return {
    type: "completion",
    id: completionId(),
    completion: answer.text,
    stop_reason: legacyStopReason(answer.finish),
    stop: answer.finish === "stop_sequence" ? answer.stopSequence ?? null : null,
    model,
  };
}

/** Streams `event: completion` deltas, then a final one carrying the stop reason. */
export class CompletionStreamRenderer implements StreamRenderer {
  readonly #model: string;
  readonly #id = completionId();

  constructor(model: string) {
    this.#model = model;
  }

  open(): string {
    return this.keepalive();
  }

  render(event: GlmEvent): string {
    if (event.type === "text") return this.#completion(event.text, null, null);
    if (event.type === "error") return this.fail(event.error);
    if (event.type !== "finish") return "";
    const stop = event.reason === "stop_sequence" ? event.stopSequence ?? null : null;
    return this.#completion("", legacyStopReason(event.reason), stop);
  }

  keepalive(): string {
    return encodeSse({ type: "ping" }, "ping");
  }

  fail(error: ApiError): string {
    return encodeSse(errorBody(error, "anthropic"), "error");
  }

  #completion(completion: string, stopReason: string | null, stop: string | null): string {
    const data: Json = {
      type: "completion",
      id: this.#id,
      completion,
      stop_reason: stopReason,
      model: this.#model,
    };
    if (stopReason !== null) data.stop = stop;
    return encodeSse(data, "completion");
  }
}
