/**
 * The router's examples against ZtoApi, verbatim apart from host and key: everything under the
 * service route `/s/zai-coding`. The cURL, Claude Code and pi examples are taken from the docs page
 * of `/s/zai-coding/` itself, so the page and the routes cannot drift apart.
 */

import assert from "node:assert/strict";
import { Anthropic } from "../support/clients.ts";
import { parseSse } from "../support/anthropic.ts";
import { TEST_KEY } from "../support/gateway.ts";
import { type ServicesGateway, startServicesGateway } from "../support/services.ts";

const CURL = "/usr/bin/curl";
const hasCurl = (() => {
  try {
    return Deno.statSync(CURL).isFile;
  } catch {
    return false;
  }
})();

function codingGateway(): Promise<ServicesGateway> {
  return startServicesGateway([
    {
      slug: "zai-coding",
      name: "Z.ai Coding Plan",
      key: "coding-plan-key",
      path: "/api/coding/paas/v4",
    },
    { slug: "zai", key: "general-key" },
  ]);
}

/** The code blocks of a docs page, by title, unescaped. */
async function pageExamples(gw: ServicesGateway, path: string): Promise<Map<string, string>> {
  const html = await gw.fetch(`${gw.url}${path}`).then((r) => r.text());
  const unescape = (text: string) =>
    text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  const blocks = new Map<string, string>();
  const pattern = /<span>([^<]*)<\/span><\/figcaption>\s*<pre[^>]*><code>(.*?)<\/code><\/pre>/gs;
  for (const [, title, code] of html.matchAll(pattern)) blocks.set(unescape(title), unescape(code));
  return blocks;
}

function withKey(code: string): string {
  return code.replaceAll("YOUR_KEY", TEST_KEY);
}

Deno.test({
  name: "the service page's cURL calls work as pasted, on the coding plan's upstream",
  ignore: !hasCurl,
  async fn() {
    await using gw = await codingGateway();
    const examples = await pageExamples(gw, "/s/zai-coding/");
    const curls = [...examples].filter(([title]) => title.startsWith("cURL · "));
    assert.ok(curls.length >= 3, "the page has its cURL examples");
    for (const [title, code] of curls) {
      assert.ok(code.includes(`${gw.url}/s/zai-coding/v1/`), `${title} uses the service route`);
      const output = await new Deno.Command("sh", {
        args: ["-c", withKey(code).replace(/^curl /, `${CURL} -sS --fail-with-body `)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, `${title}: ${new TextDecoder().decode(output.stderr)}${stdout}`);
      const expected = title.includes("check")
        ? /"user":"default"/
        : title.includes("streaming")
        ? /"content":"Echo: ?"[\s\S]*data: \[DONE\]/
        : /"Echo: Say hello in five words\."/;
      assert.match(stdout, expected, title);
    }
    assert.equal(gw.fakes["zai-coding"].requests.length, curls.length - 1, "all but the key check");
    assert.ok(
      gw.fakes["zai-coding"].requests.every((r) =>
        r.headers.get("authorization") === "Bearer coding-plan-key"
      ),
    );
    assert.equal(gw.fakes.zai.requests.length, 0);
  },
});

Deno.test("the Anthropic SDK with base_url .../s/zai-coding, streaming and not", async () => {
  await using gw = await codingGateway();
  const client = new Anthropic({
    apiKey: TEST_KEY,
    baseURL: `${gw.url}/s/zai-coding`,
    maxRetries: 0,
    fetch: gw.fetch as unknown as NonNullable<ConstructorParameters<typeof Anthropic>[0]>["fetch"],
  });
  const message = await client.messages.create({
    model: "glm-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: "Hello, GLM" }],
  });
  assert.deepEqual(
    message.content.flatMap((b) => b.type === "text" ? [b.text] : []),
    ["Echo: Hello, GLM"],
  );
  const stream = client.messages.stream({
    model: "glm-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: "Count to three" }],
  });
  let text = "";
  for await (const event of stream) {
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
      text += event.delta.text;
    }
  }
  assert.equal(text, "Echo: Count to three");
  assert.equal(gw.fakes["zai-coding"].requests.length, 2);
  assert.equal(gw.fakes["zai-coding"].requests[0].path, "/api/coding/paas/v4/chat/completions");
});

Deno.test("Claude Code with the page's ANTHROPIC_BASE_URL=.../s/zai-coding streams end to end", async () => {
  await using gw = await codingGateway();
  const settings = JSON.parse(
    (await pageExamples(gw, "/s/zai-coding/")).get(
      "~/.claude/settings.json",
    )!,
  );
  const base = settings.env.ANTHROPIC_BASE_URL;
  assert.equal(base, `${gw.url}/s/zai-coding`);
  // What Claude Code 2.1.330 sends (clients.md), to the base URL it was given.
  const response = await gw.fetch(`${base}/v1/messages?beta=true`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${withKey(settings.env.ANTHROPIC_AUTH_TOKEN)}`,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
      "x-app": "cli",
      "user-agent": "claude-cli/2.1.330 (external, sdk-cli)",
      "x-stainless-lang": "js",
      accept: "application/json",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: settings.env.ANTHROPIC_DEFAULT_SONNET_MODEL,
      max_tokens: 32000,
      stream: true,
      thinking: { type: "adaptive", display: "omitted" },
      messages: [{ role: "user", content: [{ type: "text", text: "Read README.md" }] }],
    }),
  });
  assert.equal(response.status, 200);
  const events = parseSse(await response.text());
  assert.equal(events[0].event, "message_start");
  assert.equal(events.at(-1)!.event, "message_stop");
  const sent = gw.fakes["zai-coding"].requests;
  assert.equal(sent.length, 1);
  assert.equal(sent[0].headers.get("authorization"), "Bearer coding-plan-key");
  assert.equal(sent[0].body.model, "glm-5");
});

Deno.test("pi with the page's baseUrl .../s/zai-coding: both key headers, its beta", async () => {
  await using gw = await codingGateway();
  const examples = await pageExamples(gw, "/s/zai-coding/");
  const provider = Object.values(
    JSON.parse(examples.get("~/.pi/agent/models.json")!).providers,
  )[0] as { baseUrl: string; apiKey: string; api: string };
  assert.equal(provider.baseUrl, `${gw.url}/s/zai-coding`);
  assert.equal(provider.api, "anthropic-messages");
  const key = withKey(provider.apiKey);
  // What pi 0.73.1 sends with "authHeader": true (clients.md).
  const response = await gw.fetch(`${provider.baseUrl}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": key,
      authorization: `Bearer ${key}`,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "interleaved-thinking-2025-05-14",
      "user-agent": "Anthropic/JS 0.91.1",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: "glm-5",
      max_tokens: 8192,
      stream: true,
      messages: [{ role: "user", content: "Hello from pi" }],
    }),
  });
  assert.equal(response.status, 200);
  const text = parseSse(await response.text())
    .filter((e) => e.event === "content_block_delta" && e.data.delta.type === "text_delta")
    .map((e) => e.data.delta.text).join("");
  assert.equal(text, "Echo: Hello from pi");
  assert.equal(gw.fakes["zai-coding"].requests.length, 1);
});
