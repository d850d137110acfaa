/** The docs page's services: the "Other services" table, and each service's own page at /s/{slug}/. */

import assert from "node:assert/strict";
import { startServicesGateway } from "../support/services.ts";

function unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function textOf(fragment: string): string {
  return unescape(fragment.replace(/<[^>]+>/g, "")).replace(/\s+/g, " ").trim();
}

/** The services section's table rows, as cell texts and the Docs cell's link. */
function serviceRows(html: string): { cells: string[]; link: string | null }[] {
  const start = html.indexOf('<section id="services"');
  assert.ok(start >= 0, "the services section is on the page");
  const section = html.slice(start, html.indexOf("</section>", start));
  const body = section.slice(section.indexOf("<tbody"), section.indexOf("</tbody>"));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map(([, row]) => ({
    cells: [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map(([, cell]) => textOf(cell)),
    link: row.match(/<a href="([^"]+)"/)?.[1] ?? null,
  }));
}

function baseUrls(html: string): string[] {
  return [...html.matchAll(/<code class="copyable">([^<]*)<\/code>/g)].map(([, url]) =>
    unescape(url)
  );
}

function exampleCode(html: string): string {
  return [...html.matchAll(/<pre[^>]*><code>(.*?)<\/code><\/pre>/gs)]
    .map(([, code]) => unescape(code)).join("\n");
}

function servicesGateway() {
  return startServicesGateway([
    { slug: "zai-coding", name: "Z.ai Coding Plan", key: "k1", path: "/api/coding/paas/v4" },
    { slug: "zai", key: "k2" },
    { slug: "china", name: "BigModel", key: "k3", enabled: false },
    { slug: "spare" }, // no keys yet
  ], { CORS_ORIGINS: "https://app.example.com" });
}

Deno.test("the page ends with the services table: Service, Slug, Protocol, Base Path, Docs, Enabled", async () => {
  await using gw = await servicesGateway();
  const html = await gw.fetch(`${gw.url}/`).then((r) => r.text());
  const main = html.slice(html.indexOf("<main"), html.indexOf("</main>"));
  const sections = [...main.matchAll(/<section id="([^"]+)"/g)].map(([, id]) => id);
  assert.equal(sections.at(-1), "services", "the services section comes last");
  assert.match(main, /<h2 id="services-h">Other services<\/h2>/);
  const head = main.slice(main.lastIndexOf("<thead"), main.lastIndexOf("</thead>"));
  assert.deepEqual(
    [...head.matchAll(/<th [^>]*>(.*?)<\/th>/g)].map(([, h]) => h),
    ["Service", "Slug", "Protocol", "Base Path", "Docs", "Enabled"],
  );
  const protocol = "OpenAI- and Anthropic-compatible";
  assert.deepEqual(serviceRows(html), [
    {
      cells: [
        "Z.ai Coding Plan",
        "zai-coding",
        protocol,
        "/s/zai-coding",
        "/s/zai-coding/",
        "Yes",
      ],
      link: "/s/zai-coding/",
    },
    {
      cells: ["GLM API at 127.0.0.1", "zai", protocol, "/s/zai", "/s/zai/", "Yes"],
      link: "/s/zai/",
    },
    { cells: ["BigModel", "china", protocol, "/s/china", "—", "No"], link: null },
    {
      cells: ["GLM API at 127.0.0.1", "spare", protocol, "/s/spare", "/s/spare/", "Yes"],
      link: "/s/spare/",
    },
  ]);
  // The root page is the default (first) service's, at the root URLs.
  assert.deepEqual(baseUrls(html), [`${gw.url}/v1`, gw.url]);
  assert.match(html, /<form id="key-form"[^>]* data-key-url="\/v1\/key"/);
  assert.match(
    textOf(html),
    /these URLs follow the address you opened this page with; they reach the default service, Z\.ai Coding Plan, which is also at \/s\/zai-coding\./i,
  );
  assert.match(textOf(html), /Browser apps may call these routes from https:\/\/app\.example\.com/);
});

Deno.test("/s/{slug}/ is that service's page: its examples use the service's base URL", async () => {
  await using gw = await servicesGateway();
  for (const path of ["/s/zai/", "/s/zai", "/s/zai/docs"]) {
    const response = await gw.fetch(`${gw.url}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const html = await response.text();
    const base = `${gw.url}/s/zai`;
    assert.deepEqual(baseUrls(html), [`${base}/v1`, base]);
    const code = exampleCode(html);
    const urls = [...code.matchAll(/https?:\/\/[^\s"'\\]+/g)].map(([url]) => url);
    assert.ok(urls.length >= 10);
    for (const url of urls) assert.ok(url.startsWith(`${base}`), `${url} uses ${base}`);
    assert.ok(code.includes(`curl ${base}/v1/messages`));
    assert.ok(code.includes(`OpenAI(base_url="${base}/v1"`));
    assert.ok(code.includes(`anthropic.Anthropic(base_url="${base}"`));
    assert.ok(code.includes(`export ANTHROPIC_BASE_URL="${base}"`));
    assert.ok(code.includes(`"baseUrl": "${base}"`));
    assert.match(html, /<title>ZtoApi · GLM API at 127\.0\.0\.1<\/title>/);
    assert.match(
      textOf(html),
      /they reach the service GLM API at 127\.0\.0\.1 \(zai\) at its service route \/s\/zai\./,
    );
    assert.match(html, /<form id="key-form"[^>]* data-key-url="\/s\/zai\/v1\/key"/);
    const rows = serviceRows(html);
    assert.deepEqual(rows.map((row) => row.cells[4]), [
      "/s/zai-coding/",
      "This page",
      "—",
      "/s/spare/",
    ]);
  }
});

Deno.test("a service without keys says so on its page, naming its variable", async () => {
  await using gw = await servicesGateway();
  const spare = textOf(await gw.fetch(`${gw.url}/s/spare/`).then((r) => r.text()));
  assert.match(
    spare,
    /not connected to Z\.ai yet: chat requests get 503 until the operator sets KEYS_SPARE/,
  );
  const coding = textOf(await gw.fetch(`${gw.url}/s/zai-coding/`).then((r) => r.text()));
  assert.match(coding, /This service is connected to Z\.ai/);
});
