/** The docs page's services: which one the page documents, and the table of them all. */

import type { Config } from "../core/config.ts";
import { type Service, servicePath } from "../core/services.ts";
import { code, markup, type SafeHtml, table } from "./html.ts";
import { yesNo } from "./reference.ts";

/** What every service speaks. */
export const SERVICE_PROTOCOL = "OpenAI- and Anthropic-compatible";

/** How the hero ends its sentence about the page's URLs: which service they reach. */
export function serviceLine(service: Readonly<Service>, basePath: string): SafeHtml {
  const route = servicePath(service.slug);
  if (basePath) {
    return markup`they reach the service <strong>${service.name}</strong> (${
      code(service.slug)
    }) at its service route ${code(route)}`;
  }
  return markup`they reach the default service, <strong>${service.name}</strong>, which is also
at ${code(route)}`;
}

function docsCell(service: Readonly<Service>, basePath: string): string | SafeHtml {
  const path = servicePath(service.slug);
  if (path === basePath) return "This page";
  if (!service.enabled) return "—";
  return markup`<a href="${path}/">${path}/</a>`;
}

/** The "Other services" section: Service, Slug, Protocol, Base Path, Docs, Enabled. */
export function servicesSection(config: Readonly<Config>, basePath: string): SafeHtml {
  const rows = config.services.map((service) => [
    service.name,
    code(service.slug),
    SERVICE_PROTOCOL,
    code(servicePath(service.slug)),
    docsCell(service, basePath),
    yesNo(service.enabled),
  ]);
  return markup`<section id="services" aria-labelledby="services-h">
<h2 id="services-h">Other services</h2>
<p>Every upstream of this gateway, each under its own base path: OpenAI clients add ${
    code("/v1")
  } to it, Anthropic clients use it as it is. Your key works on all of them, and the rate limit
and daily budget count across them. The routes at the root (${code("/v1/…")}) serve the first
service. A disabled service answers 503.</p>
${
    table({
      caption: "Services on this server",
      head: ["Service", "Slug", "Protocol", "Base Path", "Docs", "Enabled"],
      rows,
      stack: true,
    })
  }
</section>`;
}
