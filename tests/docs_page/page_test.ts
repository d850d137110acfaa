/** The docs page says what the server does: Config and MODELS, base URLs, safety headers. */

import assert from "node:assert/strict";
import { createGovernance } from "../../lib/governance/governance.ts";
import { createHandler } from "../../lib/app.ts";
import { BUILTIN_DEFAULT_KEY, loadConfig } from "../../lib/core/config.ts";
import { renderDocsPage } from "../../lib/docs_page/page.ts";
import { escapeHtml, markup } from "../../lib/docs_page/html.ts";
import { PAGE_SCRIPT } from "../../lib/docs_page/script.ts";
import { MODELS, UNKNOWN_MODEL_WEIGHT } from "../../lib/core/models.ts";

type Env = Record<string, string>;

async function render(env: Env = {}, headers: HeadersInit = {}, url = "http://localhost:9090/") {
  const response = renderDocsPage(new Request(url, { headers }), loadConfig(env), {
    url: new URL(url),
  });
  return { response, html: await response.text() };
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function textOf(fragment: string): string {
  return unescape(fragment.replace(/<[^>]+>/g, "")).replace(/\s+/g, " ").trim();
}

function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section #${id} is on the page`);
  return html.slice(start, html.indexOf("</section>", start));
}

/** Table body rows of a fragment, as cell texts. */
function rows(fragment: string): string[][] {
  const body = fragment.slice(fragment.indexOf("<tbody"), fragment.indexOf("</tbody>"));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map(([, row]) =>
    [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map(([, cell]) => textOf(cell))
  );
}

/** Every code block on the page: title → code (unescaped). */
function codeBlocks(html: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const pattern = /<span>([^<]*)<\/span><\/figcaption>\s*<pre[^>]*><code>(.*?)<\/code><\/pre>/gs;
  for (const [, title, code] of html.matchAll(pattern)) blocks.set(unescape(title), unescape(code));
  return blocks;
}

function block(html: string, titleStart: string): string {
  const found = [...codeBlocks(html)].find(([title]) => title.startsWith(titleStart));
  assert.ok(found, `a code block titled "${titleStart}…"`);
  return found[1];
}

function baseUrls(html: string): string[] {
  return [...html.matchAll(/<code class="copyable">([^<]*)<\/code>/g)].map(([, url]) =>
    unescape(url)
  );
}

Deno.test("models table lists every model with its weight, vision and thinking", async () => {
  const { html } = await render();
  const models = section(html, "models");
  const yesNo = (value: boolean) => value ? "Yes" : "No";
  assert.deepEqual(
    rows(models).map((cells) => cells.slice(0, 4)),
    MODELS.map((m) => [m.id, `${m.weight}×`, yesNo(m.vision), yesNo(m.thinking)]),
  );
  assert.match(textOf(models), new RegExp(`weighs ${UNKNOWN_MODEL_WEIGHT}×`));
  assert.match(textOf(section(html, "models")), /claude-haiku\* → glm-4\.5-air/);
  assert.ok(html.includes(`<strong>${MODELS.length}</strong> GLM models`));
});

Deno.test("limits table shows the values the server runs with", async () => {
  const { html } = await render({
    RATE_LIMIT_RPM: "37",
    DAILY_TOKEN_BUDGET: "1234567",
    MAX_OUTPUT_TOKENS: "4321",
    MAX_KEYS_PER_USER: "7",
    KEY_LIFETIME_DAYS: "45",
    UPSTREAM_TIMEOUT_MS: "90000",
  });
  const limits = Object.fromEntries(
    rows(section(html, "limits")).map(([name, value]) => [name, value]),
  );
  assert.equal(limits["Requests per minute"], "37 per key");
  assert.equal(limits["Daily token budget"], "1,234,567 weighted tokens per user per UTC day");
  assert.equal(limits["Output tokens"], "4,321 max_tokens at most");
  assert.equal(limits["Keys per user"], "7 active keys");
  assert.equal(limits["Key lifetime"], "45 days");
  assert.equal(limits["Upstream timeout"], "90 seconds");
  assert.equal(limits["Request body"], "32 MiB");
  const models = rows(section(html, "models"));
  assert.ok(models.every((cells) => cells[5] === "4,321"), "max output is capped by the config");

  const defaults = Object.fromEntries(
    rows(section((await render()).html, "limits")).map(([name, value]) => [name, value]),
  );
  assert.equal(defaults["Daily token budget"], "Unlimited");
  assert.equal(defaults["Requests per minute"], "120 per key");
});

Deno.test("warning banner shows only while DEFAULT_KEY is the built-in one", async () => {
  const builtin = (await render()).html;
  assert.ok(builtin.includes('id="default-key-warning"'));
  assert.ok(builtin.includes(BUILTIN_DEFAULT_KEY));
  for (const key of ["sk-operator-chosen-secret-0123456789", ""]) {
    const { html } = await render({ DEFAULT_KEY: key });
    assert.ok(!html.includes("default-key-warning"), `no banner with DEFAULT_KEY=${key}`);
  }
});

Deno.test("secrets from the configuration never appear on the page", async () => {
  const secrets = {
    DEFAULT_KEY: "sk-default-secret-value-0123456789",
    ADMIN_KEY: "admin-secret-value-0123456789",
    UPSTREAM_API_KEY: "zai-secret-one,zai-secret-two",
  };
  const { html } = await render(secrets);
  for (const secret of ["sk-default-secret", "admin-secret", "zai-secret"]) {
    assert.ok(!html.includes(secret), `${secret} is not on the page`);
  }
  assert.match(textOf(section(html, "routes")), /admin API is enabled/);
  assert.match(textOf(section((await render()).html, "routes")), /admin API is disabled/);
});

Deno.test("base URLs follow the Host header", async () => {
  const { html } = await render({}, { host: "gw.example.com:8443" });
  assert.deepEqual(baseUrls(html), ["http://gw.example.com:8443/v1", "http://gw.example.com:8443"]);
});

Deno.test("base URLs honour X-Forwarded-Proto and X-Forwarded-Host (first value)", async () => {
  const one = await render({}, {
    host: "10.0.0.5:9090",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.org",
  });
  assert.deepEqual(baseUrls(one.html), ["https://api.example.org/v1", "https://api.example.org"]);
  const chain = await render({}, {
    "x-forwarded-proto": "HTTPS, http",
    "x-forwarded-host": "edge.example.net, inner.example",
  });
  assert.deepEqual(baseUrls(chain.html)[1], "https://edge.example.net");
  const bogus = await render({}, { host: "gw.example.com", "x-forwarded-proto": "javascript" });
  assert.deepEqual(baseUrls(bogus.html)[1], "http://gw.example.com");
});

Deno.test("every URL in the examples uses the visitor's base URL", async () => {
  const origin = "https://proxy.example.com";
  const { html } = await render({}, {
    "x-forwarded-proto": "https",
    "x-forwarded-host": "proxy.example.com",
  });
  const code = [...codeBlocks(html).values()].join("\n");
  const urls = [...code.matchAll(/https?:\/\/[^\s"'\\]+/g)].map(([url]) => url);
  assert.ok(urls.length >= 10);
  for (const url of urls) assert.ok(url.startsWith(origin), `${url} starts with ${origin}`);
  assert.ok(code.includes(`curl ${origin}/v1/chat/completions`));
  assert.ok(code.includes(`curl -N ${origin}/v1/chat/completions`));
  assert.ok(code.includes(`curl ${origin}/v1/messages`));
  assert.ok(code.includes(`OpenAI(base_url="${origin}/v1"`));
  assert.ok(code.includes(`anthropic.Anthropic(base_url="${origin}"`));
});

Deno.test("a hostile Host header is neither rendered nor able to inject markup", async () => {
  const hostile = 'evil.example"><script>alert(1)</script>';
  const { html } = await render({}, {
    host: hostile,
    "x-forwarded-host": "x.example/<img src=x onerror=alert(1)>$(touch /tmp/pwned)",
  }, "http://127.0.0.1:9090/");
  assert.equal(html.match(/<script/g)?.length, 1, "only the page's own script");
  assert.ok(!html.includes("onerror"));
  assert.ok(!html.includes("$(touch"));
  assert.ok(!html.includes("evil.example"));
  assert.deepEqual(baseUrls(html), ["http://127.0.0.1:9090/v1", "http://127.0.0.1:9090"]);
});

Deno.test("markup escapes every interpolated value", () => {
  const hostile = `<script>alert("x")</script>&'`;
  assert.equal(
    markup`<p title="${hostile}">${hostile}</p>`.value,
    `<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}</p>`,
  );
  assert.equal(escapeHtml(hostile), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
  assert.equal(markup`<b>${markup`<i>${"<"}</i>`}</b>`.value, "<b><i>&lt;</i></b>");
});

Deno.test("CSP allows only the page's own style and script; safety headers are set", async () => {
  const first = await render();
  const headers = first.response.headers;
  assert.equal(headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(headers.get("x-content-type-options"), "nosniff");
  assert.equal(headers.get("referrer-policy"), "no-referrer");
  const csp = headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
  );
  const nonce = first.html.match(/<script nonce="([^"]+)">/)?.[1];
  assert.ok(nonce && nonce.length >= 16);
  assert.deepEqual(directives.get("default-src"), ["'none'"]);
  assert.deepEqual(directives.get("script-src"), [`'nonce-${nonce}'`]);
  assert.deepEqual(directives.get("style-src"), [`'nonce-${nonce}'`]);
  assert.deepEqual(directives.get("connect-src"), ["'self'"]);
  assert.deepEqual(directives.get("img-src"), ["'self'", "data:"]);
  assert.deepEqual(directives.get("base-uri"), ["'none'"]);
  assert.deepEqual(directives.get("frame-ancestors"), ["'none'"]);
  assert.deepEqual(directives.get("form-action"), ["'self'"]);
  for (const forbidden of ["http:", "https:", "*", "'unsafe-inline'", "'unsafe-eval'"]) {
    assert.ok(!csp.includes(forbidden), `CSP has no ${forbidden}`);
  }
  assert.ok(first.html.includes(`<style nonce="${nonce}">`));
  assert.equal(first.html.match(/<style/g)?.length, 1);
  assert.ok(!/\s(?:src|srcset)=/.test(first.html), "nothing is loaded by src");
  assert.ok(!/(?:href|action)="(?:https?:)?\/\//.test(first.html), "no links to other origins");
  assert.ok(!/@import|url\(/.test(first.html), "the stylesheet loads nothing");
  assert.ok(!/\sstyle=/.test(first.html), "no inline style attributes (CSP would block them)");
  const second = await render();
  assert.notEqual(second.html.match(/<script nonce="([^"]+)">/)?.[1], nonce, "a fresh nonce");
});

Deno.test("Claude Code block sets the ANTHROPIC_* environment from config and MODELS", async () => {
  const origin = "https://gw.example.com";
  const { html } = await render({}, { host: "gw.example.com", "x-forwarded-proto": "https" });
  const shell = block(html, "Shell · then run claude");
  const env = Object.fromEntries(
    [...shell.matchAll(/^export (\w+)="([^"]*)"$/gm)].map(([, name, value]) => [name, value]),
  );
  assert.deepEqual(env, {
    ANTHROPIC_BASE_URL: origin,
    ANTHROPIC_AUTH_TOKEN: "YOUR_KEY",
    ANTHROPIC_DEFAULT_OPUS_MODEL: "glm-5",
    ANTHROPIC_DEFAULT_SONNET_MODEL: "glm-5",
    ANTHROPIC_DEFAULT_HAIKU_MODEL: "glm-4.5-air",
    CLAUDE_CODE_AUTO_COMPACT_WINDOW: "180000",
    API_TIMEOUT_MS: "360000",
  });
  assert.deepEqual(JSON.parse(block(html, "~/.claude/settings.json")), { env });
});

Deno.test("Claude Code block follows MODEL_ALIASES and the model's context window", async () => {
  const { html } = await render({
    MODEL_ALIASES: "claude-opus*=glm-5.1,claude-sonnet*=glm-4.5,claude-haiku*=glm-4.5-flash",
    UPSTREAM_TIMEOUT_MS: "600000",
  });
  const shell = block(html, "Shell · then run claude");
  assert.match(shell, /^export ANTHROPIC_DEFAULT_OPUS_MODEL="glm-5\.1"$/m);
  assert.match(shell, /^export ANTHROPIC_DEFAULT_SONNET_MODEL="glm-4\.5"$/m);
  assert.match(shell, /^export ANTHROPIC_DEFAULT_HAIKU_MODEL="glm-4\.5-flash"$/m);
  const glm45 = MODELS.find((m) => m.id === "glm-4.5")!;
  const window = Math.floor(glm45.contextWindow * 0.9 / 1000) * 1000;
  assert.match(shell, new RegExp(`^export CLAUDE_CODE_AUTO_COMPACT_WINDOW="${window}"$`, "m"));
  assert.match(shell, /^export API_TIMEOUT_MS="660000"$/m);
  assert.match(block(html, "cURL · OpenAI Chat Completions (JSON)"), /"model":"glm-4\.5"/);
});

Deno.test("pi block is a valid models.json provider for this server, and its command", async () => {
  const origin = "http://gw.example.com:9090";
  const { html } = await render({ MAX_OUTPUT_TOKENS: "65536" }, { host: "gw.example.com:9090" });
  const config = JSON.parse(block(html, "~/.pi/agent/models.json"));
  const provider = config.providers.ztoapi;
  assert.equal(provider.api, "anthropic-messages");
  assert.equal(provider.baseUrl, origin);
  assert.equal(provider.apiKey, "YOUR_KEY");
  assert.equal(provider.authHeader, true);
  assert.deepEqual(provider.models.map((m: { id: string }) => m.id), MODELS.map((m) => m.id));
  const glm5 = provider.models.find((m: { id: string }) => m.id === "glm-5");
  assert.deepEqual(glm5, {
    id: "glm-5",
    reasoning: true,
    input: ["text"],
    contextWindow: 200000,
    maxTokens: 65536,
  });
  assert.deepEqual(provider.models.find((m: { id: string }) => m.id === "glm-4.6v").input, [
    "text",
    "image",
  ]);
  assert.ok(codeBlocks(html).has("Shell"));
  assert.equal(codeBlocks(html).get("Shell"), "pi --provider ztoapi --model glm-5");
});

Deno.test("the page script, the JavaScript example and the JSON examples parse", async () => {
  const { html } = await render();
  const AsyncFunction = (async () => {}).constructor as new (body: string) => unknown;
  assert.doesNotThrow(() => new AsyncFunction(PAGE_SCRIPT));
  assert.ok(html.includes(PAGE_SCRIPT), "the script is inlined as is");
  assert.doesNotThrow(() => new AsyncFunction(block(html, "JavaScript · fetch")));
  for (const [title, code] of codeBlocks(html)) {
    if (title.endsWith(".json") || title.includes("401")) {
      assert.doesNotThrow(() => JSON.parse(code), title);
    }
  }
});

Deno.test("routes and errors tables cover the contract", async () => {
  const { html } = await render();
  const routes = rows(section(html, "routes")).map(([route]) => route);
  for (
    const route of [
      "GET /, GET /docs",
      "GET /health",
      "GET /v1/models",
      "POST /v1/chat/completions",
      "POST /v1/messages",
      "POST /v1/messages/count_tokens",
      "POST /v1/complete",
      "POST /v1/responses",
      "GET /v1/key",
      "/admin/*",
    ]
  ) assert.ok(routes.includes(route), route);
  const errors = section(html, "errors");
  assert.deepEqual(
    rows(errors).map(([status]) => Number(status)),
    [400, 401, 403, 404, 405, 413, 429, 502, 503, 504],
  );
  assert.ok(
    rows(errors).every((cells) =>
      cells.length === 3 && cells.every((c) => c.length > 5 || /^\d+$/.test(c))
    ),
  );
  const openai = JSON.parse(block(errors, "OpenAI routes"));
  const anthropic = JSON.parse(block(errors, "Anthropic routes"));
  assert.equal(typeof openai.error.message, "string");
  assert.equal(anthropic.type, "error");
  assert.equal(anthropic.error.type, "authentication_error");
});

Deno.test("streaming default and reasoning output are described as configured", async () => {
  const streaming = textOf(section((await render()).html, "examples"));
  assert.match(
    streaming,
    /streams \(DEFAULT_STREAM=true\) only when the client asks for an event stream \(Accept: text\/event-stream\) or is a command-line call: no Accept header, or cURL, Wget or HTTPie; the SDKs and other HTTP clients get one JSON response/,
  );
  assert.match(streaming, /reasoning_content/);
  const json = textOf(
    section(
      (await render({ DEFAULT_STREAM: "false", REASONING_OUTPUT: "think_tags" })).html,
      "examples",
    ),
  );
  assert.match(
    json,
    /streams only when the client asks for an event stream \(Accept: text\/event-stream\); every other call gets one JSON response \(DEFAULT_STREAM=false\)/,
  );
  assert.match(json, /wrapped in <think>…<\/think>/);
});

Deno.test("GET /, GET /docs and HEAD / over a real server", async () => {
  const config = loadConfig({ DEFAULT_KEY: "sk-docs-page-test-0123456789" });
  const kv = await Deno.openKv(":memory:");
  const governance = createGovernance({ config, kv, now: Date.now });
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createHandler({ config, kv, governance, log: () => {} }),
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (const path of ["/", "/docs"]) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
      const html = await response.text();
      assert.deepEqual(baseUrls(html), [`${base}/v1`, base]);
    }
    const head = await fetch(`${base}/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.ok(head.headers.get("content-security-policy")?.startsWith("default-src 'none'"));
    assert.equal(await head.text(), "");
  } finally {
    kv.close();
  }
});
