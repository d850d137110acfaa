/**
 * The contract's "Streaming default" with the real Accept and User-Agent of each client
 * (clients.md): a chat completion without `stream` streams only for an event-stream Accept or a
 * command-line call; the SDKs, fetch and requests get JSON.
 */

import assert from "node:assert/strict";
import { TEST_KEY } from "../support/gateway.ts";
import { openAIClient, postChat, startOpenAIGateway } from "../support/openai_client.ts";

type Headers = Record<string, string>;

/** Each client's headers for a call without `stream`, and whether it must get a stream. */
const CLIENTS: [string, Headers, boolean][] = [
  ["openai SDK 7.x", { accept: "application/json", "user-agent": "OpenAI/JS 7.57.0" }, false],
  [
    "Vercel AI SDK 7 (openai-compatible, .chat())",
    { accept: "*/*", "user-agent": "ai/7.0.173 ai-sdk-provider-utils/5.0.81 node.js/v20.20.2" },
    false,
  ],
  ["LangChain ChatOpenAI", { accept: "application/json", "user-agent": "OpenAI/JS 7.57.0" }, false],
  ["Node fetch", { accept: "*/*", "user-agent": "node" }, false],
  ["Deno fetch", { accept: "*/*", "user-agent": "Deno/2.9.6" }, false],
  ["Python requests", { accept: "*/*", "user-agent": "python-requests/2.32.3" }, false],
  ["curl", { accept: "*/*", "user-agent": "curl/8.5.0" }, true],
  ["Wget", { accept: "*/*", "user-agent": "Wget/1.21.3" }, true],
  ["HTTPie", { accept: "application/json, */*;q=0.5", "user-agent": "HTTPie/3.2.2" }, true],
  ["curl asking for JSON", { accept: "application/json", "user-agent": "curl/8.5.0" }, false],
  ["any client asking for events", { accept: "text/event-stream", "user-agent": "x/1" }, true],
];

const BODY = { model: "glm-4.6", messages: [{ role: "user", content: "hi" }] };

function isStream(contentType: string | null): boolean {
  return /^text\/event-stream/.test(contentType ?? "");
}

Deno.test("without stream: each client's real headers decide stream or JSON", async () => {
  await using gw = await startOpenAIGateway();
  for (const [client, headers, streams] of CLIENTS) {
    const reply = await postChat(gw, BODY, headers);
    assert.equal(reply.status, 200, client);
    assert.equal(isStream(reply.headers.get("content-type")), streams, client);
    if (!streams) assert.equal(reply.json.object, "chat.completion", client);
    assert.equal(gw.upstream.requests.at(-1)!.body.stream, streams, `${client}: upstream`);
  }
});

Deno.test("with DEFAULT_STREAM=false only an event-stream Accept streams", async () => {
  await using gw = await startOpenAIGateway({ env: { DEFAULT_STREAM: "false" } });
  for (const [client, headers] of CLIENTS) {
    const reply = await postChat(gw, BODY, headers);
    const wanted = headers.accept === "text/event-stream";
    assert.equal(isStream(reply.headers.get("content-type")), wanted, client);
  }
});

Deno.test("the stream field always decides, whatever the headers", async () => {
  await using gw = await startOpenAIGateway();
  for (const [client, headers] of CLIENTS) {
    const json = await postChat(gw, { ...BODY, stream: false }, headers);
    assert.equal(json.json?.object, "chat.completion", client);
    const sse = await postChat(gw, { ...BODY, stream: true }, headers);
    assert.ok(isStream(sse.headers.get("content-type")), client);
  }
});

/** A POST without any Accept header (fetch always adds one), over a raw connection. */
async function postWithoutAccept(url: string, body: unknown): Promise<string> {
  const { hostname, port } = new URL(url);
  const payload = new TextEncoder().encode(JSON.stringify(body));
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
    `Authorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new Uint8Array([...new TextEncoder().encode(head), ...payload]));
  return await new Response(conn.readable).text();
}

Deno.test("a hand-typed call with no Accept at all streams (DEFAULT_STREAM)", async () => {
  await using gw = await startOpenAIGateway();
  const raw = await postWithoutAccept(gw.url, BODY);
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.match(raw, /content-type: text\/event-stream/i);
  assert.match(raw, /data: \[DONE\]/);
});

Deno.test("the openai SDK's chat.completions.create without stream gets JSON", async () => {
  await using gw = await startOpenAIGateway();
  const completion = await openAIClient(gw).chat.completions.create(BODY as never);
  assert.equal(completion.object, "chat.completion");
  assert.equal(gw.upstream.requests[0].body.stream, false);
});
