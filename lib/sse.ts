/** Server-sent events: decoding upstream bytes and encoding client events. */

import { createParser } from "eventsource-parser";

/** One decoded SSE message. */
export interface SseMessage {
  event?: string;
  data: string;
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

/** Decodes an SSE byte stream into messages (comments and retry fields are dropped). */
export async function* decodeSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const messages: SseMessage[] = [];
  const parser = createParser({
    onEvent: (message) => messages.push({ event: message.event, data: message.data }),
  });
  const decoder = new TextDecoder();
  const reader = chunkReader(body);
  let finished = false;
  try {
    while (!finished) {
      const chunk = await reader.read();
      // At the end, what is left of a cut character decodes as U+FFFD, as TextDecoderStream does.
      const text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      finished = chunk === null;
      if (text) parser.feed(text);
      for (let i = 0; i < messages.length; i++) yield messages[i];
      messages.length = 0;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
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
