/** The GLM vocabulary every folder shares: the request body, the events of an answer, its usage. */

import type { ApiError } from "./errors.ts";

/** A GLM chat request body (OpenAI-style with GLM extensions). */
export type GlmRequest = Record<string, unknown>;

/** Token counts of one upstream call, as Z.ai reported them or as the gateway estimated them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** The gateway's estimate: the upstream sent no usage (e.g. the gateway cut the answer). */
  estimated?: boolean;
}

/** A usage event. */
export type UsageEvent = Extract<GlmEvent, { type: "usage" }>;

/** Why the model stopped, in GLM's terms plus the gateway's own `stop_sequence`. */
export type FinishReason =
  | "stop"
  | "tool_calls"
  | "length"
  | "sensitive"
  | "model_context_window_exceeded"
  | "stop_sequence";

/** One step of a model's answer, independent of any client dialect. */
export type GlmEvent =
  | { type: "reasoning"; text: string }
  | { type: "text"; text: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_args"; index: number; json: string }
  | ({ type: "usage" } & Usage)
  | { type: "finish"; reason: FinishReason; stopSequence?: string }
  | { type: "error"; error: ApiError };

/** Characters the model produced in an event (for estimates when Z.ai sends no usage). */
export function outputLength(event: GlmEvent): number {
  switch (event.type) {
    case "text":
    case "reasoning":
      return event.text.length;
    case "tool_call_args":
      return event.json.length;
    case "tool_call_start":
      return event.name.length;
    default:
      return 0;
  }
}
