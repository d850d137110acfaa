/** Helpers for the Anthropic-route tests: an SDK client, raw JSON posts, SSE event parsing. */

import { Anthropic } from "./clients.ts";
import { type GatewayOptions, startGateway, TEST_KEY, type TestGateway } from "./gateway.ts";

/** The test gateway; its `fetch` shares the pool the SDK clients use. */
export type AnthropicGateway = TestGateway;

/** Starts the test gateway (see `startGateway`). */
export const startAnthropicGateway: (options?: GatewayOptions) => Promise<TestGateway> =
  startGateway;

/** An Anthropic SDK client for the gateway (no retries, so failures show at once). */
export function anthropicClient(
  gw: AnthropicGateway,
  options: { apiKey?: string } = {},
): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey ?? TEST_KEY,
    baseURL: gw.url,
    maxRetries: 0,
    // The SDK's Fetch type names Node's Blob; Deno's fetch is the same function at run time.
    fetch: gw.fetch as unknown as NonNullable<ConstructorParameters<typeof Anthropic>[0]>["fetch"],
  });
}

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** Splits an SSE body into events, checking each `data:` line is JSON. */
export function parseSse(text: string): SseEvent[] {
  return text.split("\n\n").filter((chunk) => chunk.trim() !== "").map((chunk) => {
    let event = "";
    let data = "";
    for (const line of chunk.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
      else throw new Error(`Unexpected SSE line: ${JSON.stringify(line)}`);
    }
    return { event, data: JSON.parse(data) };
  });
}

/** A response read whole: status, headers, and the body as JSON when it is JSON. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** POSTs a JSON body (or a raw string) with the test key as x-api-key, unless headers say otherwise. */
export async function postRaw(
  gw: AnthropicGateway,
  path: string,
  body: unknown,
  headers: Record<string, string> = { "x-api-key": TEST_KEY },
): Promise<RawResponse> {
  const response = await gw.fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** The compact event sequence of a stream: names, with block types and delta types. */
export function eventShape(events: SseEvent[]): string[] {
  return events.map(({ event, data }) => {
    if (event === "content_block_start") return `start:${data.content_block.type}`;
    if (event === "content_block_delta") return data.delta.type;
    if (event === "content_block_stop") return "stop";
    return event;
  });
}

/** Collapses consecutive repeats (`a a a b` → `a+ b`), for order assertions. */
export function collapse(shape: string[]): string[] {
  const out: string[] = [];
  for (const item of shape) {
    const last = out.at(-1);
    if (last === item || last === `${item}+`) out[out.length - 1] = `${item}+`;
    else out.push(item);
  }
  return out;
}
