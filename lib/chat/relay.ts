/** Pipes events to a client as SSE: no buffering, keepalives while upstream is silent, abort on disconnect. */

import type { ApiError } from "../core/errors.ts";
import { type GlmEvent, outputLength, type UsageEvent } from "../core/glm.ts";

/** Turns events into one dialect's SSE text. */
export interface StreamRenderer {
  /** Text sent before any event (e.g. the role chunk, message_start). */
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
  usage?: UsageEvent;
  /** Characters the model produced so far (for estimates). */
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
  /**
   * Called exactly once when the stream ends, however it ends; before the client gets the last
   * event, so what it records counts by the time the client has the end.
   */
  onEnd: (outcome: RelayOutcome) => void;
  /** The usage to report before a finish that came without any (e.g. an answer cut locally). */
  estimateUsage: (outputChars: number) => UsageEvent;
  /** The client's request signal: its abort ends the stream as cancelled. */
  signal?: AbortSignal;
}

/** Encodes one `data:` message, with an `event:` line when named. */
export function encodeSse(data: unknown, event?: string): string {
  const json = typeof data === "string" ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

/** Response headers of an SSE stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
});

const utf8 = new TextEncoder();

/**
 * A byte stream of the rendered events, ending after a finish or an error. Events are pulled one
 * at a time as the client reads (backpressure reaches upstream); while the client waits and
 * upstream is silent for `keepaliveMs`, a keepalive goes out.
 */
export function relayStream(
  source: AsyncIterable<GlmEvent>,
  renderer: StreamRenderer,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const events = source[Symbol.asyncIterator]();
  const outcome: RelayOutcome = { outputChars: 0, cancelled: false };
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  let waiting = false;
  let lastWrite = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const send = (text: string) => {
    if (!text) return;
    controller.enqueue(utf8.encode(text));
    lastWrite = performance.now();
  };
  const tick = () => {
    if (waiting && performance.now() - lastWrite >= options.keepaliveMs) send(renderer.keepalive());
    const due = lastWrite + options.keepaliveMs - performance.now();
    timer = setTimeout(tick, due > 0 ? due : options.keepaliveMs);
  };
  const end = () => {
    if (ended) return false;
    ended = true;
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", abandon);
    options.abortUpstream();
    options.onEnd(outcome);
    return true;
  };
  /** The client left (the body was cancelled, or the request aborted). */
  function cancel() {
    outcome.cancelled = !ended;
    if (end()) events.return?.(undefined).catch(() => {});
  }
  const closeQuietly = () => {
    try {
      controller.close();
    } catch {
      // Already cancelled or closed.
    }
  };
  const abandon = () => {
    cancel();
    closeQuietly();
  };
  /** The SSE text of one event, and whether it ends the stream. */
  const render = (event: GlmEvent): { text: string; last: boolean } => {
    outcome.outputChars += outputLength(event);
    if (event.type === "error") {
      outcome.error = event.error;
      return { text: renderer.fail(event.error), last: true };
    }
    if (event.type === "usage") outcome.usage = event;
    if (event.type !== "finish") return { text: renderer.render(event), last: false };
    // Renderers always see usage before the finish.
    let text = "";
    if (!outcome.usage) {
      text = renderer.render(outcome.usage = options.estimateUsage(outcome.outputChars));
    }
    return { text: text + renderer.render(event), last: true };
  };

  return new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      if (options.signal?.aborted) return abandon();
      options.signal?.addEventListener("abort", abandon, { once: true });
      send(renderer.open());
      timer = setTimeout(tick, options.keepaliveMs);
    },
    async pull() {
      waiting = true;
      try {
        while (!ended) {
          const result = await events.next();
          if (ended) return closeQuietly();
          const { text, last } = result.done ? { text: "", last: true } : render(result.value);
          if (last) {
            end();
            send(text);
            controller.close();
            return;
          }
          if (text) return send(text);
        }
      } catch (error) {
        if (end()) controller.error(error);
      } finally {
        waiting = false;
      }
    },
    cancel,
  }, { highWaterMark: 0 });
}
