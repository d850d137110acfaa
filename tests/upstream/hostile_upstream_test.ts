/**
 * What an upstream (or a proxy in front of it) sends that must not reach clients whole: the
 * operator's key echoed back, an intermediary's HTML page, a 4 MB error message, a line without end.
 */

import assert from "node:assert/strict";
import { postRaw } from "../support/anthropic.ts";
import { type TestGateway } from "../support/gateway.ts";
import { postChat, type RawReply, sseData, startOpenAIGateway } from "../support/openai_client.ts";

/** An HTTP server on 127.0.0.1 standing in for Z.ai, answering every request with `respond`. */
interface HostileUpstream extends AsyncDisposable {
  /** The value for UPSTREAM_URL. */
  url: string;
}

function startHostileUpstream(respond: (request: Request) => Response): HostileUpstream {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (request) => {
      await request.body?.cancel();
      return respond(request);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/api/paas/v4`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The operator's key: not key-shaped, so only an exact match can catch it. */
const OPERATOR_KEY = "operator-upstream-secret-42";
/** Key-shaped strings of others that a proxy might echo: a Z.ai key, a JWT, an OpenAI-style key. */
const FOREIGN_KEYS = [
  "0123456789abcdef0123456789abcdef.AbCdEfGhIjKlMnOp",
  "eyJhbGciOiJIUzI1NiJ9.eyJhcGlfa2V5IjoieCJ9.c2lnbmF0dXJlLWhlcmU",
  "sk-proxy-0123456789abcdef",
];
const INTERNALS = ["zai-gw-7.corp.internal", "10.20.30.40"];

const OPENAI_REQUEST = { model: "glm-4.6", messages: [{ role: "user", content: "hi" }] };
const ANTHROPIC_REQUEST = {
  model: "glm-4.6",
  max_tokens: 100,
  messages: [{ role: "user", content: "hi" }],
};

/** The bare key of a request's `Authorization: Bearer …`. */
function keyOf(request: Request): string {
  return (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
}

/** Every route and mode a client may call: OpenAI and Anthropic, JSON and stream. */
async function askEveryWay(gw: TestGateway): Promise<{ route: string; text: string }[]> {
  const replies: { route: string; status: number; text: string }[] = [];
  for (const stream of [false, true]) {
    const openai = await postChat(gw, { ...OPENAI_REQUEST, stream });
    replies.push({ route: `openai stream=${stream}`, status: openai.status, text: openai.text });
    const anthropic = await postRaw(gw, "/v1/messages", { ...ANTHROPIC_REQUEST, stream });
    replies.push({
      route: `anthropic stream=${stream}`,
      status: anthropic.status,
      text: anthropic.text,
    });
  }
  for (const reply of replies) assert.equal(reply.status, 502, `${reply.route}: ${reply.text}`);
  return replies;
}

function assertNone(text: string, secrets: string[], where: string): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${where} carries ${secret}: ${text}`);
  }
}

Deno.test("Z.ai echoing the operator's key in a 401 → the client's error carries no key", async () => {
  await using upstream = startHostileUpstream((request) =>
    Response.json({
      error: {
        code: "1002",
        message: `Authorization Token is invalid: got authorization=${
          request.headers.get("authorization")
        }, key ${keyOf(request)}, known keys ${FOREIGN_KEYS.join(" ")}`,
      },
    }, { status: 401 })
  );
  await using gw = await startOpenAIGateway({
    env: { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: OPERATOR_KEY },
  });
  for (const reply of await askEveryWay(gw)) {
    assertNone(reply.text, [OPERATOR_KEY, ...FOREIGN_KEYS], reply.route);
    assert.match(reply.text, /Authorization Token is invalid/, "Z.ai's own words are kept");
    assert.match(reply.text, /\[1002\]/);
    assert.match(reply.text, /\[redacted\]/);
  }
  for (const line of gw.logs) assertNone(line, [OPERATOR_KEY, ...FOREIGN_KEYS], "the log");
});

Deno.test("a proxy's HTML 500 page → 'Z.ai answered 500', no key and no internals; the page in the log", async () => {
  await using upstream = startHostileUpstream((request) =>
    new Response(
      `<html><head><title>500 Internal Server Error</title></head><body>
<h1>Internal Server Error</h1>
<pre>POST /api/paas/v4/chat/completions
Authorization: ${request.headers.get("authorization")}
X-Api-Key: ${keyOf(request)}
X-Forwarded-Key: ${keyOf(request)}</pre>
<p>${FOREIGN_KEYS.join("<br>")}</p>
<hr>nginx at ${INTERNALS[0]} (${INTERNALS[1]})</body></html>`,
      { status: 500, headers: { "content-type": "text/html" } },
    )
  );
  await using gw = await startOpenAIGateway({
    env: { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: OPERATOR_KEY },
  });
  for (const reply of await askEveryWay(gw)) {
    assertNone(reply.text, [OPERATOR_KEY, ...FOREIGN_KEYS, ...INTERNALS, "nginx"], reply.route);
    assert.match(reply.text, /Z\.ai answered 500: retry later/);
  }
  assert.equal(gw.logs.length, 4);
  for (const line of gw.logs) {
    assertNone(line, [OPERATOR_KEY, ...FOREIGN_KEYS], "the log");
    assert.match(line, /zai-gw-7\.corp\.internal \(10\.20\.30\.40\)/, "the operator sees the page");
  }
});

/** A Z.ai error object whose message is 4 MB. */
const HUGE_ERROR = JSON.stringify({
  error: { code: "1214", message: `Invalid messages: ${"x".repeat(4 * 1024 * 1024)}` },
});

/** Asserts a client's reply is short. */
function assertBounded(reply: RawReply, where: string): void {
  assert.ok(reply.text.length < 8 * 1024, `${where}: ${reply.text.length} characters`);
}

Deno.test("a 4 MB upstream error message reaches the client bounded, in every way it can come", async () => {
  const jsonStatuses = [400, 200];
  await using upstream = startHostileUpstream((request) => {
    if (request.headers.get("accept") === "text/event-stream") {
      // After a 200: an in-stream error object.
      return new Response(`data: ${HUGE_ERROR}\n\n`, {
        headers: { "content-type": "text/event-stream" },
      });
    }
    // Answered 400 (its body read up to 64 KiB), then 200 with an error body (read whole).
    return new Response(HUGE_ERROR, {
      status: jsonStatuses.shift(),
      headers: { "content-type": "application/json" },
    });
  });
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_URL: upstream.url } });

  const refused = await postChat(gw, { ...OPENAI_REQUEST, stream: false });
  assert.equal(refused.status, 400, refused.text.slice(0, 200));
  assertBounded(refused, "a 400");

  const inBody = await postChat(gw, { ...OPENAI_REQUEST, stream: false });
  assert.equal(inBody.status, 400, inBody.text.slice(0, 200));
  assert.equal(inBody.json.error.code, "zai_1214");
  assert.match(inBody.json.error.message, /Invalid messages: x+…/);
  assertBounded(inBody, "an error in a 200 body");

  const inStream = await postChat(gw, { ...OPENAI_REQUEST, stream: true });
  assert.equal(inStream.status, 200);
  const error = sseData(inStream.text).find((event) => event !== "[DONE]" && event.error)?.error;
  assert.equal(error?.code, "zai_1214");
  assertBounded(inStream, "an in-stream error");

  for (const line of gw.logs) assert.ok(line.length < 16 * 1024, `a log line of ${line.length}`);
});

Deno.test("a 150 MB SSE line without a newline → an in-stream error, the upstream call aborted", async () => {
  const LINE_BYTES = 150 * 1024 * 1024;
  const CHUNK = new TextEncoder().encode("x".repeat(1024 * 1024));
  let sent = 0;
  const { promise: upstreamEnded, resolve: endUpstream } = Promise.withResolvers<string>();
  await using upstream = startHostileUpstream(() => {
    const prefix = 'data: {"choices":[{"index":0,"delta":{"content":"';
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(prefix));
      },
      pull(controller) {
        if (sent >= LINE_BYTES) {
          controller.close();
          endUpstream("sent it all");
          return;
        }
        controller.enqueue(CHUNK.slice());
        sent += CHUNK.length;
      },
      cancel() {
        endUpstream("aborted");
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  await using gw = await startOpenAIGateway({ env: { UPSTREAM_URL: upstream.url } });

  const reply = await postChat(gw, { ...OPENAI_REQUEST, stream: true });
  assert.equal(reply.status, 200);
  const events = sseData(reply.text);
  const errors = events.filter((event) => event !== "[DONE]" && event.error);
  assert.equal(errors.length, 1, reply.text.slice(0, 300));
  assert.equal(errors[0].error.type, "api_error");
  assert.match(errors[0].error.message, /oversized event/);
  assert.equal(events.at(-1), "[DONE]", "the stream ends cleanly");
  assert.equal(await upstreamEnded, "aborted", "the gateway stopped reading upstream");
  assert.ok(sent < LINE_BYTES, `upstream sent ${sent} bytes of ${LINE_BYTES}`);
});

Deno.test("an error inside a 200 answer that echoes the operator's key → no key, JSON or stream", async () => {
  await using upstream = startHostileUpstream((request) => {
    const error = { error: { code: "1234", message: `Network error for key ${keyOf(request)}` } };
    if (request.headers.get("accept") === "text/event-stream") {
      return new Response(`data: ${JSON.stringify(error)}\n\n`, {
        headers: { "content-type": "text/event-stream" },
      });
    }
    return Response.json(error);
  });
  await using gw = await startOpenAIGateway({
    env: { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: OPERATOR_KEY },
  });
  for (const stream of [false, true]) {
    const reply = await postChat(gw, { ...OPENAI_REQUEST, stream });
    assert.match(reply.text, /\[1234\]/, "Z.ai's code is kept");
    assertNone(reply.text, [OPERATOR_KEY], `openai stream=${stream}`);
  }
});
