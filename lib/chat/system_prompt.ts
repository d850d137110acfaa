/**
 * Instructions the gateway adds to the system prompt for what GLM has no switch for: a JSON
 * Schema the answer must follow (GLM only knows `json_object`) and a tool the model must call
 * (GLM's `tool_choice` is only `auto`).
 */

type Json = Record<string, unknown>;

/**
 * Appends `text` to the system prompt: to the last of the leading system messages, or as a new
 * first system message when there is none. Returns a new list; `messages` is not changed.
 */
export function appendToSystemPrompt(messages: readonly Json[], text: string): Json[] {
  let last = -1;
  while (messages[last + 1]?.role === "system") last++;
  if (last < 0) return [{ role: "system", content: text }, ...messages];
  const out = [...messages];
  const content = typeof out[last].content === "string" ? out[last].content as string : "";
  out[last] = { ...out[last], content: content ? `${content}\n\n${text}` : text };
  return out;
}

/** The instruction for an answer that must be JSON following `schema` (named `name`, if any). */
export function jsonSchemaInstruction(schema: unknown, name?: string): string {
  const named = name ? ` "${name}"` : "";
  return `Answer with a single JSON object that is valid against the JSON Schema${named} below. ` +
    `Output only that JSON object: no prose, no Markdown code fences.\n` +
    `JSON Schema${named}: ${JSON.stringify(schema ?? {})}`;
}

/** The instruction for a forced tool call: the named tool, or any of the tools when unnamed. */
export function forcedToolInstruction(name?: string): string {
  return name
    ? `You must call the tool "${name}" in this answer; do not answer without calling it.`
    : "You must call one of the provided tools in this answer; do not answer without calling one.";
}

/** What a request asks of the model beyond GLM's fields: the schema its JSON must follow, a tool it must call. */
export interface PromptDemands {
  /** A JSON Schema for the answer (the request also gets `response_format: json_object`). */
  jsonSchema?: { schema: unknown; name?: string };
  /** A tool the model must call: a name, or `true` for any tool. */
  forcedTool?: string | true;
}

/** The GLM messages with the instructions for `demands` appended to the system prompt. */
export function withPromptDemands(messages: readonly Json[], demands: PromptDemands): Json[] {
  const lines: string[] = [];
  if (demands.jsonSchema) {
    lines.push(jsonSchemaInstruction(demands.jsonSchema.schema, demands.jsonSchema.name));
  }
  if (demands.forcedTool) {
    lines.push(
      forcedToolInstruction(demands.forcedTool === true ? undefined : demands.forcedTool),
    );
  }
  return lines.length ? appendToSystemPrompt(messages, lines.join("\n\n")) : [...messages];
}
