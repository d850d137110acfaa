/** Ready-to-paste client examples for the docs page, with the visitor's base URL filled in. */

import type { Config } from "../core/config.ts";
import { findModel, MODELS, resolveModel } from "../core/models.ts";

/** The placeholder the examples use where the visitor's key goes. */
export const KEY_PLACEHOLDER = "YOUR_KEY";

/** What every example needs to know. */
export interface ExampleContext {
  config: Readonly<Config>;
  /**
   * The base URL of the page's service as the visitor reached the server: `scheme://host[:port]`,
   * followed by `/s/{slug}` on a service's own page. OpenAI clients add `/v1`.
   */
  origin: string;
}

/** One example: a title, its language and the code. */
export interface Example {
  title: string;
  language: string;
  code: string;
}

const q = JSON.stringify;

/** The GLM model Claude Code's tier names map to on this server (via `MODEL_ALIASES`). */
export function claudeTierModel(
  config: Readonly<Config>,
  sample: string,
  fallback: string,
): string {
  const resolved = resolveModel(sample, config.modelAliases);
  return resolved.upstream === sample ? fallback : resolved.upstream;
}

/** The model the examples use: whatever `claude-sonnet*` maps to (glm-5 by default). */
export function exampleModel(config: Readonly<Config>): string {
  return claudeTierModel(config, "claude-sonnet-4-5", "glm-5");
}

/** cURL, Python and JavaScript examples for both API dialects. */
export function apiExamples({ config, origin }: ExampleContext): Example[] {
  const model = exampleModel(config);
  const v1 = `${origin}/v1`;
  const chat = (stream: boolean) =>
    q({ model, stream, messages: [{ role: "user", content: "Say hello in five words." }] });
  return [
    {
      title: "cURL · OpenAI Chat Completions (JSON)",
      language: "shell",
      code: `curl ${v1}/chat/completions \\
  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\
  -H "Content-Type: application/json" \\
  -d '${chat(false)}'`,
    },
    {
      title: "cURL · OpenAI Chat Completions (streaming)",
      language: "shell",
      code: `curl -N ${v1}/chat/completions \\
  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\
  -H "Content-Type: application/json" \\
  -d '${chat(true)}'`,
    },
    {
      title: "cURL · Anthropic Messages",
      language: "shell",
      code: `curl ${v1}/messages \\
  -H "x-api-key: ${KEY_PLACEHOLDER}" \\
  -H "anthropic-version: 2023-06-01" \\
  -H "Content-Type: application/json" \\
  -d '${
        q({
          model,
          max_tokens: 1024,
          messages: [{ role: "user", content: "Say hello in five words." }],
        })
      }'`,
    },
    {
      title: "Python · openai",
      language: "python",
      code: `# pip install openai
from openai import OpenAI

client = OpenAI(base_url=${q(v1)}, api_key=${q(KEY_PLACEHOLDER)})

reply = client.chat.completions.create(
    model=${q(model)},
    messages=[{"role": "user", "content": "Say hello in five words."}],
)
print(reply.choices[0].message.content)

stream = client.chat.completions.create(
    model=${q(model)},
    messages=[{"role": "user", "content": "Count to ten."}],
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()`,
    },
    {
      title: "Python · anthropic",
      language: "python",
      code: `# pip install anthropic
import anthropic

client = anthropic.Anthropic(base_url=${q(origin)}, api_key=${q(KEY_PLACEHOLDER)})

message = client.messages.create(
    model=${q(model)},
    max_tokens=1024,
    messages=[{"role": "user", "content": "Say hello in five words."}],
)
print("".join(block.text for block in message.content if block.type == "text"))

with client.messages.stream(
    model=${q(model)},
    max_tokens=1024,
    messages=[{"role": "user", "content": "Count to ten."}],
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)
print()`,
    },
    {
      title: "JavaScript · fetch, reading the stream (Node 18+, Deno, Bun)",
      language: "javascript",
      code: `const response = await fetch(${q(`${v1}/chat/completions`)}, {
  method: "POST",
  headers: {
    "Authorization": ${q(`Bearer ${KEY_PLACEHOLDER}`)},
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    model: ${q(model)},
    stream: true,
    messages: [{ role: "user", content: "Count to ten." }],
  }),
});
if (!response.ok) throw new Error((await response.json()).error.message);

const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
let buffered = "";
for (;;) {
  const { value, done } = await reader.read();
  if (done) break;
  const lines = (buffered + value).split(/\\r?\\n/);
  buffered = lines.pop();
  for (const line of lines) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trimStart();
    if (data === "[DONE]") continue;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message);
    process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
  }
}
process.stdout.write("\\n");`,
    },
  ];
}

/** The Claude Code environment, as variables (values derived from the model table and config). */
export function claudeCodeEnv({ config, origin }: ExampleContext): Record<string, string> {
  const opus = claudeTierModel(config, "claude-opus-4-1", "glm-5");
  const sonnet = exampleModel(config);
  const haiku = claudeTierModel(config, "claude-haiku-4-5", "glm-4.5-air");
  const windows = [opus, sonnet].map((id) => findModel(id)?.contextWindow ?? 200_000);
  const compactWindow = Math.floor(Math.min(...windows) * 0.9 / 1000) * 1000;
  return {
    ANTHROPIC_BASE_URL: origin,
    ANTHROPIC_AUTH_TOKEN: KEY_PLACEHOLDER,
    ANTHROPIC_DEFAULT_OPUS_MODEL: opus,
    ANTHROPIC_DEFAULT_SONNET_MODEL: sonnet,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: haiku,
    CLAUDE_CODE_AUTO_COMPACT_WINDOW: String(compactWindow),
    API_TIMEOUT_MS: String(config.upstreamTimeoutMs + 60_000),
  };
}

/** Claude Code: shell exports, and the same as `~/.claude/settings.json`. */
export function claudeCodeExamples(context: ExampleContext): Example[] {
  const env = claudeCodeEnv(context);
  const exports = Object.entries(env).map(([name, value]) => `export ${name}=${q(value)}`);
  return [
    {
      title: "Shell · then run claude",
      language: "shell",
      code: [...exports, "claude"].join("\n"),
    },
    {
      title: "~/.claude/settings.json",
      language: "json",
      code: JSON.stringify({ env }, null, 2),
    },
  ];
}

/** The name the pi example gives this gateway's provider. */
export const PI_PROVIDER = "ztoapi";

/** pi: the provider in `~/.pi/agent/models.json` (every model of the table), and the command. */
export function piExamples({ config, origin }: ExampleContext): Example[] {
  const models = MODELS.map((m) =>
    `        { "id": ${q(m.id)}, "reasoning": ${m.thinking}, "input": ${
      q(m.vision ? ["text", "image"] : ["text"])
    }, "contextWindow": ${m.contextWindow}, "maxTokens": ${
      Math.min(m.maxOutputTokens, config.maxOutputTokens)
    } }`
  );
  const json = `{
  "providers": {
    ${q(PI_PROVIDER)}: {
      "baseUrl": ${q(origin)},
      "api": "anthropic-messages",
      "apiKey": ${q(KEY_PLACEHOLDER)},
      "authHeader": true,
      "models": [
${models.join(",\n")}
      ]
    }
  }
}`;
  return [
    { title: "~/.pi/agent/models.json", language: "json", code: json },
    {
      title: "Shell",
      language: "shell",
      code: `pi --provider ${PI_PROVIDER} --model ${exampleModel(config)}`,
    },
  ];
}

/** `GET /v1/key` with cURL, for checking a key without the page's script. */
export function keyCheckCurl(origin: string): string {
  return `curl ${origin}/v1/key -H "Authorization: Bearer ${KEY_PLACEHOLDER}"`;
}
