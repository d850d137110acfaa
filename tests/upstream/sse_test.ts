import assert from "node:assert/strict";
import { ApiError } from "../../lib/core/errors.ts";
import { decodeSse, SseLimitError, type SseMessage, SseParser } from "../../lib/upstream/sse.ts";

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

Deno.test("SSE: a line or a message's data past the limit throws, however the text is cut", () => {
  const parser = (maxLength: number) => {
    const p = new SseParser(maxLength);
    return (...pieces: string[]) => pieces.forEach((piece) => p.feed(piece, []));
  };
  parser(10)("data: 1234\n\n", "data:", "1234", "5\n\n"); // lines of 10: allowed
  assert.throws(() => parser(10)("data: 12345\n\n"), SseLimitError);
  assert.throws(() => parser(10)("data:", "12", "34", "56"), SseLimitError, "no line end needed");
  assert.throws(() => parser(10)(": a comment too long"), SseLimitError);
  assert.throws(
    () => parser(10)("data: 123\n", "data: 456\n", "data: 789\n"),
    SseLimitError,
    "short lines that add up to one long message",
  );
  parser(10)("data: 123\n", "data: 456\n\n", "data: 789\n\n"); // each message within the limit
});

/** A body of `chunks`, pulled one at a time, counting what was read and noting a cancel. */
function meteredBody(chunks: string[]) {
  const state = { pulled: 0 };
  const { promise: cancelled, resolve: cancel } = Promise.withResolvers<void>();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks.length) return controller.close();
      controller.enqueue(encoder.encode(chunks[state.pulled++]));
    },
    cancel: () => cancel(),
  }, { highWaterMark: 0 });
  /** Whether the body gets cancelled (the cancel travels back through the pipes in its own time). */
  const wasCancelled = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const never = new Promise<boolean>((resolve) => timer = setTimeout(resolve, 5_000, false));
    const result = await Promise.race([cancelled.then(() => true), never]);
    clearTimeout(timer);
    return result;
  };
  return { body, state, wasCancelled };
}

Deno.test("decodeSse: a line past the limit is a 502 and cancels the body", async () => {
  const { body, state, wasCancelled } = meteredBody([
    "data: ok\n\n",
    "data: ",
    ...Array(100).fill("x".repeat(10)),
  ]);
  const messages: SseMessage[] = [];
  const error = await (async () => {
    for await (const message of decodeSse(body, 50)) messages.push(message);
  })().then(() => undefined, (e) => e);
  assert.deepEqual(messages, [{ event: undefined, data: "ok" }]);
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.status, 502);
  assert.match(error.message, /oversized event/);
  assert.equal(await wasCancelled(), true);
  assert.ok(state.pulled < 20, `${state.pulled} chunks read`);
});

Deno.test("decodeSse: stopping early cancels the body", async () => {
  const { body, state, wasCancelled } = meteredBody(Array(100).fill("data: x\n\n"));
  for await (const message of decodeSse(body)) {
    assert.equal(message.data, "x");
    break;
  }
  assert.equal(await wasCancelled(), true);
  assert.ok(state.pulled < 10, `${state.pulled} chunks read`);
});
