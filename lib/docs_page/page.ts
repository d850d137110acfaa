/** The docs page at `/`, `/docs` and `/s/{slug}/`: one self-contained response from Config and MODELS. */

import type { Config } from "../core/config.ts";
import type { Service } from "../core/services.ts";
import { docsPageHtml } from "./content.ts";

const HOST_PATTERN = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function firstValue(header: string | null): string | undefined {
  return header?.split(",")[0].trim() || undefined;
}

function isHost(value: string | null | undefined): value is string {
  return !!value && value.length <= 255 && HOST_PATTERN.test(value);
}

/**
 * The origin a visitor used to reach the server (`https://host[:port]`), honouring
 * `X-Forwarded-Proto` and `X-Forwarded-Host`. A host that is not a plain host name, IP address
 * and port is ignored, so nothing a client sends can smuggle markup or shell syntax into examples.
 */
export function publicOrigin(request: Request, url = new URL(request.url)): string {
  const proto = firstValue(request.headers.get("x-forwarded-proto"))?.toLowerCase();
  const scheme = proto === "http" || proto === "https" ? proto : url.protocol.replace(/:$/, "");
  const host = [
    firstValue(request.headers.get("x-forwarded-host")),
    request.headers.get("host")?.trim(),
    url.host,
  ].find(isHost) ?? "localhost";
  return `${scheme}://${host}`;
}

function makeNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

/** The page's Content-Security-Policy: its own inline style and script (by nonce), nothing else. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
  ].join("; ");
}

/** Which page: the service it documents and where its routes are. */
export interface DocsPageOptions {
  /** The request's parsed URL (default: parsed from the request). */
  url?: URL;
  /** The service the page documents (default: the first one, which the root routes serve). */
  service?: Readonly<Service>;
  /** `/s/{slug}` on a service's own page; empty (the default) at the root. */
  basePath?: string;
}

/** Renders the docs page for this request (headers only for HEAD). */
export function renderDocsPage(
  request: Request,
  config: Readonly<Config>,
  options: DocsPageOptions = {},
): Response {
  const basePath = options.basePath ?? "";
  return htmlPageResponse(request, (nonce) =>
    docsPageHtml({
      config,
      origin: publicOrigin(request, options.url) + basePath,
      nonce,
      service: options.service ?? config.services[0],
      basePath,
    }));
}

/**
 * A self-contained HTML page (headers only for HEAD) with a fresh nonce for its inline style and
 * scripts, and the headers that keep it to itself: the CSP, no sniffing, no framing, no caching.
 */
export function htmlPageResponse(request: Request, render: (nonce: string) => string): Response {
  const nonce = makeNonce();
  const body = render(nonce);
  return new Response(request.method === "HEAD" ? null : body, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": contentSecurityPolicy(nonce),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cache-control": "no-store",
    },
  });
}
