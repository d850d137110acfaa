/** Helpers for the key pool and queue tests: Z.ai's clock, which key a request used, waiting. */

import type { UpstreamState } from "../../lib/core/upstream_state.ts";
import type { RecordedRequest } from "./fake_upstream.ts";
import { admin } from "./kv_server.ts";

export { ADMIN_KEY } from "./kv_server.ts";

/** A "YYYY-MM-DD HH:MM:SS" time in Z.ai's clock (UTC+8), `ms` after `from`. */
export function zaiClock(from: number, ms: number): string {
  return new Date(from + ms + 8 * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
}

/** The upstream key a request reached the fake Z.ai with. */
export function keyOf(request: RecordedRequest): string {
  return request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
}

/** Resolves once `condition` holds; throws naming `what` if it does not within `limitMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The first upstream of `GET /admin/upstream` (the gateway needs ADMIN_KEY = kv_server's). */
export async function upstreamState(gateway: { url: string }): Promise<UpstreamState> {
  const { status, body } = await admin(gateway.url, "/admin/upstream");
  if (status !== 200) throw new Error(`GET /admin/upstream answered ${status}`);
  return (body.data as UpstreamState[])[0];
}

/** The JSON log lines whose text matches `pattern`. */
export function logLines(logs: string[], pattern: RegExp): Record<string, unknown>[] {
  return logs.filter((line) => pattern.test(line)).map((line) => JSON.parse(line));
}
