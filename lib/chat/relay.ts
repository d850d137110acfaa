/** Pipes events to a client as SSE: no buffering, keepalives while upstream is silent, abort on disconnect. */

import type { ApiError } from "../core/errors.ts";
import { type GlmEvent, outputLength } from "../upstream/decode.ts";

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

/** A usage event. */
export type UsageEvent = Extract<GlmEvent, { type: "usage" }>;

/** What {@link relayStream} needs besides the events. */
export interface RelayOptions {
  keepaliveMs: number;
  /** Stops the upstream request (client gone, or the answer is complete). */
  abortUpstream: () => void;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd: (outcome: RelayOutcome) => void;
  /** The usage to report before a finish that came without any (e.g. an answer cut locally). */
  estimateUsage: (outputChars: number) => UsageEvent;
  /** The client's request signal: a client gone before the first write counts as cancelled. */
  signal?: AbortSignal;
}

const TIMED_OUT = Symbol("timed out");
const utf8 = new TextEncoder();
/** Longest wait for the first event before the response headers go out without it. */
const FIRST_WRITE_WAIT_MS = 1000;

/**
 * A byte stream of the rendered events, ending after a finish or an error. Resolves once the
 * first event is rendered (or after a short wait without one), so that the response headers, the
 * opening text and the first event leave in one write. After that, each event is written as it
 * comes, and one timer per stream sends a keepalive whenever the client has waited `keepaliveMs`
 * for the next event (no timer per event).
 */
export async function relayStream(
  source: AsyncIterable<GlmEvent>,
  renderer: StreamRenderer,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  const events = source[Symbol.asyncIterator]();
  const outcome: RelayOutcome = { outputChars: 0, cancelled: false };
  let pending: Promise<IteratorResult<GlmEvent>> | undefined;
  let ended = false;
  let keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(keepaliveTimer);
    options.abortUpstream();
    options.onEnd(outcome);
  };
  const cancel = () => {
    outcome.cancelled = true;
    end();
    events.return?.(undefined).catch(() => {});
  };
  /** The SSE text of one result, and whether it was the last. */
  const render = (result: IteratorResult<GlmEvent>): { text: string; last: boolean } => {
    pending = undefined;
    if (result.done) return { text: "", last: true };
    const event = result.value;
    outcome.outputChars += outputLength(event);
    if (event.type === "error") {
      outcome.error = event.error;
      return { text: renderer.fail(event.error), last: true };
    }
    if (event.type === "usage") outcome.usage = event;
    if (event.type !== "finish") return { text: renderer.render(event), last: false };
    // Renderers always see usage before the finish.
    const usage = outcome.usage ? "" : renderer.render(
      outcome.usage = options.estimateUsage(outcome.outputChars),
    );
    return { text: usage + renderer.render(event), last: true };
  };

  // The opening text, and the first event if it comes within the first write's wait.
  const firstWait = Math.min(options.keepaliveMs, FIRST_WRITE_WAIT_MS);
  let head = renderer.open();
  let closed = false;
  let failure: { error: unknown } | undefined;
  // One timer per stream: it first bounds the wait for the first event, then sends keepalives.
  let stopWaiting: ((timedOut: typeof TIMED_OUT) => void) | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => stopWaiting = resolve);
  keepaliveTimer = setTimeout(() => {
    keepaliveTimer = undefined;
    if (stopWaiting) stopWaiting(TIMED_OUT);
    else keepaliveTick();
  }, firstWait);
  try {
    while (true) {
      const result = await Promise.race([pending ??= events.next(), timedOut]);
      if (result === TIMED_OUT) {
        if (firstWait === options.keepaliveMs) head += renderer.keepalive();
        break;
      }
      if (options.signal?.aborted) {
        cancel();
        return new ReadableStream({ start: (controller) => controller.close() });
      }
      const { text, last } = render(result);
      head += text;
      if (last) {
        end();
        closed = true;
        break;
      }
      if (text) break;
    }
  } catch (error) {
    failure = { error };
  }
  stopWaiting = undefined;

  /** When the client last got bytes, and whether it is waiting for more (a pull is running). */
  let lastWrite = performance.now();
  let waiting = false;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  const send = (text: string) => {
    controller.enqueue(utf8.encode(text));
    lastWrite = performance.now();
  };
  const keepaliveTick = () => {
    if (ended) return;
    if (waiting && performance.now() - lastWrite >= options.keepaliveMs) send(renderer.keepalive());
    // Not waiting (the client is not reading yet): look again a whole interval later.
    const due = lastWrite + options.keepaliveMs - performance.now();
    keepaliveTimer = setTimeout(keepaliveTick, due > 0 ? due : options.keepaliveMs);
  };

  return new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      send(head);
      if (closed) controller.close();
      else if (failure) clearTimeout(keepaliveTimer);
      // The first wait ran out: keepalives from now on.
      else keepaliveTimer ??= setTimeout(keepaliveTick, options.keepaliveMs);
    },
    async pull() {
      if (failure) {
        end();
        throw failure.error;
      }
      waiting = true;
      try {
        while (true) {
          const { text, last } = render(await (pending ??= events.next()));
          if (text) send(text);
          if (last) {
            end();
            controller.close();
            return;
          }
          if (text) return;
        }
      } catch (error) {
        end();
        throw error;
      } finally {
        waiting = false;
      }
    },
    cancel,
  }, { highWaterMark: 0 });
}
