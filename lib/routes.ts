/** The small client routes: `GET /health`, `GET /v1/models`, `GET /v1/key`. */

import { MODELS } from "./core/models.ts";
import { VERSION } from "./core/version.ts";
import type { Caller, Governance } from "./governance/governance.ts";

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

/** The calling key: user, name, expiry, limits, today's usage (this request included), what remains. */
export async function keyInfoResponse(
  governance: Governance,
  caller: Caller,
  decision: Promise<unknown>,
): Promise<Response> {
  await decision; // the remaining count includes this request
  return Response.json(await governance.describe(caller));
}
