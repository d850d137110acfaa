/**
 * The Responses event grammar of responses-api.md, as a checker: every event named in its `event:`
 * line and `type`, sequence numbers 0, 1, 2…, `response.created` first, each output item added →
 * its deltas → done, and one terminal event last carrying every done item and the usage.
 */

import assert from "node:assert/strict";
import { TEST_KEY, type TestGateway } from "../support/gateway.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

/** One SSE event: its `event:` name and parsed data. */
export interface SseEvent {
  event: string;
  data: Loose;
}

/** Parses an SSE text into events (comments and keepalives skipped). */
export function parseEvents(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
    if (!data.length) continue;
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "";
    out.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return out;
}

/** POSTs a body to `/v1/responses` with the test key; the raw reply. */
export async function postResponses(
  gw: TestGateway,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: Loose }> {
  const response = await gw.fetch(`${gw.url}/v1/responses`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TEST_KEY}`,
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // An event stream.
  }
  return { status: response.status, headers: response.headers, text, json };
}

interface ItemState {
  type: string;
  id: string;
  deltas: string;
  phase: string;
  done?: Loose;
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

function itemEvent(items: Map<number, ItemState>, { event, data }: SseEvent): void {
  const item = items.get(data.output_index);
  assert.ok(item, `${event} refers to output ${data.output_index}, which was added`);
  assert.equal(item.done, undefined, `${event} after output ${data.output_index} was done`);
  if (data.item_id !== undefined) assert.equal(data.item_id, item.id, `${event} item_id`);
  const expect = (type: string, phases: string[], next: string) => {
    assert.equal(item.type, type, `${event} on a ${item.type} item`);
    assert.ok(phases.includes(item.phase), `${event} after ${item.phase}`);
    item.phase = next;
  };
  switch (event) {
    case "response.reasoning_summary_part.added":
      assert.equal(data.summary_index, 0);
      return expect("reasoning", ["added"], "part");
    case "response.reasoning_summary_text.delta":
      assert.equal(data.summary_index, 0, "Codex requires summary_index on every delta");
      item.deltas += data.delta;
      return expect("reasoning", ["part", "delta"], "delta");
    case "response.reasoning_summary_text.done":
      assert.equal(data.text, item.deltas);
      return expect("reasoning", ["delta"], "text-done");
    case "response.reasoning_summary_part.done":
      assert.equal(data.part.text, item.deltas);
      return expect("reasoning", ["text-done"], "part-done");
    case "response.content_part.added":
      assert.equal(data.content_index, 0);
      return expect("message", ["added"], "part");
    case "response.output_text.delta":
      assert.equal(data.content_index, 0);
      item.deltas += data.delta;
      return expect("message", ["part", "delta"], "delta");
    case "response.output_text.done":
      assert.equal(data.text, item.deltas);
      return expect("message", ["delta"], "text-done");
    case "response.content_part.done":
      assert.equal(data.part.text, item.deltas);
      return expect("message", ["text-done"], "part-done");
    case "response.function_call_arguments.delta":
      item.deltas += data.delta;
      return expect("function_call", ["added", "delta"], "delta");
    case "response.function_call_arguments.done":
      assert.equal(data.arguments, item.deltas);
      return expect("function_call", ["added", "delta"], "part-done");
    case "response.output_item.done": {
      expect(item.type, ["part-done"], "done");
      assert.equal(data.item.id, item.id);
      if (item.type === "reasoning") assert.equal(data.item.summary[0].text, item.deltas);
      if (item.type === "message") {
        assert.equal(data.item.status, "completed");
        assert.equal(data.item.content[0].text, item.deltas);
      }
      if (item.type === "function_call") {
        assert.equal(data.item.status, "completed");
        assert.equal(data.item.arguments, item.deltas);
      }
      item.done = data.item;
      return;
    }
    default:
      assert.fail(`unexpected event ${event}`);
  }
}

/** Checks a whole stream against the grammar; returns the done items and the terminal event. */
export function checkGrammar(events: SseEvent[]): { items: Loose[]; last: SseEvent } {
  assert.ok(events.length >= 2, "a stream has at least created and a terminal event");
  events.forEach(({ event, data }, i) => {
    assert.equal(data.type, event, `event ${i}: the event line names the data's type`);
    assert.equal(data.sequence_number, i, `event ${i}: sequence numbers count up from 0`);
  });
  assert.equal(events[0].event, "response.created");
  assert.equal(events[0].data.response.status, "in_progress");
  const id = events[0].data.response.id;
  assert.match(id, /^resp_/);
  const items = new Map<number, ItemState>();
  let i = 1;
  for (; i < events.length && !TERMINAL.has(events[i].event); i++) {
    const { event, data } = events[i];
    if (event === "response.output_item.added") {
      assert.equal(data.output_index, items.size, "items are added at increasing output_index");
      const prefix = { reasoning: "rs_", message: "msg_", function_call: "fc_" }[
        data.item.type as string
      ];
      assert.ok(prefix && data.item.id.startsWith(prefix), `item id ${data.item.id}`);
      if (data.item.type === "function_call") {
        assert.equal(data.item.arguments, "");
        assert.equal(data.item.status, "in_progress");
      }
      items.set(data.output_index, {
        type: data.item.type,
        id: data.item.id,
        deltas: "",
        phase: "added",
      });
    } else itemEvent(items, events[i]);
  }
  assert.ok(i < events.length, "the stream ends with a terminal event");
  const last = events[i];
  assert.equal(last.data.response.id, id);
  const done = [...items.values()].filter((item) => item.done).map((item) => item.done);
  if (last.event === "response.failed") {
    assert.ok(last.data.response.error?.code, "a failed response names its error code");
    const rest = events.slice(i + 1);
    assert.ok(rest.length <= 1 && (rest.length === 0 || rest[0].event === "error"));
  } else {
    assert.equal(i, events.length - 1, "the terminal event is the last");
    assert.ok([...items.values()].every((item) => item.done), "every item is done at the end");
    assert.deepEqual(last.data.response.output, done, "the terminal event carries every item");
    const usage = last.data.response.usage;
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert.equal(typeof usage.input_tokens_details.cached_tokens, "number");
    assert.equal(typeof usage.output_tokens_details.reasoning_tokens, "number");
  }
  return { items: done, last };
}
