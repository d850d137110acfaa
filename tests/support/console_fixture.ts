/** A gateway for the console's tests: ADMIN_KEY set, the fake Z.ai beside it, chat calls by key. */

import { startGateway, type TestGateway } from "./gateway.ts";

/** The admin key of {@link startConsoleGateway}. */
export const CONSOLE_ADMIN_KEY = "console-admin-key-5d21";

/** Starts the test gateway (DEFAULT_KEY = TEST_KEY) with {@link CONSOLE_ADMIN_KEY}. */
export function startConsoleGateway(
  options: { env?: Record<string, string>; now?: () => number } = {},
): Promise<TestGateway> {
  return startGateway({ env: { ADMIN_KEY: CONSOLE_ADMIN_KEY, ...options.env }, now: options.now });
}

/** Calls the admin API; returns the status and the parsed body (null when empty). */
export async function adminCall(
  gw: TestGateway,
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await gw.fetch(gw.url + path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      authorization: `Bearer ${init.key ?? CONSOLE_ADMIN_KEY}`,
      "content-type": "application/json",
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

/** Creates a key through the admin API. */
export async function createKeyFor(
  gw: TestGateway,
  user: string,
  name?: string,
): Promise<{ id: string; key: string }> {
  const { status, body } = await adminCall(gw, "/admin/keys", { body: { user, name } });
  if (status !== 201) throw new Error(`Cannot create a key: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** One chat completion with `key`, Z.ai reporting `usage`; resolves with the status once read. */
export async function chatAs(
  gw: TestGateway,
  key: string,
  options: {
    model: string;
    usage?: { prompt_tokens: number; completion_tokens: number };
    stream?: boolean;
    content?: string;
  },
): Promise<number> {
  gw.upstream.enqueue({ kind: "answer", usage: options.usage });
  const response = await gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: options.model,
      messages: [{ role: "user", content: options.content ?? "hello" }],
      stream: options.stream ?? false,
    }),
  });
  await response.text();
  return response.status;
}
