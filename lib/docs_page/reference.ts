/** The docs page's reference tables: models, limits, errors and routes, from MODELS and Config. */

import type { Config } from "../core/config.ts";
import { code, codeBlock, formatNumber, markup, type SafeHtml, table } from "./html.ts";
import { ApiError, type Dialect, errorBody } from "../core/errors.ts";
import { MODELS, UNKNOWN_MODEL_WEIGHT } from "../core/models.ts";

type Cell = string | SafeHtml;

/** How the page writes a budget weight (`0.1×`, `3×`). */
export function formatWeight(weight: number): string {
  return `${weight}×`;
}

/** A Yes / No cell. */
export function yesNo(value: boolean): SafeHtml {
  return value ? markup`<span class="yes">Yes</span>` : markup`<span class="no">No</span>`;
}

/** The models section: one row per entry of the model table, plus aliases. */
export function modelsSection(config: Readonly<Config>): SafeHtml {
  const rows = MODELS.map((m) => [
    code(m.id),
    formatWeight(m.weight),
    yesNo(m.vision),
    yesNo(m.thinking),
    formatNumber(m.contextWindow),
    formatNumber(Math.min(m.maxOutputTokens, config.maxOutputTokens)),
  ]);
  const aliases = config.modelAliases.map((a) =>
    markup`<li>${code(a.pattern)} <span aria-label="maps to">→</span> ${code(a.target)}</li>`
  );
  const aliasList = aliases.length === 0 ? "" : markup`<h3>Model aliases</h3>
<p>Client model names matching these patterns are sent as the GLM model on the right.</p>
<ul class="aliases">${aliases}</ul>`;
  return markup`<section id="models" aria-labelledby="models-h">
<h2 id="models-h">Models</h2>
<p>Use any of these ids as ${code("model")} (case does not matter). The weight multiplies a
request's tokens for the daily budget: weighted tokens = weight × (prompt + completion tokens).
A model not in this table is passed to Z.ai as it is and weighs ${
    formatWeight(UNKNOWN_MODEL_WEIGHT)
  }.</p>
${
    table({
      caption: "GLM models on this server",
      head: ["Model", "Weight", "Vision", "Thinking", "Context", "Max output"],
      rows,
    })
  }
${aliasList}
</section>`;
}

function limitValue(value: number, unit: string): SafeHtml {
  return markup`<strong>${formatNumber(value)}</strong> ${unit}`;
}

/** The limits section, with this server's live values. */
export function limitsSection(config: Readonly<Config>): SafeHtml {
  const budget = config.dailyTokenBudget === 0
    ? markup`<strong>Unlimited</strong>`
    : limitValue(config.dailyTokenBudget, "weighted tokens per user per UTC day");
  const rows: Cell[][] = [
    [
      "Requests per minute",
      limitValue(config.rateLimitRpm, "per key"),
      code("RATE_LIMIT_RPM"),
      "Further requests get 429 with Retry-After.",
    ],
    [
      "Daily token budget",
      budget,
      code("DAILY_TOKEN_BUDGET"),
      "Once reached, 429 until 00:00 UTC.",
    ],
    [
      "Output tokens",
      limitValue(config.maxOutputTokens, "max_tokens at most"),
      code("MAX_OUTPUT_TOKENS"),
      "Larger max_tokens are lowered to this, not rejected.",
    ],
    [
      "Keys per user",
      limitValue(config.maxKeysPerUser, "active keys"),
      code("MAX_KEYS_PER_USER"),
      "Creating one more gets 409.",
    ],
    [
      "Key lifetime",
      limitValue(config.keyLifetimeDays, "days"),
      code("KEY_LIFETIME_DAYS"),
      "After that the key gets 403.",
    ],
    [
      "Request body",
      limitValue(config.maxBodyBytes / 1024 / 1024, "MiB"),
      "—",
      "Larger bodies get 413.",
    ],
    [
      "Upstream timeout",
      limitValue(config.upstreamTimeoutMs / 1000, "seconds"),
      code("UPSTREAM_TIMEOUT_MS"),
      "A slower Z.ai call ends with 504.",
    ],
  ];
  return markup`<section id="limits" aria-labelledby="limits-h">
<h2 id="limits-h">Limits</h2>
<p>The values this server runs with. Every client response carries
${code("x-ratelimit-limit-requests")}, ${code("x-ratelimit-remaining-requests")} and
${code("x-ratelimit-reset-requests")}; every 429 carries ${code("Retry-After")} in seconds.
A stream cut short still counts.</p>
${
    table({
      caption: "Limits on this server",
      head: ["Limit", "Value", "Setting", "Beyond it"],
      rows,
      stack: true,
    })
  }
</section>`;
}

const ERRORS: readonly (readonly [number, Cell, Cell])[] = [
  [
    400,
    "Malformed JSON, a missing or mistyped field (the message names it), or Z.ai rejected the request as invalid.",
    "Fix the field the message names, then retry.",
  ],
  [
    401,
    "Missing or unknown key.",
    markup`Send your key as ${code("Authorization: Bearer")} or ${code("x-api-key")}.`,
  ],
  [403, "Key disabled or expired, or user disabled.", "Ask the operator for a new key."],
  [
    404,
    "Unknown path, or unknown service under /s/{slug}.",
    markup`Check the base URL: OpenAI clients need ${code("/v1")}, Anthropic clients not.`,
  ],
  [
    405,
    "Wrong method on a known path.",
    markup`Use the method in the ${code("Allow")} header (see Routes).`,
  ],
  [413, "Request body over the size limit.", "Send fewer or smaller images, or less context."],
  [
    429,
    "Rate limit, daily budget, or Z.ai's own rate or quota limit.",
    markup`Wait ${code("Retry-After")} seconds; the budget resets at 00:00 UTC.`,
  ],
  [
    502,
    "Z.ai unreachable, failing, or refusing the operator's key (never your key's fault).",
    "Retry later; tell the operator if it persists.",
  ],
  [
    503,
    "The service has no Z.ai key yet, or the operator disabled it.",
    "Use another service (see Other services), or ask the operator.",
  ],
  [504, "Z.ai did not answer in time.", "Retry, stream, or send a shorter request."],
];

const SAMPLE_ERROR = new ApiError(
  401,
  "authentication",
  "Missing API key: send it as x-api-key or Authorization: Bearer",
);

/** The errors section: status, meaning and what to do, per the contract; bodies from errors.ts. */
export function errorsSection(): SafeHtml {
  const rows = ERRORS.map(([status, meaning, action]) => [String(status), meaning, action]);
  const body = (dialect: Dialect) => JSON.stringify(errorBody(SAMPLE_ERROR, dialect), null, 2);
  return markup`<section id="errors" aria-labelledby="errors-h">
<h2 id="errors-h">Errors</h2>
<p>Errors are always JSON, in the dialect of the route, and the message says what was wrong and
what to do. Once a stream has started, an error arrives inside it (OpenAI: a ${code("data:")} line
with an ${code("error")} object; Anthropic: ${code("event: error")}) and the stream then ends.</p>
<div class="pair">
${codeBlock("OpenAI routes: a 401, for example", body("openai"), "json")}
${codeBlock("Anthropic routes: the same 401", body("anthropic"), "json")}
</div>
${
    table({
      caption: "HTTP status codes",
      head: ["Status", "Meaning", "What to do"],
      rows,
      stack: true,
    })
  }
</section>`;
}

const ROUTES: readonly (readonly [string, string, string])[] = [
  ["GET /, GET /docs", "none", "This page."],
  ["GET /health", "none", '{"status":"ok"} and the version; never calls Z.ai.'],
  [
    "GET /v1/models",
    "client key",
    "The models (Anthropic shape with an anthropic-version header).",
  ],
  ["POST /v1/chat/completions", "client key", "OpenAI Chat Completions, streaming or not."],
  ["POST /v1/messages", "client key", "Anthropic Messages, streaming or not."],
  ["POST /v1/messages/count_tokens", "client key", "Anthropic token count."],
  ["POST /v1/complete", "client key", "Anthropic legacy Text Completions."],
  [
    "POST /v1/responses",
    "client key",
    "OpenAI Responses API (Codex), streaming or not; nothing stored.",
  ],
  ["GET /v1/key", "client key", "Your key: user, name, expiry, limits, today's usage."],
  ["/s/{slug}/…", "as the route", "Every route above and this page, for one service."],
  ["OPTIONS on client routes", "none", "CORS preflight (204)."],
  ["/admin/*", "ADMIN_KEY", "Key and user management, usage (below)."],
];

const ADMIN_ROUTES: readonly (readonly [string, string])[] = [
  ["POST /admin/keys", 'Create a key: {"user","name"?,"lifetime_days"?}; the key is shown once.'],
  ["GET /admin/keys?user=U", "List keys (id, name, prefix, last 4 characters, dates)."],
  ["PATCH /admin/keys/{id}", 'Disable or enable a key: {"disabled":true|false}.'],
  ["DELETE /admin/keys/{id}", "Revoke a key."],
  ["GET /admin/users/{user}", "A user and their overrides."],
  [
    "PATCH /admin/users/{user}",
    'Per-user overrides: {"disabled"?,"rate_limit_rpm"?,"daily_token_budget"?}.',
  ],
  [
    "GET /admin/usage?user=U&days=N",
    "Usage per day and model: requests, tokens, weighted tokens; &group_by=service sums it per service.",
  ],
];

/** The routes section, including the admin API and whether it is enabled here. */
export function routesSection(config: Readonly<Config>): SafeHtml {
  const admin = config.adminKey
    ? markup`The admin API is <strong>enabled</strong> on this server.`
    : markup`The admin API is <strong>disabled</strong> on this server (no ${
      code("ADMIN_KEY")
    }): its routes answer 404.`;
  return markup`<section id="routes" aria-labelledby="routes-h">
<h2 id="routes-h">Routes</h2>
${
    table({
      caption: "Public and client routes",
      head: ["Route", "Auth", "What"],
      rows: ROUTES.map(([route, auth, what]) => [code(route), auth, what]),
      stack: true,
    })
  }
<h3>Admin API</h3>
<p>${admin} Send ${code("Authorization: Bearer ADMIN_KEY")}; JSON in and out. Operators can do
the same on the server's own KV with ${code("deno task keys create --user alice")} (also
${code("list")}, ${code("disable")}, ${code("enable")}, ${code("revoke")}).</p>
${
    table({
      caption: "Admin routes",
      head: ["Route", "What"],
      rows: ADMIN_ROUTES.map(([route, what]) => [code(route), what]),
      stack: true,
    })
  }
</section>`;
}
