import assert from "node:assert/strict";
import { decodeSse, type SseMessage, SseParser } from "../../lib/upstream/sse.ts";

/** Parses `pieces` fed one after another. */
function parse(...pieces: string[]): SseMessage[] {
  const parser = new SseParser();
  const out: SseMessage[] = [];
  for (const piece of pieces) parser.feed(piece, out);
  return out;
}

Deno.test("SSE: data lines join with LF; a blank line dispatches; comments and id/retry are dropped", () => {
  assert.deepEqual(
    parse(": comment\nid: 7\nretry: 10\ndata: first\ndata:second\ndata:  third\n\ndata: {}\n\n"),
    [
      { event: undefined, data: "first\nsecond\n third" },
      { event: undefined, data: "{}" },
    ],
  );
});

Deno.test("SSE: event names apply to one message; without data nothing is dispatched", () => {
  assert.deepEqual(parse('event: error\ndata: {"a":1}\n\nevent: ping\n\ndata\n\n'), [
    { event: "error", data: '{"a":1}' },
    { event: undefined, data: "" },
  ]);
});

Deno.test("SSE: CRLF, CR and LF all end lines, also when a chunk ends between CR and LF", () => {
  const expected = [{ event: "x", data: "1" }, { event: undefined, data: "2" }];
  assert.deepEqual(parse("event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"), expected);
  assert.deepEqual(parse("event: x\rdata: 1\r\rdata: 2\r\r"), expected);
  assert.deepEqual(
    parse("event: x\r", "\ndata: 1\r", "\n\r", "", "\ndata: 2\r\n", "\r", "\n"),
    expected,
  );
});

Deno.test("SSE: a message arrives whole however the text is cut, and one cut off at the end is dropped", () => {
  const text = 'data: {"choices":[{"delta":{"content":"hé 🙂"}}]}\n\ndata: [DONE]\n\ndata: cut';
  const whole = parse(text);
  assert.deepEqual(whole.map((m) => m.data), [
    '{"choices":[{"delta":{"content":"hé 🙂"}}]}',
    "[DONE]",
  ]);
  for (let size = 1; size <= 9; size++) {
    const pieces = text.match(new RegExp(`[\\s\\S]{1,${size}}`, "gu"))!;
    assert.deepEqual(parse(...pieces), whole, `pieces of ${size}`);
  }
});

Deno.test("decodeSse: bytes split inside a character, a BOM, and the end of the body", async () => {
  const bytes = new TextEncoder().encode(
    "\uFEFFdata: é🙂\r\n\r\ndata: last\n\ndata: never dispatched",
  );
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 3) controller.enqueue(bytes.slice(at, at + 3));
      controller.close();
    },
  });
  const messages: SseMessage[] = [];
  for await (const message of decodeSse(body)) messages.push(message);
  assert.deepEqual(messages, [{ event: undefined, data: "é🙂" }, {
    event: undefined,
    data: "last",
  }]);
});
