/** Reading a request's JSON body within the size limit, and small field validators. */

import { ApiError, invalidField } from "./errors.ts";

function tooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    "request_too_large",
    `Request body is larger than ${limit} bytes: send fewer or smaller images, or a shorter conversation`,
  );
}

/** Reads the body as a JSON object; 413 over `limit` bytes, 400 when it is not a JSON object. */
export async function readJsonObject(
  request: Request,
  limit: number,
): Promise<Record<string, unknown>> {
  const length = request.headers.get("content-length");
  const declared = Number(length);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) throw invalidBody("the body is empty");
  const bytes = length !== null && Number.isFinite(declared)
    ? await readDeclared(request, limit)
    : await readChunked(request.body, limit);
  const size = bytes.byteLength;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw invalidBody(
      size === 0 ? "the body is empty" : `invalid JSON (${(error as Error).message})`,
    );
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalidBody("expected a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/**
 * A body of declared length within the limit, read in one piece (the server stops at the declared
 * length). Cheaper than a reader, which also keeps a 64 KiB buffer for as long as the request lives.
 */
async function readDeclared(request: Request, limit: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await request.arrayBuffer());
  } catch {
    throw invalidBody("the body could not be read");
  }
  if (bytes.byteLength > limit) throw tooLarge(limit);
  return bytes;
}

/** A body of unknown length, read piece by piece up to the limit. */
async function readChunked(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read().catch(() => {
      throw invalidBody("the body could not be read");
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : concat(chunks, size);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function invalidBody(why: string): ApiError {
  return new ApiError(400, "invalid_request", `Cannot parse request body: ${why}`);
}

/** A plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An optional number within [min, max]; 400 naming the field otherwise. */
export function optionalNumber(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw invalidField(field, `${field} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** An optional positive integer; 400 naming the field otherwise. */
export function optionalPositiveInt(
  body: Record<string, unknown>,
  field: string,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalidField(field, `${field} must be a positive integer`);
  }
  return value;
}

/** An optional boolean; 400 naming the field otherwise. */
export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidField(field, `${field} must be true or false`);
  return value;
}

/** A required non-empty string; 400 naming the field otherwise. */
export function requiredString(body: Record<string, unknown>, field: string, path = field): string {
  const value = body[field];
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidField(path, `${path} is required and must be a non-empty string`);
  }
  return value;
}
