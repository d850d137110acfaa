/** The docs page's Codex and Responses API sections: the server's URL filled in, linked from the TOC. */

import assert from "node:assert/strict";
import { loadConfig } from "../../lib/core/config.ts";
import { renderDocsPage } from "../../lib/docs_page/page.ts";

type Env = Record<string, string>;

async function render(env: Env = {}, headers: HeadersInit = {}): Promise<string> {
  const url = "http://localhost:9090/";
  return await renderDocsPage(new Request(url, { headers }), loadConfig(env), { url: new URL(url) })
    .text();
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section #${id} is on the page`);
  return html.slice(start, html.indexOf("</section>", start));
}

function block(fragment: string, title: string): string {
  const pattern = /<span>([^<]*)<\/span><\/figcaption>\s*<pre[^>]*><code>(.*?)<\/code><\/pre>/gs;
  const found = [...fragment.matchAll(pattern)].find(([, t]) => unescape(t) === title);
  assert.ok(found, `a code block titled "${title}"`);
  return unescape(found[2]);
}

Deno.test("the Codex section's config.toml points at this server's /v1 with the Responses API", async () => {
  const html = await render({}, {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "gw.example.com",
  });
  const codex = section(html, "codex");
  const toml = block(codex, "~/.codex/config.toml");
  assert.match(toml, /^model = "glm-5"$/m);
  assert.match(toml, /^model_provider = "ztoapi"$/m);
  assert.match(toml, /^\[model_providers\.ztoapi\]$/m);
  assert.match(toml, /^base_url = "https:\/\/gw\.example\.com\/v1"$/m);
  assert.match(toml, /^wire_api = "responses"$/m);
  assert.match(toml, /^env_key = "ZTOAPI_KEY"$/m);
  assert.match(toml, /^model_context_window = 200000$/m, "glm-5's window from the model table");
  const shell = block(codex, "Shell · then run codex");
  assert.match(shell, /^export ZTOAPI_KEY="YOUR_KEY"$/m);
  assert.match(shell, /codex exec --skip-git-repo-check/);
  assert.ok(html.includes('<a href="#codex">Codex</a>'), "linked from the table of contents");
});

Deno.test("the Codex model follows MODEL_ALIASES like the other examples", async () => {
  const html = await render({ MODEL_ALIASES: "claude-sonnet*=glm-4.6v" });
  const toml = block(section(html, "codex"), "~/.codex/config.toml");
  assert.match(toml, /^model = "glm-4.6v"$/m);
  assert.match(toml, /^model_context_window = 128000$/m);
});

Deno.test("the Responses API section names the route, the subset and what is not stored", async () => {
  const html = await render();
  const responses = section(html, "responses");
  const text = unescape(responses.replace(/<[^>]+>/g, "")).replace(/\s+/g, " ");
  assert.match(text, /POST \/v1\/responses/);
  assert.match(text, /previous_response_id is refused/);
  assert.match(
    block(responses, "cURL · Responses (JSON)"),
    /curl http:\/\/localhost:9090\/v1\/responses/,
  );
  assert.match(block(responses, "Python · openai, Responses API"), /client\.responses\.create/);
  assert.ok(html.includes('<a href="#responses">Responses API</a>'));
});
