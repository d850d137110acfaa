import assert from "node:assert/strict";
import { TEST_KEY } from "../support/gateway.ts";
import { parseSse, postRaw, startAnthropicGateway } from "../support/anthropic.ts";

const PROMPT = "\n\nHuman: Name a colour.\n\nAssistant: Blue.\n\nHuman: Another?\n\nAssistant:";
const BASE = { model: "claude-haiku-4-5", prompt: PROMPT, max_tokens_to_sample: 200 };

Deno.test("/v1/complete without streaming: turns upstream, no thinking, legacy body", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "secret thoughts", text: " Green." });
  const response = await postRaw(gw, "/v1/complete", {
    ...BASE,
    temperature: 0.5,
    metadata: { user_id: "user-42-abc" },
  }, { "x-api-key": TEST_KEY, "anthropic-version": "2023-06-01" });
  assert.equal(response.status, 200, response.text);
  const { id, ...rest } = response.body;
  assert.match(id, /^compl_/);
  assert.deepEqual(rest, {
    type: "completion",
    completion: " Green.",
    stop_reason: "stop_sequence",
    stop: null,
    model: "claude-haiku-4-5",
  });
  const sent = gw.upstream.requests[0].body;
  assert.deepEqual(sent.messages, [
    { role: "user", content: "Name a colour." },
    { role: "assistant", content: "Blue." },
    { role: "user", content: "Another?" },
  ]);
  assert.equal(sent.model, "glm-4.5-air");
  assert.deepEqual(sent.thinking, { type: "disabled" });
  assert.equal(sent.max_tokens, 200);
  assert.equal(sent.temperature, 0.5);
  assert.equal(sent.user_id, "user-42-abc");
  assert.equal(sent.stop, undefined);
});

Deno.test("/v1/complete stop sequences, the implicit Human turn, and max_tokens", async () => {
  await using gw = await startAnthropicGateway();
  const run = async (text: string, extra: Record<string, unknown> = {}, finish?: string) => {
    gw.upstream.enqueue({ kind: "answer", reasoning: "", text, ...(finish ? { finish } : {}) });
    const response = await postRaw(gw, "/v1/complete", { ...BASE, ...extra });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const custom = await run("one, two, END three", { stop_sequences: ["END"] });
  assert.equal(custom.completion, "one, two, ");
  assert.equal(custom.stop_reason, "stop_sequence");
  assert.equal(custom.stop, "END");
  const human = await run("Sure.\n\nHuman: and me too");
  assert.equal(human.completion, "Sure.");
  assert.equal(human.stop, "\n\nHuman:");
  const long = await run("Truncat", {}, "length");
  assert.equal(long.stop_reason, "max_tokens");
  assert.equal(long.stop, null);
});

Deno.test("/v1/complete streaming: completion events, a final stop_reason, no thinking", async () => {
  await using gw = await startAnthropicGateway();
  gw.upstream.enqueue({ kind: "answer", reasoning: "hidden", text: "Red and yellow STOP x" });
  const response = await postRaw(gw, "/v1/complete", {
    ...BASE,
    stream: true,
    stop_sequences: ["STOP"],
  });
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = parseSse(response.text).filter((e) => e.event !== "ping");
  assert.ok(events.length >= 2);
  assert.ok(events.every((e) => e.event === "completion" && e.data.type === "completion"));
  const last = events.at(-1)!.data;
  const deltas = events.slice(0, -1).map((e) => e.data);
  assert.ok(deltas.every((d) => d.stop_reason === null && d.model === BASE.model));
  assert.equal(deltas.map((d) => d.completion).join(""), "Red and yellow ");
  assert.equal(new Set(events.map((e) => e.data.id)).size, 1);
  assert.match(last.id, /^compl_/);
  assert.deepEqual({ ...last, id: "" }, {
    type: "completion",
    id: "",
    completion: "",
    stop_reason: "stop_sequence",
    model: BASE.model,
    stop: "STOP",
  });
  assert.ok(!response.text.includes("hidden"));
});

Deno.test("/v1/complete rejects malformed prompts and missing fields with a 400", async () => {
  await using gw = await startAnthropicGateway();
  const cases: [Record<string, unknown>, string][] = [
    [{ ...BASE, prompt: "Hello" }, "prompt"],
    [{ ...BASE, prompt: "Human: hi\n\nAssistant:" }, "prompt"],
    [{ ...BASE, prompt: "\n\nHuman: hi" }, "prompt"],
    [{ ...BASE, prompt: "\n\nHuman: hi\n\nAssistant: ok\n\nHuman: more" }, "prompt"],
    [{ ...BASE, prompt: 7 }, "prompt"],
    [{ ...BASE, prompt: undefined }, "prompt"],
    [{ ...BASE, max_tokens_to_sample: undefined }, "max_tokens_to_sample"],
    [{ ...BASE, max_tokens_to_sample: 0 }, "max_tokens_to_sample"],
    [{ ...BASE, model: undefined }, "model"],
    [{ ...BASE, stop_sequences: "x" }, "stop_sequences"],
    [{ ...BASE, temperature: 3 }, "temperature"],
    [{ ...BASE, stream: 1 }, "stream"],
    [{ ...BASE, metadata: [] }, "metadata"],
  ];
  for (const [body, field] of cases) {
    const response = await postRaw(gw, "/v1/complete", body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.body.type, "error");
    assert.equal(response.body.error.type, "invalid_request_error");
    assert.ok(response.body.error.message.includes(field), response.text);
  }
  assert.equal(gw.upstream.requests.length, 0);
});

Deno.test("/v1/complete keeps text after the last Assistant: as a prefill", async () => {
  await using gw = await startAnthropicGateway();
  await postRaw(gw, "/v1/complete", { ...BASE, prompt: "\n\nHuman: JSON please\n\nAssistant: {" });
  assert.deepEqual(gw.upstream.requests[0].body.messages, [
    { role: "user", content: "JSON please" },
    { role: "assistant", content: "{" },
  ]);
});
