/** Pipes events to a client as SSE: no buffering, keepalives while upstream is silent, abort on disconnect. */

import type { ApiError } from "./errors.ts";
import { type GlmEvent, outputLength } from "./glm_events.ts";

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
  /** The client's request signal: a client gone before the first write counts as cancelled. */
  signal?: AbortSignal;
}

const KEEPALIVE = Symbol("keepalive");
/** Longest wait for the first event before the response headers go out without it. */
const FIRST_WRITE_WAIT_MS = 1000;

/**
 * A byte stream of the rendered events, ending after a finish or an error. Resolves once the
 * first event is rendered (or after a short wait without one), so that the response headers, the
 * opening text and the first event leave in one write: Deno.serve does not set TCP_NODELAY, and a
 * small write right behind the headers can otherwise wait up to 40 ms for the client's delayed ACK.
 */
export async function relayStream(
  events: AsyncIterator<GlmEvent>,
  renderer: StreamRenderer,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
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
  const cancel = () => {
    outcome.cancelled = true;
    end();
    events.return?.(undefined).catch(() => {});
  };
  const next = (waitMs: number): Promise<IteratorResult<GlmEvent> | typeof KEEPALIVE> => {
    pending ??= events.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<typeof KEEPALIVE>((resolve) => {
      timer = setTimeout(() => resolve(KEEPALIVE), waitMs);
    });
    return Promise.race([pending, tick]).finally(() => clearTimeout(timer));
  };
  /** The text of one result, and whether it was the last. */
  const render = (result: IteratorResult<GlmEvent>): { text: string; last: boolean } => {
    pending = undefined;
    if (result.done) return { text: "", last: true };
    const event = result.value;
    outcome.outputChars += outputLength(event);
    if (event.type === "usage") outcome.usage = event;
    if (event.type === "error") outcome.error = event.error;
    const text = event.type === "error" ? renderer.fail(event.error) : renderer.render(event);
    return { text, last: event.type === "error" || event.type === "finish" };
  };

  // The opening text, and the first event if it comes within the first write's wait.
  const started = performance.now();
  const firstWait = Math.min(options.keepaliveMs, FIRST_WRITE_WAIT_MS);
  let head = renderer.open();
  let closed = false;
  let failure: { error: unknown } | undefined;
  /** When the first pull's keepalive is due, if the wait for the first event ran out before it. */
  let keepaliveAt: number | undefined;
  try {
    while (true) {
      const result = await next(Math.max(0, started + firstWait - performance.now()));
      if (result === KEEPALIVE) {
        if (firstWait < options.keepaliveMs) keepaliveAt = started + options.keepaliveMs;
        else head += renderer.keepalive();
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

  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(head));
      if (closed) controller.close();
    },
    async pull(controller) {
      if (failure) throw failure.error;
      while (true) {
        const waitMs = keepaliveAt === undefined
          ? options.keepaliveMs
          : Math.max(0, keepaliveAt - performance.now());
        keepaliveAt = undefined;
        const result = await next(waitMs);
        if (result === KEEPALIVE) {
          controller.enqueue(encoder.encode(renderer.keepalive()));
          return;
        }
        const { text, last } = render(result);
        if (text) controller.enqueue(encoder.encode(text));
        if (last) {
          end();
          controller.close();
          return;
        }
        if (text) return;
      }
    },
    cancel,
  }, { highWaterMark: 0 });
}
