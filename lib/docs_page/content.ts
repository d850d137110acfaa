/** The docs page's markup: layout, introduction, authentication, key check, examples, services. */

import { BUILTIN_DEFAULT_KEY, type Config } from "../core/config.ts";
import type { Service } from "../core/services.ts";
import {
  apiExamples,
  claudeCodeExamples,
  type Example,
  type ExampleContext,
  KEY_PLACEHOLDER,
  keyCheckCurl,
  piExamples,
} from "./examples.ts";
import { codexSection, responsesSection } from "./codex.ts";
import { code, codeBlock, formatNumber, markup, SafeHtml } from "./html.ts";
import { errorsSection, limitsSection, modelsSection, routesSection } from "./reference.ts";
import { serviceLine, servicesSection } from "./services.ts";
import { CHART_SCRIPT } from "./chart.ts";
import { CHART_STYLE } from "./chart_style.ts";
import { PAGE_SCRIPT } from "./script.ts";
import { PAGE_STYLE } from "./style.ts";
import { MODELS } from "../core/models.ts";
import { VERSION } from "../core/version.ts";

/** What the page is generated from. */
export interface DocsView extends ExampleContext {
  /** The per-response CSP nonce of the inline style and script. */
  nonce: string;
  /** The service the page documents. */
  service: Readonly<Service>;
  /** `/s/{slug}` on a service's own page, empty at the root. */
  basePath: string;
}

/** The site icon, inline (no request). */
export const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E" +
  "%3Crect width='32' height='32' rx='8' fill='%233451d1'/%3E%3Cpath d='M10 10h12L10 22h12' " +
  "stroke='white' stroke-width='3' fill='none' stroke-linecap='round' stroke-linejoin='round'/%3E" +
  "%3C/svg%3E";

/** The logo beside the name in the page header. */
export const LOGO =
  markup`<svg class="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
<rect width="32" height="32" rx="8"/><path d="M10 10h12L10 22h12"/></svg>`;

const SECTIONS: readonly (readonly [string, string])[] = [
  ["auth", "Authentication"],
  ["check-key", "Check a key"],
  ["examples", "Examples"],
  ["claude-code", "Claude Code"],
  ["pi", "pi"],
  ["codex", "Codex"],
  ["responses", "Responses API"],
  ["models", "Models"],
  ["limits", "Limits"],
  ["errors", "Errors"],
  ["routes", "Routes"],
  ["services", "Other services"],
];

function examples(list: Example[]): SafeHtml[] {
  return list.map((e) => codeBlock(e.title, e.code, e.language));
}

function defaultKeyBanner(config: Readonly<Config>): SafeHtml | "" {
  if (config.defaultKey !== BUILTIN_DEFAULT_KEY) return "";
  return markup`<div class="banner" id="default-key-warning" role="note" aria-label="Security warning">
<p><strong>This gateway accepts the public default key ${code(BUILTIN_DEFAULT_KEY)}.</strong>
Anyone who can reach it can use the operator's Z.ai account. Operators: set ${code("DEFAULT_KEY")}
to a secret value, or to an empty value to turn it off, and restart.</p>
</div>`;
}

function hero({ config, origin, service, basePath }: DocsView): SafeHtml {
  const upstream = service.keys.length > 0
    ? markup`<span class="ok">connected to Z.ai</span>`
    : markup`<span class="warn">not connected to Z.ai yet: chat requests get 503 until the operator
sets ${code(service.keysEnv)}</span>`;
  const budget = config.dailyTokenBudget === 0
    ? "No daily token budget"
    : `${formatNumber(config.dailyTokenBudget)} weighted tokens per user per day`;
  return markup`<section class="hero" aria-labelledby="title">
<p class="eyebrow">Z.ai GLM models · OpenAI and Anthropic APIs</p>
<h1 id="title">ZtoApi</h1>
<p class="lead">Use Z.ai's GLM models from any OpenAI or Anthropic client: the SDKs, cURL,
Claude Code, Codex, pi. Point the client at a base URL below and send the key you were given.</p>
<dl class="bases">
<div class="base"><dt>OpenAI base URL</dt><dd><code class="copyable">${origin}/v1</code></dd></div>
<div class="base"><dt>Anthropic base URL</dt><dd><code class="copyable">${origin}</code></dd></div>
</dl>
<ul class="facts">
<li><strong>${MODELS.length}</strong> GLM models</li>
<li><strong>${formatNumber(config.rateLimitRpm)}</strong> requests per minute per key</li>
<li>${budget}</li>
</ul>
<p class="fine">These URLs follow the address you opened this page with; ${
    serviceLine(service, basePath)
  }. This service is ${upstream}.</p>
</section>`;
}

function corsNote(config: Readonly<Config>): SafeHtml {
  const from = config.corsOrigins.includes("*")
    ? markup`from any origin`
    : markup`from ${config.corsOrigins.map((origin, i) => [i ? ", " : "", code(origin)])}`;
  return markup`<p>Browser apps may call these routes ${from} (CORS; set by ${
    code("CORS_ORIGINS")
  }). Keep keys out of pages other people load: anyone who can read the page can use the key.</p>`;
}

function authSection(config: Readonly<Config>): SafeHtml {
  const headers = `Authorization: Bearer ${KEY_PLACEHOLDER}\nx-api-key: ${KEY_PLACEHOLDER}`;
  return markup`<section id="auth" aria-labelledby="auth-h">
<h2 id="auth-h">Authentication</h2>
<p>Every route under ${code("/v1")} needs a key issued by the operator of this gateway. Send it
in either header; the SDKs do this for you when you pass the key as ${code("api_key")}.</p>
${codeBlock("HTTP headers (either one)", headers, "http")}
<p>A key looks like ${code("sk-")} followed by at least 40 letters and digits and is shown only
once, when it is created. It belongs to a user, lasts ${formatNumber(config.keyLifetimeDays)} days,
and a user holds at most ${formatNumber(config.maxKeysPerUser)} active keys.</p>
${corsNote(config)}
</section>`;
}

function keyCheckSection({ origin, basePath }: DocsView): SafeHtml {
  return markup`<section id="check-key" aria-labelledby="check-key-h">
<h2 id="check-key-h">Check a key</h2>
<p>See which user a key belongs to, when it expires, its limits, today's usage and the user's last
30 days. The key goes only to this server (${code("GET /v1/key?days=30")}); the page keeps
nothing.</p>
<form id="key-form" class="key-form" data-key-url="${basePath}/v1/key" hidden>
<label for="key-input">API key</label>
<div class="key-row">
<input id="key-input" type="password" autocomplete="off" spellcheck="false" placeholder="sk-…" required>
<button type="submit">Check key</button>
</div>
</form>
<div id="key-result" class="key-result" aria-live="polite">
<p id="key-status" class="key-status"></p>
<dl id="key-fields" class="key-fields"></dl>
<div id="key-chart" class="key-chart" hidden></div>
</div>
<p id="key-no-script" class="note">Checking a key here needs JavaScript. Without it, ask the server
with cURL:</p>
${codeBlock("cURL · the same check from a terminal", keyCheckCurl(origin))}
</section>`;
}

function examplesSection(context: ExampleContext): SafeHtml {
  const { config } = context;
  const eventStream = code("Accept: text/event-stream");
  const streaming = config.defaultStream
    ? markup`streams (${code("DEFAULT_STREAM=true")}) only when the client asks for an event
stream (${eventStream}) or is a command-line call: no ${code("Accept")} header, or cURL, Wget or
HTTPie; the SDKs and other HTTP clients get one JSON response`
    : markup`streams only when the client asks for an event stream (${eventStream}); every other
call gets one JSON response (${code("DEFAULT_STREAM=false")})`;
  const reasoning = {
    reasoning_content: markup`arrives in ${code("reasoning_content")} beside ${code("content")}`,
    think_tags: markup`arrives inside ${code("content")}, wrapped in ${code("<think>…</think>")}`,
    none: markup`is left out of OpenAI-route responses`,
  }[config.reasoningOutput];
  return markup`<section id="examples" aria-labelledby="examples-h">
<h2 id="examples-h">Examples</h2>
<p>Replace ${code(KEY_PLACEHOLDER)} with your key. On this server, a chat completion without a
${code("stream")} field ${streaming}; GLM's thinking ${reasoning}.</p>
${examples(apiExamples(context))}
</section>
<section id="claude-code" aria-labelledby="claude-code-h">
<h2 id="claude-code-h">Claude Code</h2>
<p>Set these in the shell that runs ${code("claude")}, or put them in ${
    code("~/.claude/settings.json")
  }. Claude Code does not know how much context GLM holds; ${
    code("CLAUDE_CODE_AUTO_COMPACT_WINDOW")
  } makes it compact the conversation before GLM runs out of room, and ${code("API_TIMEOUT_MS")}
lets it wait a little longer than this gateway waits for Z.ai. Unset ${code("ANTHROPIC_API_KEY")}
if your shell has it.</p>
${examples(claudeCodeExamples(context))}
</section>
<section id="pi" aria-labelledby="pi-h">
<h2 id="pi-h">pi</h2>
<p>Add this provider to ${code("~/.pi/agent/models.json")} (merge it into ${
    code("providers")
  } if the file exists; ${code("apiKey")} may also name an environment variable), then start pi
with it.</p>
${examples(piExamples(context))}
</section>`;
}

function toc(): SafeHtml {
  return markup`<nav class="toc" aria-label="On this page">
<p class="toc-title" aria-hidden="true">On this page</p>
<ol>${SECTIONS.map(([id, title]) => markup`<li><a href="#${id}">${title}</a></li>`)}</ol>
</nav>`;
}

/** The whole page as one HTML document. */
export function docsPageHtml(view: DocsView): string {
  const { config, nonce, service, basePath } = view;
  const title = basePath
    ? `ZtoApi · ${service.name}`
    : "ZtoApi · GLM models for OpenAI and Anthropic clients";
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="description" content="How to use this ZtoApi gateway: base URLs, keys, examples, models, limits and errors.">
<title>${title}</title>
<link rel="icon" href="${ICON}">
<style nonce="${nonce}">${new SafeHtml(PAGE_STYLE + CHART_STYLE)}</style>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<div class="wrap header-row">
<a class="brand" href="#main">${LOGO}<span>ZtoApi</span></a>
<span class="version">v${VERSION}</span>
</div>
</header>
<div class="wrap layout">
${toc()}
<main id="main" tabindex="-1">
${defaultKeyBanner(config)}
${hero(view)}
${authSection(config)}
${keyCheckSection(view)}
${examplesSection(view)}
${codexSection(view)}
${responsesSection(view)}
${modelsSection(config)}
${limitsSection(config)}
${errorsSection()}
${routesSection(config)}
${servicesSection(config, basePath)}
</main>
</div>
<footer class="site-footer">
<div class="wrap">ZtoApi ${VERSION} · generated from this server's configuration on every request ·
<a href="/health">/health</a></div>
</footer>
<script nonce="${nonce}">${new SafeHtml(CHART_SCRIPT + PAGE_SCRIPT)}</script>
</body>
</html>
`.value;
}
