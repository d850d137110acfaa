/** Client tool definitions (OpenAI or Anthropic) → GLM function tools. */

import { isObject } from "../core/json_body.ts";
import type { Dialect } from "../core/errors.ts";
import { invalidField } from "../core/errors.ts";

type Json = Record<string, unknown>;

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EMPTY_SCHEMA = { type: "object", properties: {} };

function schemaOf(value: unknown, path: string): Json {
  if (value === undefined || value === null) return EMPTY_SCHEMA;
  if (!isObject(value)) throw invalidField(path, `${path} must be a JSON Schema object`);
  const { $schema: _ignored, ...schema } = value;
  return schema;
}

function functionTool(name: unknown, description: unknown, schema: Json, path: string): Json {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw invalidField(
      `${path}.name`,
      `${path}.name must be 1–64 letters, digits, _ or - (GLM's rule for tool names)`,
    );
  }
  return {
    type: "function",
    function: {
      name,
      description: typeof description === "string" ? description : "",
      parameters: schema,
    },
  };
}

/** One GLM function tool from its parts; 400 naming `path` when the name breaks GLM's rule. */
export function glmFunctionTool(
  name: unknown,
  description: unknown,
  parameters: unknown,
  path: string,
): Json {
  return functionTool(name, description, schemaOf(parameters, `${path}.parameters`), path);
}

/** Translates a request's `tools`; 400 naming the tool at fault. Server tools GLM cannot run are dropped. */
export function glmTools(tools: unknown, dialect: Dialect): Json[] {
  if (!Array.isArray(tools)) throw invalidField("tools", "tools must be an array");
  if (tools.length > 128) {
    throw invalidField("tools", "tools may hold at most 128 tools (GLM's limit)");
  }
  const out: Json[] = [];
  tools.forEach((tool, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) throw invalidField(path, `${path} must be an object`);
    if (dialect === "anthropic") {
      if (tool.type !== undefined && tool.type !== "custom") return; // Anthropic server tools.
      out.push(
        functionTool(
          tool.name,
          tool.description,
          schemaOf(tool.input_schema, `${path}.input_schema`),
          path,
        ),
      );
      return;
    }
    if (tool.type === "web_search" || tool.type === "retrieval") {
      out.push({ type: tool.type, [tool.type]: tool[tool.type] });
      return;
    }
    if (tool.type !== "function") {
      throw invalidField(`${path}.type`, `${path} must be {"type":"function","function":{…}}`);
    }
    if (!isObject(tool.function)) {
      throw invalidField(`${path}.function`, `${path}.function must be an object with a name`);
    }
    const fn = tool.function;
    out.push(
      functionTool(
        fn.name,
        fn.description,
        schemaOf(fn.parameters, `${path}.function.parameters`),
        `${path}.function`,
      ),
    );
  });
  return out;
}
