import assert from "node:assert/strict";
import { TEST_KEY } from "../support/gateway.ts";
import {
  type AnthropicGateway,
  collapse,
  eventShape,
  parseSse,
  postRaw,
  startAnthropicGateway,
} from "../support/anthropic.ts";

/** Headers Claude Code 2.1.330 sends (clients.md). */
const CLAUDE_CODE_HEADERS = {
  authorization: `Bearer ${TEST_KEY}`,
  "anthropic-version": "2023-06-01",
  "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14," +
    "context-management-2025-06-27,mid-conversation-tool-changes-2026-07-01," +
    "thinking-token-count-2026-05-13,advanced-tool-use-2025-11-20,effort-2025-11-24",
  "x-app": "cli",
  "user-agent": "claude-cli/2.1.330 (external, sdk-cli)",
  "x-stainless-lang": "js",
  "x-stainless-retry-count": "0",
  accept: "application/json",
};

const SCHEMA = "https://json-schema.org/draft/2020-12/schema";

function claudeTool(name: string, properties: Record<string, unknown>, extra = {}) {
  return {
    name,
    description: `${name}: ${"Detailed usage notes for the tool. ".repeat(8)}`,
    input_schema: {
      $schema: SCHEMA,
      type: "object",
      properties,
      required: Object.keys(properties).slice(0, 1),
      additionalProperties: false,
    },
    ...extra,
  };
}

const str = { type: "string", description: "A string" };
const TOOLS = [
  claudeTool("Agent", { description: str, prompt: str, subagent_type: str }),
  claudeTool("Bash", {
    command: str,
    timeout: { type: "number", minimum: 0, maximum: 600000, description: "Timeout in ms" },
    run_in_background: { type: "boolean" },
  }),
  claudeTool("Edit", { file_path: str, old_string: str, new_string: str }),
  claudeTool("Glob", { pattern: str, path: str }),
  claudeTool("Grep", { pattern: str, path: str, "-n": { type: "boolean" } }),
  claudeTool("ListAgents", {}),
  claudeTool("NotebookEdit", { notebook_path: str, new_source: str }),
  claudeTool("Read", {
    file_path: str,
    offset: { type: "integer", minimum: 0, maximum: 9007199254740991 },
    limit: { type: "integer", exclusiveMinimum: 0 },
  }),
  claudeTool("ReportFindings", { findings: { type: "array", items: str } }),
  claudeTool("ScheduleWakeup", { minutes: { type: "integer", minimum: 1, maximum: 1440 } }),
  claudeTool("Skill", { skill: str }),
  claudeTool("TodoWrite", { todos: { type: "array", items: { type: "object" } } }),
  claudeTool("ToolSearch", { query: str, max_results: { type: "number", maximum: 20 } }),
  claudeTool("WebFetch", { url: { type: "string", format: "uri" }, prompt: str }),
  claudeTool("Workflow", { name: str }),
  claudeTool("Write", { file_path: str, content: str }),
  claudeTool("DeferredToolPlaceholder", {}, {
    defer_loading: true,
    description: "Never call this tool.",
    cache_control: { type: "ephemeral" },
  }),
];

const BIG_SYSTEM = ("You are an interactive CLI tool that helps users with software engineering " +
  "tasks. Use the instructions below and the tools available to you to assist the user.\n")
  .repeat(42);

const SYSTEM = [
  { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.330; cc_entrypoint=sdk-cli;" },
  {
    type: "text",
    text: "You are Claude Code, Anthropic's official CLI for Claude.",
    cache_control: { type: "ephemeral" },
  },
  { type: "text", text: BIG_SYSTEM, cache_control: { type: "ephemeral" } },
];

const USER_ID = JSON.stringify({
  device_id: "a3f9".repeat(16),
  account_uuid: "",
  session_id: "0b6f2a4e-51d3-4c55-9a43-2f0e8c1d7b6a",
});

function claudeCodeBody(messages: unknown[]) {
  return {
    model: "glm-5",
    messages,
    system: SYSTEM,
    tools: TOOLS,
    metadata: { user_id: USER_ID },
    max_tokens: 32000,
    thinking: { type: "adaptive", display: "omitted" },
    context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    output_config: { effort: "high" },
    stream: true,
  };
}

const FIRST_TURN = [
  {
    role: "user",
    content: [
      { type: "text", text: "<system-reminder>Today's date is 2026-07-01.</system-reminder>" },
      { type: "text", text: "Read README.md", cache_control: { type: "ephemeral" } },
    ],
  },
  { role: "system", content: [{ type: "text", text: "The user switched to plan mode." }] },
];

async function claudeCodeTurn(gw: AnthropicGateway, messages: unknown[]) {
  const response = await postRaw(
    gw,
    "/v1/messages?beta=true",
    claudeCodeBody(messages),
    CLAUDE_CODE_HEADERS,
  );
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  return parseSse(response.text);
}

Deno.test("a Claude Code request streams end to end; GLM gets a clean request", async () => {
  assert.ok(BIG_SYSTEM.length > 6500 && BIG_SYSTEM.length < 7000);
  assert.ok(USER_ID.length > 128);
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "I should read the file.",
    text: "Let me read it.",
    toolCalls: [{ name: "Read", arguments: '{"file_path":"README.md"}' }],
  });
  const events = await claudeCodeTurn(gw, FIRST_TURN);
  assert.deepEqual(collapse(eventShape(events)), [
    "message_start",
    "ping",
    "start:thinking",
    "thinking_delta+",
    "signature_delta",
    "stop",
    "start:text",
    "text_delta+",
    "stop",
    "start:tool_use",
    "input_json_delta+",
    "stop",
    "message_delta",
    "message_stop",
  ]);
  assert.equal(events[0].data.message.model, "glm-5");
  assert.equal(events.at(-2)!.data.delta.stop_reason, "tool_use");

  const sent = gw.upstream.requests[0].body;
  assert.deepEqual(Object.keys(sent).sort(), [
    "max_tokens",
    "messages",
    "model",
    "stream",
    "thinking",
    "tool_choice",
    "tool_stream",
    "tools",
    "user_id",
  ]);
  assert.equal(sent.model, "glm-5");
  assert.equal(sent.stream, true);
  assert.equal(sent.max_tokens, 32000);
  assert.deepEqual(sent.thinking, { type: "enabled" });
  assert.equal(sent.tool_stream, true);
  assert.equal(sent.tool_choice, "auto");
  assert.ok(sent.user_id.length >= 6 && sent.user_id.length <= 128, sent.user_id);
  assert.deepEqual(sent.messages, [
    { role: "system", content: SYSTEM.map((b) => b.text).join("\n\n") },
    {
      role: "user",
      content: "<system-reminder>Today's date is 2026-07-01.</system-reminder>\n\nRead README.md",
    },
    { role: "system", content: "The user switched to plan mode." },
  ]);
  assert.equal(sent.tools.length, TOOLS.length);
  for (const [i, glmTool] of sent.tools.entries()) {
    assert.deepEqual(Object.keys(glmTool), ["type", "function"]);
    assert.deepEqual(Object.keys(glmTool.function), ["name", "description", "parameters"]);
    const { $schema: _, ...schema } = TOOLS[i].input_schema;
    assert.deepEqual(glmTool.function.parameters, schema);
  }
  const wire = JSON.stringify(sent);
  for (const unknown of ["$schema", "defer_loading", "cache_control", "context_management"]) {
    assert.ok(!wire.includes(unknown), `${unknown} reached GLM`);
  }
  assert.equal(sent.tools[1].function.parameters.properties.timeout.maximum, 600000);
});

Deno.test("Claude Code's next turn: thinking, tool_use and tool_result go back in order", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({
    kind: "answer",
    reasoning: "I should read the file.",
    text: "",
    toolCalls: [{ name: "Read", arguments: '{"file_path":"README.md"}' }],
  });
  const first = await claudeCodeTurn(gw, FIRST_TURN);
  const thinking = first.filter((e) => e.data.delta?.type === "thinking_delta")
    .map((e) => e.data.delta.thinking).join("");
  const signature = first.find((e) => e.data.delta?.type === "signature_delta")!.data.delta
    .signature;
  const use = first.find((e) => e.data.content_block?.type === "tool_use")!.data.content_block;
  const input = JSON.parse(
    first.filter((e) => e.data.delta?.type === "input_json_delta")
      .map((e) => e.data.delta.partial_json).join(""),
  );
  assert.deepEqual(input, { file_path: "README.md" });

  gw.upstream.enqueue({ kind: "answer", reasoning: "Summarise.", text: "It is a gateway." });
  const second = await claudeCodeTurn(gw, [
    ...FIRST_TURN,
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking, signature },
        { type: "tool_use", id: use.id, name: use.name, input },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: use.id, content: "# ZtoApi\nA gateway." },
        { type: "text", text: "<system-reminder>Keep it short.</system-reminder>" },
      ],
    },
  ]);
  assert.equal(second.at(-2)!.data.delta.stop_reason, "end_turn");
  assert.deepEqual(gw.upstream.requests[1].body.messages.slice(3), [
    {
      role: "assistant",
      content: "",
      reasoning_content: "I should read the file.",
      tool_calls: [{
        id: use.id,
        type: "function",
        function: { name: "Read", arguments: '{"file_path":"README.md"}' },
      }],
    },
    { role: "tool", tool_call_id: use.id, content: "# ZtoApi\nA gateway." },
    { role: "user", content: "<system-reminder>Keep it short.</system-reminder>" },
  ]);
});

Deno.test("pi's request: both x-api-key and Bearer, interleaved-thinking beta", async () => {
  await using gw = await startAnthropicGateway();
  const response = await postRaw(gw, "/v1/messages", {
    model: "glm-5",
    max_tokens: 16384,
    stream: true,
    system: [{ type: "text", text: "You are pi.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: [{ type: "text", text: "Say hi" }] }],
  }, {
    "x-api-key": TEST_KEY,
    authorization: `Bearer ${TEST_KEY}`,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "interleaved-thinking-2025-05-14",
    "user-agent": "Anthropic/JS 0.91.1",
  });
  assert.equal(response.status, 200, response.text);
  const events = parseSse(response.text);
  assert.equal(events.at(-1)!.event, "message_stop");
  const text = events.filter((e) => e.data.delta?.type === "text_delta")
    .map((e) => e.data.delta.text).join("");
  assert.equal(text, "Echo: Say hi");
});
