/** Events → the Responses API's SSE event sequence, the one Codex accepts (responses-api.md). */

import { encodeSse, type StreamRenderer } from "../chat/relay.ts";
import type { ApiError } from "../core/errors.ts";
import type { FinishReason, GlmEvent, UsageEvent } from "../core/glm.ts";
import {
  endOf,
  failureJson,
  functionCallItem,
  itemId,
  messageItem,
  reasoningItem,
  responseJson,
  type ResponsesRenderOptions,
  trimLeadingNewlines,
  usageJson,
} from "./response.ts";

type Json = Record<string, unknown>;

/** The reasoning or message item being written. */
interface OpenText {
  kind: "reasoning" | "message";
  index: number;
  id: string;
  text: string;
}

/** A function_call item being written. */
interface OpenCall {
  index: number;
  id: string;
  callId: string;
  name: string;
  arguments: string;
}

/**
 * Streams one response: `response.created`, then each output item as added → deltas → done, and
 * `response.completed` (or `.incomplete` / `.failed`) with every done item and the usage last.
 */
export class ResponsesStreamRenderer implements StreamRenderer {
  readonly #options: ResponsesRenderOptions;
  readonly #id = itemId("resp");
  #sequence = 0;
  /** Output items by output_index; undefined while an item is still being written. */
  #output: (Json | undefined)[] = [];
  #text?: OpenText;
  #calls = new Map<number, OpenCall>();
  #textStarted = false;
  #usage?: UsageEvent;

  constructor(options: ResponsesRenderOptions) {
    this.#options = options;
  }

  open(): string {
    return this.#event("response.created", { response: this.#response({}) });
  }

  render(event: GlmEvent): string {
    switch (event.type) {
      case "reasoning":
        return this.#delta("reasoning", event.text);
      case "text": {
        const text = this.#textStarted ? event.text : trimLeadingNewlines(event.text);
        if (!text) return "";
        this.#textStarted = true;
        return this.#delta("message", text);
      }
      case "tool_call_start":
        return this.#startCall(event.index, event.id, event.name);
      case "tool_call_args":
        return this.#callArguments(event.index, event.json);
      case "usage":
        this.#usage = event;
        return "";
      case "finish":
        return this.#finish(event.reason);
      case "error":
        return this.fail(event.error);
    }
  }

  keepalive(): string {
    return ": keepalive\n\n";
  }

  fail(error: ApiError): string {
    const failure = failureJson(error);
    const response = this.#response({ status: "failed", error: failure, usage: this.#usageJson() });
    return this.#event("response.failed", { response }) +
      this.#event("error", { code: failure.code, message: failure.message, param: null });
  }

  #event(type: string, data: Json): string {
    return encodeSse({ type, sequence_number: this.#sequence++, ...data }, type);
  }

  #response(fields: Json): Json {
    const done = this.#output.filter((item): item is Json => item !== undefined);
    return responseJson(this.#id, this.#options, done, fields);
  }

  #usageJson(): Json | null {
    return this.#usage ? usageJson(this.#usage) : null;
  }

  /** A reasoning or text delta, opening its item first (and closing whatever else is open). */
  #delta(kind: OpenText["kind"], delta: string): string {
    let out = "";
    if (this.#text?.kind !== kind) {
      out += this.#closeAll();
      const index = this.#output.length;
      this.#output.push(undefined);
      const open = this.#text = {
        kind,
        index,
        id: itemId(kind === "message" ? "msg" : "rs"),
        text: "",
      };
      const at = { item_id: open.id, output_index: index };
      out += kind === "reasoning"
        ? this.#event("response.output_item.added", {
          output_index: index,
          item: { id: open.id, type: "reasoning", summary: [] },
        }) + this.#event("response.reasoning_summary_part.added", {
          ...at,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        })
        : this.#event("response.output_item.added", {
          output_index: index,
          item: {
            id: open.id,
            type: "message",
            role: "assistant",
            status: "in_progress",
            content: [],
          },
        }) + this.#event("response.content_part.added", {
          ...at,
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [] },
        });
    }
    const open = this.#text!;
    open.text += delta;
    const at = { item_id: open.id, output_index: open.index };
    return out +
      (kind === "reasoning"
        ? this.#event("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta })
        : this.#event("response.output_text.delta", { ...at, content_index: 0, delta }));
  }

  #closeText(): string {
    const open = this.#text;
    if (!open) return "";
    this.#text = undefined;
    const at = { item_id: open.id, output_index: open.index };
    if (open.kind === "reasoning") {
      const item = this.#output[open.index] = reasoningItem(open.id, open.text);
      return this.#event("response.reasoning_summary_text.done", {
        ...at,
        summary_index: 0,
        text: open.text,
      }) + this.#event("response.reasoning_summary_part.done", {
        ...at,
        summary_index: 0,
        part: { type: "summary_text", text: open.text },
      }) + this.#event("response.output_item.done", { output_index: open.index, item });
    }
    const item = this.#output[open.index] = messageItem(open.id, open.text);
    return this.#event("response.output_text.done", {
      ...at,
      content_index: 0,
      text: open.text,
    }) + this.#event("response.content_part.done", {
      ...at,
      content_index: 0,
      part: { type: "output_text", text: open.text, annotations: [] },
    }) + this.#event("response.output_item.done", { output_index: open.index, item });
  }

  #startCall(glmIndex: number, callId: string, name: string): string {
    const out = this.#closeText();
    const call = { index: this.#output.length, id: itemId("fc"), callId, name, arguments: "" };
    this.#output.push(undefined);
    this.#calls.set(glmIndex, call);
    return out + this.#event("response.output_item.added", {
      output_index: call.index,
      item: functionCallItem(call.id, call, this.#options, "in_progress"),
    });
  }

  #callArguments(glmIndex: number, delta: string): string {
    const call = this.#calls.get(glmIndex);
    if (!call) return "";
    call.arguments += delta;
    return this.#event("response.function_call_arguments.delta", {
      item_id: call.id,
      output_index: call.index,
      delta,
    });
  }

  /** Closes the open text and every open call, in output order. */
  #closeAll(): string {
    let out = this.#closeText();
    for (const call of this.#calls.values()) {
      const item = this.#output[call.index] = functionCallItem(call.id, call, this.#options);
      out += this.#event("response.function_call_arguments.done", {
        item_id: call.id,
        output_index: call.index,
        arguments: call.arguments,
      }) + this.#event("response.output_item.done", { output_index: call.index, item });
    }
    this.#calls.clear();
    return out;
  }

  #finish(reason: FinishReason): string {
    const out = this.#closeAll();
    const end = endOf(reason);
    const type = end.status === "completed"
      ? "response.completed"
      : end.status === "incomplete"
      ? "response.incomplete"
      : "response.failed";
    const response = this.#response({ ...end, usage: this.#usageJson() });
    return out + this.#event(type, { response });
  }
}
