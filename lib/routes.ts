/** The small client routes: `GET /health`, `GET /v1/models`, `GET /v1/key`. */

import { invalidField } from "./core/errors.ts";
import { storeError } from "./core/kv.ts";
import { MODELS } from "./core/models.ts";
import { VERSION } from "./core/version.ts";
import type { Caller, Governance } from "./governance/governance.ts";
import { listUsage } from "./governance/usage.ts";
import { summarizeDays } from "./governance/usage_report.ts";

const CREATED = 1_735_689_600; // 2025-01-01T00:00:00Z: a fixed date keeps the list stable.

/** `{"status":"ok"}` plus the version; never touches upstream or KV. */
export function healthResponse(): Response {
  return Response.json({ status: "ok", version: VERSION });
}

/** Lists the model table; the Anthropic shape when the request has an `anthropic-version` header. */
export function modelsResponse(request: Request): Response {
  if (request.headers.has("anthropic-version")) {
    const data = MODELS.map((m) => ({
      type: "model",
      id: m.id,
      display_name: m.id.toUpperCase(),
      created_at: new Date(CREATED * 1000).toISOString(),
    }));
    return Response.json({
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
  }
  const data = MODELS.map((m) => ({
    id: m.id,
    object: "model",
    created: CREATED,
    owned_by: "z.ai",
  }));
  return Response.json({ object: "list", data });
}

/** What `GET /v1/key?days=N` reads the user's past days with. */
export interface KeyHistory {
  url: URL;
  kv: Deno.Kv;
  now: () => number;
}

const MAX_HISTORY_DAYS = 366;

/** The `days` query parameter (1–366), or undefined when absent. */
function daysParam(url: URL): number | undefined {
  const raw = url.searchParams.get("days");
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_HISTORY_DAYS) {
    throw invalidField(
      "days",
      `Invalid days=${JSON.stringify(raw)}: expected a whole number from 1 to ${MAX_HISTORY_DAYS}`,
    );
  }
  return Number(raw);
}

/**
 * The calling key: user, name, expiry, limits, today's usage (this request included), what
 * remains; with `?days=N`, also the user's last N UTC days in `daily` (oldest first).
 */
export async function keyInfoResponse(
  governance: Governance,
  caller: Caller,
  decision: Promise<unknown>,
  history?: KeyHistory,
): Promise<Response> {
  const days = history && daysParam(history.url);
  await decision; // the remaining count includes this request
  const body = await governance.describe(caller);
  if (history && days) {
    const now = history.now();
    const rows = await listUsage(history.kv, { user: caller.user, days, now }).catch((error) =>
      Promise.reject(storeError(error))
    );
    body.daily = summarizeDays(rows, { days, now });
  }
  return Response.json(body);
}
