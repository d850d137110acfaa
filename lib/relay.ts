/** Pipes events to a client as SSE: no buffering, keepalives while upstream is silent, abort on disconnect. */

import type { ApiError } from "./errors.ts";
import type { GlmEvent } from "./glm_events.ts";

/** Turns events into one dialect's SSE text. */
export interface StreamRenderer {
  /** Bytes sent before any event (e.g. the role chunk, message_start). */
  open(): string;
  /** SSE text for one event; a finish event's text ends the stream. */
  render(event: GlmEvent): string;
  /** A comment or ping sent while upstream is silent. */
  keepalive(): string;
  /** An in-stream error; the stream ends after it. */
  fail(error: ApiError): string;
}

/** How a relayed stream ended. */
export interface RelayOutcome {
  usage?: Extract<GlmEvent, { type: "usage" }>;
  /** Estimated tokens of everything the model produced so far. */
  outputChars: number;
  error?: ApiError;
  /** The client went away before the end. */
  cancelled: boolean;
}

/** What {@link relayStream} needs besides the events. */
export interface RelayOptions {
  keepaliveMs: number;
  /** Stops the upstream request (client gone, or the answer is complete). */
  abortUpstream: () => void;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd: (outcome: RelayOutcome) => void;
}

const KEEPALIVE = Symbol("keepalive");

function outputLength(event: GlmEvent): number {
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

/** A byte stream of the rendered events, ending after a finish or an error. */
export function relayStream(
  events: AsyncIterator<GlmEvent>,
  renderer: StreamRenderer,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const outcome: RelayOutcome = { outputChars: 0, cancelled: false };
  let pending: Promise<IteratorResult<GlmEvent>> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    options.abortUpstream();
    options.onEnd(outcome);
  };
  const nextOrKeepalive = (): Promise<IteratorResult<GlmEvent> | typeof KEEPALIVE> => {
    pending ??= events.next();
    let timer: number | undefined;
    const tick = new Promise<typeof KEEPALIVE>((resolve) => {
      timer = setTimeout(() => resolve(KEEPALIVE), options.keepaliveMs);
    });
    return Promise.race([pending, tick]).finally(() => clearTimeout(timer));
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(renderer.open()));
    },
    async pull(controller) {
      while (true) {
        const result = await nextOrKeepalive();
        if (result === KEEPALIVE) {
          controller.enqueue(encoder.encode(renderer.keepalive()));
          return;
        }
        pending = undefined;
        if (result.done) {
          end();
          controller.close();
          return;
        }
        const event = result.value;
        outcome.outputChars += outputLength(event);
        if (event.type === "usage") outcome.usage = event;
        if (event.type === "error") outcome.error = event.error;
        const text = event.type === "error" ? renderer.fail(event.error) : renderer.render(event);
        if (text) controller.enqueue(encoder.encode(text));
        if (event.type === "error" || event.type === "finish") {
          end();
          controller.close();
          return;
        }
        if (text) return;
      }
    },
    cancel() {
      outcome.cancelled = true;
      end();
      events.return?.(undefined).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
