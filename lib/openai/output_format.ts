/** What GLM cannot be asked directly: a JSON Schema for the answer, a tool the model must call. */

import type { PromptDemands } from "../chat/system_prompt.ts";
import { invalidField } from "../core/errors.ts";
import { isObject } from "../core/json_body.ts";

type Json = Record<string, unknown>;

/** `response_format` → GLM's `json_object`, and the schema the model must be told about. */
export function responseFormat(value: unknown): { format?: Json; demands: PromptDemands } {
  if (value === undefined || value === null) return { demands: {} };
  if (!isObject(value) || typeof value.type !== "string") {
    throw invalidField("response_format", "response_format must be an object with a type");
  }
  if (value.type === "text") return { demands: {} };
  if (value.type === "json_object") return { format: { type: "json_object" }, demands: {} };
  if (value.type !== "json_schema") {
    throw invalidField(
      "response_format.type",
      "response_format.type must be text, json_object or json_schema",
    );
  }
  const spec = value.json_schema;
  if (!isObject(spec)) {
    throw invalidField(
      "response_format.json_schema",
      "response_format.json_schema must be an object with a name and a schema",
    );
  }
  const name = typeof spec.name === "string" ? spec.name : undefined;
  const jsonSchema = spec.schema === undefined ? undefined : { schema: spec.schema, name };
  return { format: { type: "json_object" }, demands: { jsonSchema } };
}

/** The tool a `tool_choice` forces: a function's name, `true` for `required`, else undefined. */
export function forcedTool(choice: unknown): string | true | undefined {
  if (choice === "required") return true;
  if (!isObject(choice) || choice.type !== "function") return undefined;
  const name = isObject(choice.function) ? choice.function.name : choice.name;
  return typeof name === "string" && name ? name : true;
}
