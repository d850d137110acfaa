/** Server-sent events from upstream: bytes → text → messages, with a bound on what one line holds. */

import { ApiError } from "../core/errors.ts";

/** One decoded SSE message. */
export interface SseMessage {
  event?: string;
  data: string;
}

/** The longest line, and the most data of one message, read from upstream: 16 Mi characters. */
export const MAX_SSE_LINE = 16 * 1024 * 1024;

/** Thrown by {@link SseParser} when a line or a message's data grows past its limit. */
export class SseLimitError extends RangeError {
  constructor(limit: number) {
    super(`An event-stream line or message is longer than ${limit} characters`);
    this.name = "SseLimitError";
  }
}

const LF = 0x0a;
const SPACE = 0x20;

/**
 * Splits event-stream text into messages, as the WHATWG HTML standard's event-stream
 * interpretation does: lines end in CRLF, LF or CR (also when a chunk ends between CR and LF),
 * `:` lines are comments, one space after the colon is dropped, `data` lines join with LF, and a
 * blank line dispatches a message that has data. `id` and `retry` fields are dropped; an event cut
 * off by the end of the stream is never dispatched. A line, or the data of one message, longer
 * than `maxLength` throws {@link SseLimitError}: nothing upstream sends is held without bound.
 */
export class SseParser {
  readonly maxLength: number;
  #partial = "";
  #data: string | undefined;
  #event: string | undefined;
  /** The last text ended in CR: an LF starting the next one ends no further line. */
  #afterCarriageReturn = false;

  constructor(maxLength = MAX_SSE_LINE) {
    this.maxLength = maxLength;
  }

  /** Parses the next piece of text; complete messages are appended to `out`. */
  feed(text: string, out: SseMessage[]): void {
    if (text === "") return;
    let start = 0;
    if (this.#afterCarriageReturn && text.charCodeAt(0) === LF) start = 1;
    this.#afterCarriageReturn = false;
    let nextLf = text.indexOf("\n", start);
    let nextCr = text.indexOf("\r", start);
    while (start < text.length) {
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf("\n", start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf("\r", start);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextLf, nextCr);
      const length = this.#partial.length + (end === -1 ? text.length : end) - start;
      if (length > this.maxLength) throw new SseLimitError(this.maxLength);
      if (end === -1) {
        this.#partial += text.slice(start);
        return;
      }
      if (this.#partial) {
        const line = this.#partial + text.slice(start, end);
        this.#partial = "";
        this.#line(line, 0, line.length, out);
      } else {
        this.#line(text, start, end, out);
      }
      start = end + 1;
      if (end === nextCr) {
        if (start === text.length) this.#afterCarriageReturn = true;
        else if (text.charCodeAt(start) === LF) start++;
      }
    }
  }

  /** The line of `text` from `start` to `end`, read in place. */
  #line(text: string, start: number, end: number, out: SseMessage[]): void {
    if (start === end) {
      if (this.#data !== undefined) out.push({ event: this.#event, data: this.#data });
      this.#data = undefined;
      this.#event = undefined;
      return;
    }
    let colon = text.indexOf(":", start);
    if (colon === start) return;
    if (colon === -1 || colon > end) colon = end;
    let valueStart = colon + 1;
    if (valueStart < end && text.charCodeAt(valueStart) === SPACE) valueStart++;
    const field = colon - start;
    if (field === 4 && text.startsWith("data", start)) {
      const value = text.slice(valueStart, end);
      if ((this.#data?.length ?? -1) + 1 + value.length > this.maxLength) {
        throw new SseLimitError(this.maxLength);
      }
      this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    } else if (field === 5 && text.startsWith("event", start)) {
      this.#event = text.slice(valueStart, end) || undefined;
    }
  }
}

/** Event-stream text → messages; a line over `maxLength` errors the stream with a 502. */
export function sseMessages(maxLength = MAX_SSE_LINE): TransformStream<string, SseMessage> {
  const parser = new SseParser(maxLength);
  const messages: SseMessage[] = [];
  return new TransformStream({
    transform(text, controller) {
      try {
        parser.feed(text, messages);
      } catch (error) {
        if (!(error instanceof SseLimitError)) throw error;
        throw new ApiError(
          502,
          "upstream",
          `Z.ai sent an oversized event (a line or message over ${maxLength} characters): the answer was stopped; retry`,
        );
      }
      for (const message of messages) controller.enqueue(message);
      messages.length = 0;
    },
  });
}

/**
 * Decodes an SSE byte stream (UTF-8; a leading BOM is dropped) into messages. Stopping early, or a
 * line over `maxLength`, cancels `body`.
 */
export function decodeSse(
  body: ReadableStream<Uint8Array>,
  maxLength = MAX_SSE_LINE,
): ReadableStream<SseMessage> {
  return smallReads(body).pipeThrough(new TextDecoderStream()).pipeThrough(sseMessages(maxLength));
}

/** Bytes of one read of an upstream stream, at most. */
const READ_BYTES = 4096;

/**
 * `body` read `READ_BYTES` at a time into buffers of that size. A plain read of a fetch body waits
 * on a fresh 64 KiB buffer, so every stream waiting for its next event would hold one.
 */
function smallReads(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    return body; // not a byte stream: nothing to gain
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read(new Uint8Array(READ_BYTES));
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}
