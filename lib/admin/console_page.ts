/**
 * The operator's console at `GET /admin`: one self-contained page that holds no data. It asks for
 * the admin key, keeps it in sessionStorage, and draws everything from the admin API.
 */

import { VERSION } from "../core/version.ts";
import { CHART_SCRIPT } from "../docs_page/chart.ts";
import { CHART_STYLE } from "../docs_page/chart_style.ts";
import { ICON, LOGO } from "../docs_page/content.ts";
import { markup, SafeHtml } from "../docs_page/html.ts";
import { htmlPageResponse } from "../docs_page/page.ts";
import { CONSOLE_SHELL_SCRIPT } from "./console_script.ts";
import { CONSOLE_STYLE } from "./console_style.ts";
import { CONSOLE_KEYS_SCRIPT } from "./console_keys.ts";
import { CONSOLE_OVERVIEW_SCRIPT } from "./console_overview.ts";
import { CONSOLE_REQUESTS_SCRIPT } from "./console_requests.ts";
import { CONSOLE_USERS_SCRIPT } from "./console_users.ts";

/** What the page is generated from. */
export interface ConsoleView {
  /** The per-response CSP nonce of the inline style and scripts. */
  nonce: string;
  /** Whether the gateway serves `GET /admin/upstream` (the page then shows the pool's state). */
  upstreamRoute: boolean;
}

const SCRIPT = `(() => {
"use strict";
${CONSOLE_SHELL_SCRIPT}
${CONSOLE_OVERVIEW_SCRIPT}
${CONSOLE_USERS_SCRIPT}
${CONSOLE_KEYS_SCRIPT}
${CONSOLE_REQUESTS_SCRIPT}
start();
})();`;

function view(id: string, title: string, intro = ""): SafeHtml {
  return markup`<section id="view-${id}" class="view" aria-labelledby="view-${id}-h" hidden>
<h1 id="view-${id}-h" tabindex="-1">${title}</h1>
${intro ? markup`<p class="fine">${intro}</p>` : ""}
<div class="view-body"></div>
</section>`;
}

/** The whole console as one HTML document. */
export function consolePageHtml({ nonce, upstreamRoute }: ConsoleView): string {
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>ZtoApi · console</title>
<link rel="icon" href="${ICON}">
<style nonce="${nonce}">${new SafeHtml(CONSOLE_STYLE + CHART_STYLE)}</style>
</head>
<body data-upstream="${String(upstreamRoute)}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<div class="wrap header-row">
<a class="brand" href="#overview">${LOGO}<span>ZtoApi console</span></a>
<span class="version">v${VERSION}</span>
<div class="nav-row">
<nav id="tabs" class="tabs" aria-label="Console" hidden>
<a href="#overview" data-view="overview">Overview</a>
<a href="#users" data-view="users">Users</a>
<a href="#requests" data-view="requests">Requests</a>
</nav>
<button id="sign-out" class="button quiet" type="button" hidden>Sign out</button>
</div>
</div>
</header>
<main id="main" class="wrap" tabindex="-1">
<p id="no-script" class="panel">The console needs JavaScript. The same figures are in the admin
API (<code>/admin/users</code>, <code>/admin/usage</code>, <code>/admin/requests</code>), with the
admin key as <code>Authorization: Bearer</code>.</p>
<section id="sign-in" class="narrow" aria-labelledby="sign-in-h" hidden>
<h1 id="sign-in-h">Sign in</h1>
<p>Enter this gateway's <code>ADMIN_KEY</code>. The page keeps it in this tab only (session
storage, never a cookie or the address) and sends it to this server alone, as a header, until you
sign out or close the tab.</p>
<form id="sign-in-form" class="panel">
<label for="admin-key">Admin key</label>
<div class="row">
<input id="admin-key" type="password" autocomplete="off" spellcheck="false" required>
<button class="button" type="submit">Sign in</button>
</div>
<p id="sign-in-status" class="status" role="status"></p>
</form>
</section>
${view("overview", "Overview")}
${view("users", "Users")}
${view("user", "User")}
${
    view(
      "requests",
      "Requests",
      "Recent client requests of this instance: no prompts, answers or keys.",
    )
  }
</main>
<footer class="site-footer"><div class="wrap">ZtoApi ${VERSION} · operator console ·
<a href="/">docs</a></div></footer>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<form method="dialog">
<h2 id="confirm-title">Are you sure?</h2>
<p id="confirm-text"></p>
<div class="actions">
<button class="button quiet" value="cancel" autofocus>Cancel</button>
<button class="button danger" value="ok" id="confirm-ok">Confirm</button>
</div>
</form>
</dialog>
<p id="live" class="sr-only" aria-live="polite"></p>
<script nonce="${nonce}">${new SafeHtml(CHART_SCRIPT + SCRIPT)}</script>
</body>
</html>
`.value;
}

/** Renders the console for this request (headers only for HEAD). */
export function renderConsolePage(request: Request, options: { upstreamRoute: boolean }): Response {
  return htmlPageResponse(
    request,
    (nonce) => consolePageHtml({ nonce, upstreamRoute: options.upstreamRoute }),
  );
}
