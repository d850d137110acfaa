/** Server-sent events from upstream: bytes → messages. */

/** One decoded SSE message. */
export interface SseMessage {
  event?: string;
  data: string;
}

const LF = 0x0a;
const SPACE = 0x20;

/**
 * Splits event-stream text into messages, as the WHATWG HTML standard's event-stream
 * interpretation does: lines end in CRLF, LF or CR (also when a chunk ends between CR and LF),
 * `:` lines are comments, one space after the colon is dropped, `data` lines join with LF, and a
 * blank line dispatches a message that has data. `id` and `retry` fields are dropped; an event cut
 * off by the end of the stream is never dispatched.
 */
export class SseParser {
  #partial = "";
  #data: string | undefined;
  #event: string | undefined;
  /** The last text ended in CR: an LF starting the next one ends no further line. */
  #afterCarriageReturn = false;

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
      this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    } else if (field === 5 && text.startsWith("event", start)) {
      this.#event = text.slice(valueStart, end) || undefined;
    }
  }
}

/** Bytes read from upstream at a time; one buffer per stream, reused for every read. */
const READ_BUFFER_BYTES = 4 * 1024;

/** Reads a body chunk by chunk; a chunk is only valid until the next read. */
interface ChunkReader {
  /** The next chunk, or null at the end. */
  read(): Promise<Uint8Array | null>;
  cancel(): Promise<void>;
}

/**
 * Reads a body into one reused buffer where the stream allows it (a byte stream, as fetch bodies
 * are): the default reader allocates 64 KiB for every chunk, however small, which adds up to
 * hundreds of megabytes with many streams open. Other streams are read the ordinary way.
 */
function chunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream.
  }
  if (byob) {
    const reader = byob;
    let buffer = new ArrayBuffer(READ_BUFFER_BYTES);
    return {
      async read() {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done || !value) return null;
        buffer = value.buffer as ArrayBuffer;
        return value;
      },
      cancel: () => reader.cancel(),
    };
  }
  const reader = body.getReader();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    cancel: () => reader.cancel(),
  };
}

/** Decodes an SSE byte stream (UTF-8; a leading BOM is dropped by the decoder) into messages. */
export async function* decodeSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const messages: SseMessage[] = [];
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = chunkReader(body);
  let finished = false;
  try {
    while (!finished) {
      const chunk = await reader.read();
      // At the end, what is left of a cut character decodes as U+FFFD, as TextDecoderStream does.
      const text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      finished = chunk === null;
      if (text) parser.feed(text, messages);
      for (let i = 0; i < messages.length; i++) yield messages[i];
      messages.length = 0;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}
