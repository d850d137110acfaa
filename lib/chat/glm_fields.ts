/** Request fields every dialect sends GLM the same way: sampling, output length, end-user id. */

import { optionalNumber } from "../core/json_body.ts";
import type { Config } from "../core/config.ts";
import type { ModelInfo } from "../core/models.ts";
import { sha256Hex } from "../core/crypto.ts";

/** What {@link glmSampling} needs besides the body. */
export interface SamplingOptions {
  /** Highest `temperature` the client's API allows (OpenAI 2, Anthropic 1); GLM's is 1. */
  maxTemperature: number;
  /** The `max_tokens` the client asked for, already validated. */
  maxTokens: number | undefined;
  config: Readonly<Config>;
  info?: ModelInfo;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * `temperature` and `top_p` clamped to GLM's ranges (0–1, 0.01–1), and `max_tokens` lowered to
 * `MAX_OUTPUT_TOKENS` and the model's own limit, never rejected for size; 400 naming a bad field.
 */
export function glmSampling(body: Record<string, unknown>, options: SamplingOptions) {
  const fields: { temperature?: number; top_p?: number; max_tokens?: number } = {};
  const temperature = optionalNumber(body, "temperature", 0, options.maxTemperature);
  if (temperature !== undefined) fields.temperature = clamp(temperature, 0, 1);
  const topP = optionalNumber(body, "top_p", 0, 1);
  if (topP !== undefined) fields.top_p = clamp(topP, 0.01, 1);
  if (options.maxTokens !== undefined) {
    fields.max_tokens = Math.min(
      options.maxTokens,
      options.config.maxOutputTokens,
      options.info?.maxOutputTokens ?? Infinity,
    );
  }
  return fields;
}

/** GLM's `user_id` from a client's end-user id: kept at 6–128 characters, longer ones hashed. */
export function glmUserId(user: unknown): string | undefined {
  if (typeof user !== "string" || user.length < 6) return undefined;
  return user.length <= 128 ? user : `u-${sha256Hex(user)}`;
}
