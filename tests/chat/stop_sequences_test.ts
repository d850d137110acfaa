/** stop_sequences.ts: the gateway's own stop-sequence matching over streamed text. */

import assert from "node:assert/strict";
import type { GlmEvent } from "../../lib/core/glm.ts";
import {
  applyStopSequences,
  StopMatcher,
  withStopSequences,
} from "../../lib/chat/stop_sequences.ts";

async function* from(events: GlmEvent[]): AsyncGenerator<GlmEvent> {
  for (const event of events) yield event;
}

async function collect(source: AsyncIterable<GlmEvent>): Promise<GlmEvent[]> {
  const out: GlmEvent[] = [];
  for await (const event of source) out.push(event);
  return out;
}

function texts(parts: string[]): GlmEvent[] {
  return parts.map((text) => ({ type: "text", text }));
}

const USAGE: GlmEvent = { type: "usage", promptTokens: 5, completionTokens: 3, cachedTokens: 0 };
const FINISH: GlmEvent = { type: "finish", reason: "stop" };

Deno.test("StopMatcher finds a sequence split across chunks and emits what precedes it", () => {
  const matcher = new StopMatcher(["STOP"]);
  assert.deepEqual(matcher.feed("hel"), { emit: "hel" });
  assert.deepEqual(matcher.feed("lo ST"), { emit: "lo " });
  assert.deepEqual(matcher.feed("OP more"), { emit: "", matched: "STOP" });
});

Deno.test("StopMatcher holds back only text that could begin a sequence", () => {
  const matcher = new StopMatcher(["STOP"]);
  assert.deepEqual(matcher.feed("abcS"), { emit: "abc" });
  assert.deepEqual(matcher.feed("x"), { emit: "Sx" });
  assert.deepEqual(matcher.feed("no match"), { emit: "no match" });
  assert.deepEqual(matcher.feed("ST"), { emit: "" });
  assert.equal(matcher.flush(), "ST");
  assert.equal(matcher.flush(), "");
});

Deno.test("StopMatcher: the earliest of several sequences wins; empty ones are ignored", () => {
  const matcher = new StopMatcher(["", "END", "STOP"]);
  assert.deepEqual(matcher.feed("a STOP b END"), { emit: "a ", matched: "STOP" });
  const other = new StopMatcher(["\n\n", "Human:"]);
  assert.deepEqual(other.feed("line\nHuman: hi\n\n"), { emit: "line\n", matched: "Human:" });
});

Deno.test("withStopSequences cuts the text, finishes with stop_sequence, and stops", async () => {
  const events = await collect(withStopSequences(
    from([...texts(["alpha S", "TOP beta"]), USAGE, FINISH]),
    ["END", "STOP"],
  ));
  assert.deepEqual(events, [
    { type: "text", text: "alpha " },
    { type: "finish", reason: "stop_sequence", stopSequence: "STOP" },
  ]);
});

Deno.test("withStopSequences flushes held-back text before a finish or a tool call", async () => {
  const finished = await collect(withStopSequences(
    from([...texts(["ends with EN"]), USAGE, FINISH]),
    ["END"],
  ));
  assert.deepEqual(finished, [
    { type: "text", text: "ends with " },
    USAGE,
    { type: "text", text: "EN" },
    FINISH,
  ]);
  const joined = finished.filter((e) => e.type === "text").map((e) => e.text).join("");
  assert.equal(joined, "ends with EN", "no text is lost");

  const tool: GlmEvent = { type: "tool_call_start", index: 0, id: "c", name: "f" };
  const withTool = await collect(withStopSequences(from([...texts(["call E"]), tool]), ["END"]));
  assert.deepEqual(withTool, [...texts(["call ", "E"]), tool]);
});

Deno.test("withStopSequences leaves reasoning and tool arguments alone", async () => {
  const events: GlmEvent[] = [
    { type: "reasoning", text: "I will not STOP thinking" },
    { type: "tool_call_args", index: 0, json: '{"word":"STOP"}' },
    FINISH,
  ];
  assert.deepEqual(await collect(withStopSequences(from(events), ["STOP"])), events);
});

Deno.test("withStopSequences without sequences passes everything through", async () => {
  const events = [...texts(["a", "b"]), USAGE, FINISH];
  assert.deepEqual(await collect(withStopSequences(from(events), [])), events);
});

Deno.test("applyStopSequences keeps the usage when it cuts a whole answer", () => {
  const events = applyStopSequences([...texts(["one two END three"]), USAGE, FINISH], ["END"]);
  assert.deepEqual(events, [
    { type: "text", text: "one two " },
    USAGE,
    { type: "finish", reason: "stop_sequence", stopSequence: "END" },
  ]);
  const untouched = [...texts(["no stop here"]), USAGE, FINISH];
  assert.deepEqual(applyStopSequences(untouched, ["END"]), untouched);
});
