/** planResponses: Responses bodies → GLM requests, without a server (responses-api.md mapping). */

import assert from "node:assert/strict";
import { loadConfig } from "../../lib/core/config.ts";
import { planResponses } from "../../lib/responses/request.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const CONFIG = loadConfig({});

function plan(body: Loose): Loose {
  return planResponses({ model: "glm-4.6", ...body }, CONFIG);
}

Deno.test("a string input is one user message; the default is not to stream", () => {
  const result = plan({ input: "hi" });
  assert.deepEqual(result.glm, {
    model: "glm-4.6",
    messages: [{ role: "user", content: "hi" }],
    stream: false,
  });
  assert.equal(result.stream, false);
});

Deno.test("a Codex-shaped history: developer items, reasoning, calls, outputs", () => {
  const result = plan({
    stream: true,
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "k",
    parallel_tool_calls: true,
    client_metadata: { session_id: "s" },
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "Rules." }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "<env/>" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "list files" }] },
      { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Use ls." }] },
      { type: "function_call", call_id: "c1", name: "exec_command", arguments: '{"cmd":"ls"}' },
      { type: "function_call", call_id: "c2", name: "exec_command", arguments: '{"cmd":"pwd"}' },
      { type: "function_call_output", call_id: "c1", output: "a.txt" },
      { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "/w" }] },
      { type: "web_search_call", id: "ws_1", action: { type: "search" } },
      {
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: "Found a.txt in /w." }],
      },
      { type: "compaction", encrypted_content: "…" },
    ],
  });
  assert.deepEqual(result.glm.messages, [
    { role: "system", content: "Rules." },
    { role: "user", content: "<env/>" },
    { role: "user", content: "list files" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "Use ls.",
      tool_calls: [
        {
          id: "c1",
          type: "function",
          function: { name: "exec_command", arguments: '{"cmd":"ls"}' },
        },
        {
          id: "c2",
          type: "function",
          function: { name: "exec_command", arguments: '{"cmd":"pwd"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "c1", content: "a.txt" },
    { role: "tool", tool_call_id: "c2", content: "/w" },
    { role: "assistant", content: "Found a.txt in /w." },
  ]);
  assert.deepEqual(result.dropped, ["web_search_call", "compaction"]);
  assert.equal(result.glm.store, undefined, "accepted fields GLM lacks are dropped");
  assert.equal(result.glm.include, undefined);
});

Deno.test("an assistant message followed by calls becomes one assistant message", () => {
  const { glm } = plan({
    input: [
      { role: "user", content: "go" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Running." }] },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
    ],
  });
  assert.deepEqual(glm.messages.at(-1), {
    role: "assistant",
    content: "Running.",
    tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
  });
});

Deno.test("tools: functions kept, namespaces flattened, server tools dropped; none drops all", () => {
  const tools = [
    { type: "function", name: "a", description: "A", parameters: { type: "object" } },
    { type: "namespace", name: "ns", tools: [{ type: "function", name: "b" }] },
    { type: "web_search" },
    { type: "custom", name: "apply_patch" },
    { type: "local_shell" },
  ];
  const result = plan({ input: "x", tools, stream: true });
  assert.deepEqual(result.glm.tools.map((t: Loose) => t.function.name), ["a", "b"]);
  assert.deepEqual(result.glm.tools[1].function.parameters, { type: "object", properties: {} });
  assert.equal(result.glm.tool_choice, "auto");
  assert.equal(result.glm.tool_stream, true, "glm-4.6 streams tool arguments");
  assert.deepEqual([...result.namespaces], [["b", "ns"]]);
  assert.equal(plan({ input: "x", tools, tool_choice: "none" }).glm.tools, undefined);
  assert.equal(plan({ input: "x", tools: [{ type: "web_search" }] }).glm.tools, undefined);
});

Deno.test("reasoning effort, sampling, output length and user map like the chat route", () => {
  const off = plan({ input: "x", reasoning: { effort: "minimal", summary: "auto" } });
  assert.deepEqual(off.glm.thinking, { type: "disabled" });
  const on = plan({ input: "x", reasoning: { effort: "high" } });
  assert.deepEqual(on.glm.thinking, { type: "enabled" });
  assert.equal(plan({ input: "x", reasoning: { summary: "auto" } }).glm.thinking, undefined);
  const sampled = plan({
    input: "x",
    temperature: 1.7,
    top_p: 0,
    max_output_tokens: 10_000_000,
    user: "user-123456",
  });
  assert.equal(sampled.glm.temperature, 1);
  assert.equal(sampled.glm.top_p, 0.01);
  assert.equal(sampled.glm.max_tokens, 128 * 1024);
  assert.equal(sampled.glm.user_id, "user-123456");
});

Deno.test("model aliases and case-insensitive ids resolve as on the chat route", () => {
  const result = planResponses({ model: "claude-sonnet-4-5", input: "x" }, CONFIG);
  assert.equal(result.glm.model, "glm-5");
  assert.equal(result.model.requested, "claude-sonnet-4-5");
  assert.equal(plan({ model: "GLM-4.6", input: "x" }).glm.model, "glm-4.6");
});
