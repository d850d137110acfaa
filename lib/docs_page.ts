/** The HTML docs page (placeholder). */

import type { Config } from "./config.ts";

/** Renders the docs page for this request. */
export function renderDocsPage(_request: Request, _config: Readonly<Config>): Response {
  return new Response("<!doctype html><title>ZtoApi</title><h1>ZtoApi</h1>", {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}
