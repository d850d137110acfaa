/** `GET /v1/models`: the model table in OpenAI's list shape, or Anthropic's when asked. */

import type { RouteContext } from "./app.ts";
import { MODELS } from "./core/models.ts";

const CREATED = 1_735_689_600; // 2025-01-01T00:00:00Z: a fixed date keeps the list stable.

/** Lists the model table; the Anthropic shape when the request has an `anthropic-version` header. */
export function modelsResponse(request: Request, _ctx: RouteContext): Promise<Response> {
  if (request.headers.has("anthropic-version")) {
    const data = MODELS.map((m) => ({
      type: "model",
      id: m.id,
      display_name: m.id.toUpperCase(),
      created_at: new Date(CREATED * 1000).toISOString(),
    }));
    return Promise.resolve(Response.json({
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    }));
  }
  const data = MODELS.map((m) => ({
    id: m.id,
    object: "model",
    created: CREATED,
    owned_by: "z.ai",
  }));
  return Promise.resolve(Response.json({ object: "list", data }));
}
