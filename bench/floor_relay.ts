/**
 * The benchmark's reference: the least a Deno gateway does for an OpenAI chat request, with none of
 * ZtoApi (no keys, limits, KV, translation, events or logs). It reads the request, forwards model,
 * messages and stream to the fake Z.ai with Deno's fetch, and answers with the upstream JSON or
 * relays the upstream stream chunk by chunk through JavaScript. What ZtoApi adds beyond this
 * relay is ZtoApi's own cost; the rest is what Deno.serve and fetch cost on this machine.
 *
 * Usage: PORT=… UPSTREAM_URL=… deno run -A bench/floor_relay.ts
 */

const upstream = `${Deno.env.get("UPSTREAM_URL")}/chat/completions`;
const authorization = `Bearer ${Deno.env.get("UPSTREAM_API_KEY")}`;

function relay(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(16 * 1024);
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (done || !value) {
        controller.close();
        return;
      }
      controller.enqueue(value.slice());
      buffer = value.buffer as ArrayBuffer;
    },
    cancel: () => reader.cancel(),
  }, { highWaterMark: 0 });
}

async function handle(request: Request): Promise<Response> {
  if (request.method === "GET") return new Response("ok");
  const { model, messages, stream } = await request.json();
  const response = await fetch(upstream, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ model, messages, stream }),
    signal: request.signal,
  });
  if (!stream || !response.body) return Response.json(await response.json());
  return new Response(relay(response.body), {
    headers: { "content-type": "text/event-stream; charset=utf-8" },
  });
}

if (import.meta.main) {
  Deno.serve({
    port: Number(Deno.env.get("PORT")),
    hostname: "127.0.0.1",
    onListen() {},
  }, handle);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
