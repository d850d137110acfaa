/** THE model table: ids, budget weights, vision, thinking, output limits, tool streaming. */

import type { ModelAlias } from "./config.ts";

/** What the gateway knows about one GLM model. */
export interface ModelInfo {
  id: string;
  /** Budget multiplier applied to prompt + completion tokens. */
  weight: number;
  /** Accepts `image_url` parts. */
  vision: boolean;
  /** Supports GLM's `thinking` switch. */
  thinking: boolean;
  /** Streams tool-call arguments in fragments when asked (`tool_stream`). */
  toolStream: boolean;
  /** Largest `max_tokens` the model accepts. */
  maxOutputTokens: number;
  /** Approximate context window, in tokens. */
  contextWindow: number;
}

/** Weight of a model that is not in the table. */
export const UNKNOWN_MODEL_WEIGHT = 2;

const K = 1024;

function model(
  id: string,
  weight: number,
  traits: Partial<Omit<ModelInfo, "id" | "weight">> = {},
): ModelInfo {
  return {
    id,
    weight,
    vision: false,
    thinking: true,
    toolStream: false,
    maxOutputTokens: 128 * K,
    contextWindow: 200_000,
    ...traits,
  };
}

/** Every model the gateway lists, in display order. */
export const MODELS: readonly ModelInfo[] = Object.freeze([
  model("glm-5.1", 3, { toolStream: true }),
  model("glm-5", 3, { toolStream: true }),
  model("glm-5-turbo", 4, { toolStream: true }),
  model("glm-5-code", 5, { toolStream: true }),
  model("glm-4.7", 2, { toolStream: true }),
  model("glm-4.7-flash", 0.1, { toolStream: true }),
  model("glm-4.7-flashx", 0.5, { toolStream: true }),
  model("glm-4.6", 2, { toolStream: true }),
  model("glm-4.6v", 1, { vision: true, maxOutputTokens: 32 * K, contextWindow: 128_000 }),
  model("glm-4.6v-flash", 0.1, { vision: true, maxOutputTokens: 32 * K, contextWindow: 128_000 }),
  model("glm-4.6v-flashx", 0.5, { vision: true, maxOutputTokens: 32 * K, contextWindow: 128_000 }),
  model("glm-4.5", 2, { maxOutputTokens: 96 * K, contextWindow: 128_000 }),
  model("glm-4.5-air", 1, { maxOutputTokens: 96 * K, contextWindow: 128_000 }),
  model("glm-4.5-airx", 4, { maxOutputTokens: 96 * K, contextWindow: 128_000 }),
  model("glm-4.5-x", 8, { maxOutputTokens: 96 * K, contextWindow: 128_000 }),
  model("glm-4.5-flash", 0.1, { maxOutputTokens: 96 * K, contextWindow: 128_000 }),
  model("glm-4.5v", 2, { vision: true, maxOutputTokens: 16 * K, contextWindow: 64_000 }),
  model("glm-4-32b-0414-128k", 0.1, {
    thinking: false,
    maxOutputTokens: 16 * K,
    contextWindow: 128_000,
  }),
  model("glm-ocr", 0.1, { vision: true, thinking: false, maxOutputTokens: 16 * K }),
]);

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

/** Looks a model up by id, case-insensitively. */
export function findModel(id: string): ModelInfo | undefined {
  return BY_ID.get(id.toLowerCase());
}

/** The budget weight of a model id (unknown models weigh {@link UNKNOWN_MODEL_WEIGHT}). */
export function modelWeight(id: string): number {
  return findModel(id)?.weight ?? UNKNOWN_MODEL_WEIGHT;
}

/** A client's model id resolved to what is sent upstream. */
export interface ResolvedModel {
  /** The id the client sent, echoed in responses. */
  requested: string;
  /** The id sent to Z.ai (lower-case table id, alias target, or the client's id as is). */
  upstream: string;
  /** The table entry, when the model is known. */
  info?: ModelInfo;
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`).test(value);
}

/** Resolves a client model id through the table and `MODEL_ALIASES`. */
export function resolveModel(requested: string, aliases: readonly ModelAlias[]): ResolvedModel {
  const lower = requested.toLowerCase();
  let info = findModel(lower);
  if (!info) {
    const alias = aliases.find((a) => globMatches(a.pattern, lower));
    if (alias) {
      info = findModel(alias.target);
      return { requested, upstream: info?.id ?? alias.target, info };
    }
  }
  return { requested, upstream: info?.id ?? requested, info };
}
