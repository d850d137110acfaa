/** CORS on the client routes: preflights with the SDKs' real headers, headers on every answer, CORS_ORIGINS. */

import assert from "node:assert/strict";
import { Anthropic } from "../support/clients.ts";
import { OpenAI } from "../support/clients.ts";
import { CORS_ALLOWED_HEADERS } from "../../lib/core/cors.ts";
import { CHROMIUM_PATH, chromiumFor, launchChromium } from "../support/cdp.ts";
import { startGateway, TEST_KEY } from "../support/gateway.ts";
import { ADMIN_KEY } from "../support/kv_server.ts";
import { startServicesGateway } from "../support/services.ts";

const APP = "https://app.example.com";

/** Headers a browser never lists in a preflight: CORS-safelisted or set by the browser itself. */
const NOT_PREFLIGHTED = new Set(["accept", "user-agent", "content-length", "host", "connection"]);

/** The headers the OpenAI and Anthropic SDKs send in browser mode, as a browser would preflight them. */
async function sdkHeaderNames(): Promise<{ openai: string[]; anthropic: string[] }> {
  const seen: Headers[] = [];
  const recording = ((_input: unknown, init?: RequestInit) => {
    seen.push(new Headers(init?.headers));
    return Promise.resolve(Response.json({ error: { message: "recorded" } }, { status: 400 }));
  }) as unknown as typeof fetch;
  const options = { apiKey: "k", maxRetries: 0, dangerouslyAllowBrowser: true };
  await new OpenAI({
    ...options,
    baseURL: "http://gateway.test/v1",
    fetch: recording as unknown as NonNullable<ConstructorParameters<typeof OpenAI>[0]>["fetch"],
  }).chat.completions.create({ model: "glm-5", messages: [] }).catch(() => {});
  await new Anthropic({
    ...options,
    baseURL: "http://gateway.test",
    fetch: recording as unknown as NonNullable<ConstructorParameters<typeof Anthropic>[0]>["fetch"],
  }).messages.create({ model: "glm-5", max_tokens: 1, messages: [] }).catch(() => {});
  const names = (headers: Headers) => [...headers.keys()].filter((n) => !NOT_PREFLIGHTED.has(n));
  assert.equal(seen.length, 2, "each SDK made its request");
  return { openai: names(seen[0]), anthropic: names(seen[1]) };
}

function listOf(header: string | null): string[] {
  return (header ?? "").split(",").map((part) => part.trim().toLowerCase()).filter(Boolean);
}

async function preflight(url: string, requestHeaders: string[], origin = APP) {
  const response = await fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": requestHeaders.join(","),
    },
  });
  await response.body?.cancel();
  return response;
}

Deno.test("preflights with the OpenAI and Anthropic SDKs' real headers get 204 allowing them", async () => {
  const sdk = await sdkHeaderNames();
  assert.ok(sdk.openai.some((n) => n.startsWith("x-stainless-")), "the SDK's x-stainless headers");
  assert.ok(sdk.anthropic.includes("anthropic-dangerous-direct-browser-access"));
  await using gw = await startGateway();
  const cases: [string, string[]][] = [
    ["/v1/chat/completions", sdk.openai],
    ["/s/zai/v1/chat/completions", sdk.openai],
    ["/v1/messages", sdk.anthropic],
    ["/s/zai/v1/messages", sdk.anthropic],
    ["/s/zai/v1/messages/count_tokens", sdk.anthropic],
  ];
  for (const [path, names] of cases) {
    const response = await preflight(`${gw.url}${path}`, names);
    assert.equal(response.status, 204, path);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.ok(listOf(response.headers.get("access-control-allow-methods")).includes("post"));
    const allowed = listOf(response.headers.get("access-control-allow-headers"));
    for (const name of names) assert.ok(allowed.includes(name), `${path} allows ${name}`);
    assert.ok(Number(response.headers.get("access-control-max-age")) >= 600);
  }
  // GET routes: the methods they serve; no key needed for a preflight.
  const models = await preflight(`${gw.url}/s/zai/v1/models`, ["authorization"]);
  assert.equal(models.status, 204);
  assert.deepEqual(listOf(models.headers.get("access-control-allow-methods")), ["get", "options"]);
  assert.equal(gw.upstream.requests.length, 0, "preflights never reach Z.ai");
});

Deno.test("a preflight asking for nothing still lists the headers browser clients send", async () => {
  await using gw = await startGateway();
  const response = await fetch(`${gw.url}/v1/messages`, { method: "OPTIONS" });
  assert.equal(response.status, 204);
  const allowed = listOf(response.headers.get("access-control-allow-headers"));
  for (
    const name of [
      "authorization",
      "x-api-key",
      "content-type",
      "anthropic-version",
      "anthropic-beta",
      "anthropic-dangerous-direct-browser-access",
      "openai-beta",
      "x-stainless-retry-count",
    ]
  ) {
    assert.ok(allowed.includes(name), `allows ${name}`);
  }
  assert.deepEqual(allowed.slice(0, CORS_ALLOWED_HEADERS.length), [...CORS_ALLOWED_HEADERS]);
});

Deno.test("every client answer carries CORS headers: success, stream, errors; admin and docs none", async () => {
  await using gw = await startServicesGateway([
    { slug: "zai", key: "k1" },
    { slug: "off", key: "k2", enabled: false },
  ], { RATE_LIMIT_RPM: "3" });
  const call = (path: string, init: RequestInit = {}) =>
    gw.fetch(`${gw.url}${path}`, {
      ...init,
      headers: { origin: APP, "content-type": "application/json", ...init.headers },
    }).then(async (response) => ({ response, text: await response.text() }));
  const auth = { authorization: `Bearer ${TEST_KEY}`, accept: "application/json" };
  const chat = (stream: boolean) =>
    JSON.stringify({ model: "glm-4.5", stream, messages: [{ role: "user", content: "hi" }] });

  const answers = {
    json: await call("/s/zai/v1/chat/completions", {
      method: "POST",
      headers: auth,
      body: chat(false),
    }),
    stream: await call("/v1/chat/completions", { method: "POST", headers: auth, body: chat(true) }),
    models: await call("/s/zai/v1/models", { headers: auth }),
    noKey: await call("/s/zai/v1/messages", { method: "POST", body: "{}" }),
    unknownSlug: await call("/s/nope/v1/models", { headers: auth }),
    unknownPath: await call("/v1/nothing", { headers: auth }),
    disabled: await call("/s/off/v1/models", { headers: auth }),
    limited: await call("/v1/models", { headers: auth }),
  };
  const statuses = Object.fromEntries(
    Object.entries(answers).map(([name, { response }]) => [name, response.status]),
  );
  assert.deepEqual(statuses, {
    json: 200,
    stream: 200,
    models: 200,
    noKey: 401,
    unknownSlug: 404,
    unknownPath: 404,
    disabled: 503,
    limited: 429,
  });
  assert.match(answers.stream.response.headers.get("content-type")!, /^text\/event-stream/);
  for (const [name, { response }] of Object.entries(answers)) {
    assert.equal(response.headers.get("access-control-allow-origin"), "*", name);
    const exposed = listOf(response.headers.get("access-control-expose-headers"));
    for (
      const header of [
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
        "retry-after",
      ]
    ) {
      assert.ok(exposed.includes(header), `${name} exposes ${header}`);
    }
  }
  assert.ok(answers.limited.response.headers.get("retry-after"));

  const adminAnswer = await call("/admin/keys", {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(adminAnswer.response.status, 200);
  const adminPreflight = await call("/admin/keys", { method: "OPTIONS" });
  assert.equal(adminPreflight.response.status, 401, "the admin API answers no preflight");
  const docs = await call("/");
  for (const { response } of [adminAnswer, adminPreflight, docs]) {
    assert.equal(response.headers.get("access-control-allow-origin"), null);
  }
});

Deno.test("CORS_ORIGINS narrows the allowed origins; others get no Allow-Origin", async () => {
  await using gw = await startGateway({
    env: { CORS_ORIGINS: `${APP}, http://localhost:5173` },
  });
  const allowed = await preflight(`${gw.url}/v1/chat/completions`, ["authorization"], APP);
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get("access-control-allow-origin"), APP);
  assert.match(allowed.headers.get("vary") ?? "", /Origin/);
  const other = await preflight(
    `${gw.url}/v1/chat/completions`,
    ["authorization"],
    "https://evil.example",
  );
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const answer = await fetch(`${gw.url}/v1/models`, {
    headers: { origin: "http://localhost:5173", authorization: `Bearer ${TEST_KEY}` },
  });
  await answer.body?.cancel();
  assert.equal(answer.headers.get("access-control-allow-origin"), "http://localhost:5173");
  assert.match(answer.headers.get("vary") ?? "", /Origin/);
});

const chromium = chromiumFor("cors_test");

/** A page server on its own port: another origin than the gateway's. */
function startAppServer() {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () =>
      new Response("<!doctype html><title>app</title><p>app</p>", {
        headers: { "content-type": "text/html" },
      }),
  );
  return { origin: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test({
  name: chromium
    ? "a cross-origin fetch in Chromium works from an allowed origin and fails from another"
    : `a cross-origin fetch in Chromium (skipped: ${CHROMIUM_PATH} not installed)`,
  ignore: !chromium,
  async fn() {
    const sdk = await sdkHeaderNames();
    const allowedApp = startAppServer();
    const otherApp = startAppServer();
    await using gw = await startGateway({ env: { CORS_ORIGINS: allowedApp.origin } });
    await using browser = await launchChromium();
    try {
      // The Anthropic SDK's own browser headers, through a real preflight.
      const headers: Record<string, string> = {};
      for (const name of sdk.anthropic) headers[name] = name.startsWith("x-stainless") ? "x" : "";
      Object.assign(headers, {
        "x-api-key": TEST_KEY,
        authorization: `Bearer ${TEST_KEY}`,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "anthropic-dangerous-direct-browser-access": "true",
      });
      const script = `fetch(${JSON.stringify(`${gw.url}/s/zai/v1/messages`)}, {
        method: "POST",
        headers: ${JSON.stringify(headers)},
        body: JSON.stringify({ model: "glm-4.5", max_tokens: 50,
          messages: [{ role: "user", content: "from the browser" }] }),
      }).then(async (r) => ({ ok: true, status: r.status,
          remaining: r.headers.get("x-ratelimit-remaining-requests"),
          text: (await r.json()).content.filter((b) => b.type === "text")[0].text }),
        (e) => ({ ok: false, error: String(e) }))`;

      const page = await browser.newPage();
      await page.navigate(`${allowedApp.origin}/`);
      const allowed = await page.evaluate<Record<string, unknown>>(script);
      assert.deepEqual(allowed, {
        ok: true,
        status: 200,
        remaining: "99999",
        text: "Echo: from the browser",
      });

      await page.navigate(`${otherApp.origin}/`);
      const refused = await page.evaluate<Record<string, unknown>>(script);
      assert.equal(refused.ok, false);
      assert.match(String(refused.error), /TypeError: Failed to fetch/);
      await page.close();
      assert.equal(gw.upstream.requests.length, 1, "the refused origin's preflight stopped it");
    } finally {
      await allowedApp.close();
      await otherApp.close();
    }
  },
});
