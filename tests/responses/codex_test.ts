/**
 * The real Codex CLI against the gateway (`codex exec`, Responses API only), with a temporary
 * CODEX_HOME holding the docs page's config.toml, pointed at the test server. Skipped, with the reason in
 * its name, when the `codex` binary is not installed (`npm install -g @openai/codex@0.169.0`;
 * CODEX_BIN names another binary).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../lib/core/config.ts";
import { CODEX_KEY_VARIABLE, codexConfigToml } from "../../lib/docs_page/codex.ts";
import { startGateway, TEST_KEY, type TestGateway } from "../support/gateway.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const CODEX = Deno.env.get("CODEX_BIN") ?? "codex";

async function codexVersion(): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(CODEX, { args: ["--version"] }).output();
    return success ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

const version = await codexVersion();
const ignore = version === undefined;
const label = version ?? "skipped: codex is not installed (npm install -g @openai/codex@0.169.0)";

/** Runs `codex exec` in a scratch directory; its stdout, stderr and last message. */
async function codexExec(gw: TestGateway, prompt: string, extra: string[] = []) {
  const home = await Deno.makeTempDir({ prefix: "codex-home-" });
  const work = await Deno.makeTempDir({ prefix: "codex-work-" });
  try {
    // The config.toml the docs page shows, with this gateway's URL.
    const toml = codexConfigToml({ config: loadConfig({}), origin: gw.url });
    await Deno.writeTextFile(`${home}/config.toml`, toml);
    const last = `${work}/last-message.txt`;
    const { code, stdout, stderr } = await new Deno.Command(CODEX, {
      args: [
        "exec",
        "--strict-config",
        "--skip-git-repo-check",
        "--ephemeral",
        "-o",
        last,
        ...extra,
        prompt,
      ],
      cwd: work,
      env: { CODEX_HOME: home, [CODEX_KEY_VARIABLE]: TEST_KEY, NO_COLOR: "1" },
      stdin: "null",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const lastMessage = await Deno.readTextFile(last).catch(() => "");
    return { code, stdout: text(stdout), stderr: text(stderr), lastMessage, work };
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test({
  name: `codex exec prints the fake's answer (${label})`,
  ignore,
  async fn() {
    await using gw = await startGateway();
    gw.upstream.enqueue({
      kind: "answer",
      reasoning: "The user wants a greeting.",
      text: "Hello from the fake Z.ai, relayed by ZtoApi.",
    });
    const run = await codexExec(gw, "Say hello.");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from the fake Z\.ai, relayed by ZtoApi\./);
    assert.equal(run.lastMessage.trim(), "Hello from the fake Z.ai, relayed by ZtoApi.");
    const request = gw.upstream.requests[0];
    assert.equal(request.body.stream, true);
    assert.equal(request.body.model, "glm-5");
    assert.equal(request.body.messages[0].role, "system", "Codex's developer items → system");
    assert.equal(request.body.messages.at(-1).content, "Say hello.");
    const names = request.body.tools.map((t: Loose) => t.function.name);
    assert.ok(names.includes("exec_command"), names.join(", "));
  },
});

Deno.test({
  name: `codex exec runs the shell tool the model asks for and quotes its output (${label})`,
  ignore,
  async fn() {
    await using gw = await startGateway();
    gw.upstream.enqueue({
      kind: "answer",
      reasoning: "I will run a command.",
      text: "",
      toolCalls: [{
        name: "exec_command",
        arguments: JSON.stringify({ cmd: "echo codex-marker-$((6*7))" }),
      }],
    });
    gw.upstream.enqueue({
      kind: "answer",
      reasoning: "",
      // Quote the line the command printed, as a model would.
      reply: (body) => {
        const output = String(body.messages.at(-1)?.content ?? "");
        const line = output.split("\n").find((l) => l.startsWith("codex-marker-")) ?? "nothing";
        return `The command printed ${line}.`;
      },
    });
    const run = await codexExec(gw, "Run the marker command.");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lastMessage.trim(), "The command printed codex-marker-42.");
    assert.equal(gw.upstream.requests.length, 2);
    const [, second] = gw.upstream.requests.map((r) => r.body.messages);
    const call = second.at(-2);
    assert.equal(call.role, "assistant");
    assert.equal(call.tool_calls[0].function.name, "exec_command");
    assert.equal(call.reasoning_content, "I will run a command.");
    const result = second.at(-1);
    assert.equal(result.role, "tool");
    assert.equal(result.tool_call_id, call.tool_calls[0].id);
    assert.match(result.content, /codex-marker-42/, "Codex ran the command in a shell");
  },
});

Deno.test({
  name: `codex exec --output-schema reaches GLM as json_object plus the schema (${label})`,
  ignore,
  async fn() {
    await using gw = await startGateway();
    gw.upstream.enqueue({ kind: "answer", reasoning: "", text: '{"planet_name":"Mars"}' });
    const schema = {
      type: "object",
      properties: { planet_name: { type: "string" } },
      required: ["planet_name"],
      additionalProperties: false,
    };
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(schema));
      const run = await codexExec(gw, "Name the red planet.", ["--output-schema", file]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.lastMessage).planet_name, "Mars");
    } finally {
      await Deno.remove(file);
    }
    const body = gw.upstream.requests[0].body;
    assert.deepEqual(body.response_format, { type: "json_object" });
    const system = body.messages.filter((m: Loose) => m.role === "system").map((m: Loose) =>
      m.content
    ).join("\n");
    assert.match(system, /planet_name/);
  },
});
