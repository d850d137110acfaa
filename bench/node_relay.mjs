/**
 * The Deno floor's twin in Node (`node:http` and Node's fetch), for `bench/relays.ts`: it reads the
 * request, forwards model, messages and stream to the fake Z.ai, and answers with the upstream
 * JSON or relays the upstream stream chunk by chunk. Any GET answers "ok".
 *
 * Usage: PORT=… UPSTREAM_URL=… UPSTREAM_API_KEY=… node bench/node_relay.mjs
 */

import http from "node:http";

const upstream = `${process.env.UPSTREAM_URL}/chat/completions`;
const authorization = `Bearer ${process.env.UPSTREAM_API_KEY}`;

async function handle(request, response) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  if (request.method === "GET") return response.end("ok");
  const { model, messages, stream } = JSON.parse(Buffer.concat(chunks).toString());
  const abort = new AbortController();
  response.on("close", () => abort.abort());
  const answer = await fetch(upstream, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ model, messages, stream }),
    signal: abort.signal,
  });
  if (!stream) {
    const body = JSON.stringify(await answer.json());
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    return response.end(body);
  }
  response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
  for await (const chunk of answer.body) response.write(chunk);
  response.end();
}

http.createServer((request, response) => {
  handle(request, response).catch(() => response.destroy());
}).listen(Number(process.env.PORT), "127.0.0.1");
