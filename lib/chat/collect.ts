/** Events of a whole answer gathered into one value, for non-streaming responses. */

import type { ApiError } from "../core/errors.ts";
import type { FinishReason, GlmEvent } from "../core/glm.ts";

/** One tool call of a collected answer. */
export interface CollectedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A whole answer. */
export interface CollectedAnswer {
  reasoning: string;
  text: string;
  toolCalls: CollectedToolCall[];
  finish: FinishReason;
  stopSequence?: string;
  usage?: Extract<GlmEvent, { type: "usage" }>;
}

/** Gathers events into an answer; throws the ApiError of an error event. */
export function collectAnswer(events: Iterable<GlmEvent>): CollectedAnswer {
  const answer: CollectedAnswer = { reasoning: "", text: "", toolCalls: [], finish: "stop" };
  const byIndex = new Map<number, CollectedToolCall>();
  for (const event of events) {
    switch (event.type) {
      case "reasoning":
        answer.reasoning += event.text;
        break;
      case "text":
        answer.text += event.text;
        break;
      case "tool_call_start": {
        const call = { id: event.id, name: event.name, arguments: "" };
        byIndex.set(event.index, call);
        answer.toolCalls.push(call);
        break;
      }
      case "tool_call_args": {
        const call = byIndex.get(event.index);
        if (call) call.arguments += event.json;
        break;
      }
      case "usage":
        answer.usage = event;
        break;
      case "finish":
        answer.finish = event.reason;
        answer.stopSequence = event.stopSequence;
        break;
      case "error":
        throw event.error as ApiError;
    }
  }
  return answer;
}
