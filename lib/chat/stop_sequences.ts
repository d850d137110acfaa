/** Stop sequences matched by the gateway itself: GLM honours one, clients may send several. */

import type { GlmEvent } from "../core/glm.ts";

/** Finds the first stop sequence in streamed text, holding back only what could begin one. */
export class StopMatcher {
  readonly #sequences: string[];
  readonly #holdBack: number;
  #pending = "";

  constructor(sequences: readonly string[]) {
    this.#sequences = sequences.filter((s) => s.length > 0);
    this.#holdBack = Math.max(0, ...this.#sequences.map((s) => s.length - 1));
  }

  /** Feeds text; returns what may be emitted now, and the sequence when one matched. */
  feed(text: string): { emit: string; matched?: string } {
    const buffer = this.#pending + text;
    let cut = -1;
    let matched: string | undefined;
    for (const sequence of this.#sequences) {
      const at = buffer.indexOf(sequence);
      if (at !== -1 && (cut === -1 || at < cut)) {
        cut = at;
        matched = sequence;
      }
    }
    if (matched !== undefined) {
      this.#pending = "";
      return { emit: buffer.slice(0, cut), matched };
    }
    const keep = this.#partialSuffix(buffer);
    this.#pending = buffer.slice(buffer.length - keep);
    return { emit: buffer.slice(0, buffer.length - keep) };
  }

  /** Whatever is still held back, once the text is over. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = "";
    return rest;
  }

  #partialSuffix(buffer: string): number {
    for (let length = Math.min(this.#holdBack, buffer.length); length > 0; length--) {
      const tail = buffer.slice(buffer.length - length);
      if (this.#sequences.some((s) => s.startsWith(tail))) return length;
    }
    return 0;
  }
}

/** One event through the matcher: what to pass on, and the sequence when one matched. */
function step(matcher: StopMatcher, event: GlmEvent): { out: GlmEvent[]; matched?: string } {
  const out: GlmEvent[] = [];
  if (event.type === "text") {
    const { emit, matched } = matcher.feed(event.text);
    if (emit) out.push({ type: "text", text: emit });
    return { out, matched };
  }
  if (event.type === "finish" || event.type === "error" || event.type === "tool_call_start") {
    const rest = matcher.flush();
    if (rest) out.push({ type: "text", text: rest });
  }
  out.push(event);
  return { out };
}

function stopFinish(sequence: string): GlmEvent {
  return { type: "finish", reason: "stop_sequence", stopSequence: sequence };
}

/** Applies stop sequences to an event stream: text is cut at the first match, which finishes it. */
export function withStopSequences(
  events: AsyncIterable<GlmEvent>,
  sequences: readonly string[],
): AsyncIterable<GlmEvent> {
  return sequences.length === 0 ? events : stopAtFirstMatch(events, new StopMatcher(sequences));
}

async function* stopAtFirstMatch(
  events: AsyncIterable<GlmEvent>,
  matcher: StopMatcher,
): AsyncGenerator<GlmEvent> {
  for await (const event of events) {
    const { out, matched } = step(matcher, event);
    yield* out;
    if (matched !== undefined) return yield stopFinish(matched);
  }
}

/** The synchronous form of {@link withStopSequences}, for whole responses (their usage is kept). */
export function applyStopSequences(events: GlmEvent[], sequences: readonly string[]): GlmEvent[] {
  if (sequences.length === 0) return events;
  const result: GlmEvent[] = [];
  const matcher = new StopMatcher(sequences);
  for (const event of events) {
    const { out, matched } = step(matcher, event);
    result.push(...out);
    if (matched !== undefined) {
      const usage = events.find((e) => e.type === "usage");
      return [...result, ...(usage ? [usage] : []), stopFinish(matched)];
    }
  }
  return result;
}
