/** Server-sent events: decoding upstream bytes and encoding client events. */

import { createParser } from "eventsource-parser";

/** One decoded SSE message. */
export interface SseMessage {
  event?: string;
  data: string;
}

/** Decodes an SSE byte stream into messages (comments and retry fields are dropped). */
export function decodeSse(body: ReadableStream<Uint8Array>): ReadableStream<SseMessage> {
  let parser: ReturnType<typeof createParser>;
  return body.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TransformStream<string, SseMessage>({
      start(controller) {
        parser = createParser({
          onEvent: (message) => controller.enqueue({ event: message.event, data: message.data }),
        });
      },
      transform(text) {
        parser.feed(text);
      },
    }),
  );
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
