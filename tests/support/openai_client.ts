/** Helpers for driving the gateway's OpenAI route: an SDK client, raw calls, SSE parsing. */

import { OpenAI } from "./clients.ts";
import { type GatewayOptions, startGateway, TEST_KEY, type TestGateway } from "./gateway.ts";

/** The test gateway; its `fetch` shares the pool the SDK clients use. */
export type OpenAIGateway = TestGateway;

/** Starts the test gateway (see `startGateway`). */
export const startOpenAIGateway: (options?: GatewayOptions) => Promise<TestGateway> = startGateway;

/** An OpenAI SDK client pointed at the gateway, without retries. */
export function openAIClient(gw: OpenAIGateway, apiKey = TEST_KEY): OpenAI {
  // The SDK's Fetch type names Node's Blob; Deno's fetch is the same function at run time.
  const sdkFetch = gw.fetch as unknown as NonNullable<
    ConstructorParameters<typeof OpenAI>[0]
  >["fetch"];
  return new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0, fetch: sdkFetch });
}

/** A raw HTTP exchange with the gateway, body read in full. */
export interface RawReply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** POSTs a JSON body (or raw text) to `/v1/chat/completions` with the test key. */
export async function postChat(
  gw: OpenAIGateway,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  const response = await gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TEST_KEY}`,
      "content-type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return readReply(response);
}

/** Reads a response in full; `json` is the parsed body when it parses. */
export async function readReply(response: Response): Promise<RawReply> {
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (e.g. an SSE stream).
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The `data:` payloads of an SSE text, in order (`[DONE]` kept as the string). */
// deno-lint-ignore no-explicit-any
export function sseData(text: string): any[] {
  const out: unknown[] = [];
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l.startsWith("data:"));
    if (!lines.length) continue;
    const data = lines.map((l) => l.slice(5).trimStart()).join("\n");
    out.push(data === "[DONE]" ? data : JSON.parse(data));
  }
  return out;
}

/** Concatenates a delta field over stream chunks. */
// deno-lint-ignore no-explicit-any
export function joinDeltas(chunks: any[], field: "content" | "reasoning_content"): string {
  return chunks
    .filter((c) => c !== "[DONE]" && c.choices?.length)
    .map((c) => c.choices[0].delta?.[field] ?? "")
    .join("");
}

/** A user message list with one text. */
export function ask(text: string): { role: "user"; content: string }[] {
  return [{ role: "user", content: text }];
}
