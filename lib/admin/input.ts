/** Reading and validating admin request bodies and query parameters; every 400 names its field. */

import { readJsonObject } from "../core/json_body.ts";
import { invalidField } from "../core/errors.ts";

/** Largest admin request body accepted, in bytes. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** The request body as a JSON object holding only `allowed` fields; 400/413 otherwise. */
export async function readAdminBody(
  request: Request,
  allowed: readonly string[],
): Promise<Record<string, unknown>> {
  const body = await readJsonObject(request, MAX_ADMIN_BODY_BYTES);
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) {
      throw invalidField(field, `Unknown field ${field}: expected only ${allowed.join(", ")}`);
    }
  }
  return body;
}

/** An integer field in [min, max]; undefined when absent, null when null and `nullable`. */
export function integerField(
  body: Record<string, unknown>,
  field: string,
  range: { min: number; max: number; nullable?: boolean },
): number | null | undefined {
  const value = body[field];
  if (value === undefined || (value === null && range.nullable)) return value as null | undefined;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < range.min || value > range.max
  ) {
    const orNull = range.nullable ? ", or null for the server default" : "";
    throw invalidField(
      field,
      `Invalid ${field}: expected a whole number from ${range.min} to ${range.max}${orNull}`,
    );
  }
  return value;
}

/** A boolean field; undefined when absent. */
export function booleanField(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || typeof value === "boolean") return value;
  throw invalidField(field, `Invalid ${field}: expected true or false`);
}

/** An optional string field of 1 to `max` characters, or null. */
export function stringField(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw invalidField(field, `Invalid ${field}: expected a string of 1 to ${max} characters`);
  }
  return value;
}

/** A query parameter as a whole number in [min, max], or `fallback` when absent. */
export function integerParam(
  url: URL,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return range.fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
    throw invalidField(
      name,
      `Invalid ${name}=${
        JSON.stringify(raw)
      }: expected a whole number from ${range.min} to ${range.max}`,
    );
  }
  return value;
}
