/** The docs page's Codex and Responses API sections, with the visitor's base URL filled in. */

import { findModel } from "../core/models.ts";
import { type Example, type ExampleContext, exampleModel, KEY_PLACEHOLDER } from "./examples.ts";
import { code, codeBlock, markup, type SafeHtml } from "./html.ts";

/** The provider name the Codex example gives this gateway. */
export const CODEX_PROVIDER = "ztoapi";
/** The environment variable the Codex example reads the key from. */
export const CODEX_KEY_VARIABLE = "ZTOAPI_KEY";

const q = JSON.stringify;

/** `~/.codex/config.toml` for this gateway: the provider, and GLM's context window. */
export function codexConfigToml({ config, origin }: ExampleContext): string {
  const model = exampleModel(config);
  const window = findModel(model)?.contextWindow ?? 200_000;
  return `model = ${q(model)}
model_provider = ${q(CODEX_PROVIDER)}
# GLM's context window; Codex compacts the conversation before it fills up.
model_context_window = ${window}
model_auto_compact_token_limit = ${Math.floor(window * 0.9)}

[model_providers.${CODEX_PROVIDER}]
name = "ZtoApi"
base_url = ${q(`${origin}/v1`)}
env_key = ${q(CODEX_KEY_VARIABLE)}
wire_api = "responses"`;
}

/** Codex: config.toml and the shell commands. */
export function codexExamples(context: ExampleContext): Example[] {
  return [
    { title: "~/.codex/config.toml", language: "toml", code: codexConfigToml(context) },
    {
      title: "Shell · then run codex",
      language: "shell",
      code: `export ${CODEX_KEY_VARIABLE}=${q(KEY_PLACEHOLDER)}
codex                                        # interactive
codex exec --skip-git-repo-check "Explain this repository in five lines."`,
    },
  ];
}

/** cURL and Python examples of `POST /v1/responses`. */
export function responsesExamples({ config, origin }: ExampleContext): Example[] {
  const model = exampleModel(config);
  const v1 = `${origin}/v1`;
  const body = (stream: boolean) =>
    q({ model, stream, instructions: "Be brief.", input: "Say hello in five words." });
  return [
    {
      title: "cURL · Responses (JSON)",
      language: "shell",
      code: `curl ${v1}/responses \\
  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\
  -H "Content-Type: application/json" \\
  -d '${body(false)}'`,
    },
    {
      title: "cURL · Responses (events)",
      language: "shell",
      code: `curl -N ${v1}/responses \\
  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\
  -H "Content-Type: application/json" \\
  -d '${body(true)}'`,
    },
    {
      title: "Python · openai, Responses API",
      language: "python",
      code: `from openai import OpenAI

client = OpenAI(base_url=${q(v1)}, api_key=${q(KEY_PLACEHOLDER)})

response = client.responses.create(model=${q(model)}, input="Say hello in five words.")
print(response.output_text)

with client.responses.stream(model=${q(model)}, input="Count to ten.") as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
print()`,
    },
  ];
}

function blocks(list: Example[]): SafeHtml[] {
  return list.map((e) => codeBlock(e.title, e.code, e.language));
}

/** The Codex section. */
export function codexSection(context: ExampleContext): SafeHtml {
  return markup`<section id="codex" aria-labelledby="codex-h">
<h2 id="codex-h">Codex</h2>
<p>Codex CLI speaks only the Responses API, which this gateway serves. Put this in
${code("~/.codex/config.toml")} (or merge it into the file you have), give Codex the key in
${code(CODEX_KEY_VARIABLE)}, and run it as usual. Its shell and other function tools work; the
tools that run on OpenAI's servers (web search) are left out.</p>
${blocks(codexExamples(context))}
</section>`;
}

/** The Responses API section: what is served, what is not, examples. */
export function responsesSection(context: ExampleContext): SafeHtml {
  return markup`<section id="responses" aria-labelledby="responses-h">
<h2 id="responses-h">Responses API</h2>
<p>${code("POST /v1/responses")} serves the part of OpenAI's Responses API that Codex, the
OpenAI SDKs, the Vercel AI SDK and LangChain use: text and image input, ${code("instructions")},
reasoning summaries, function tools and their outputs, ${code("text.format")} (JSON and JSON
Schema), usage. It streams events when ${code("stream")} is ${code("true")} and answers with one
JSON response otherwise. Nothing is stored: send the whole conversation in ${code("input")} each
time; ${code("previous_response_id")} is refused, and ${code("GET /v1/responses/{id}")} is 404.</p>
${blocks(responsesExamples(context))}
</section>`;
}
