/** Client-key material: generation from a CSPRNG, hashing, constant-time comparison. */

import { sha256Hex } from "./sha256.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Largest multiple of 62 that fits in a byte: bytes at or above it are rejected, so no bias. */
const UNBIASED_LIMIT = 248;
/** Most bytes `crypto.getRandomValues` fills in one call. */
const MAX_RANDOM_BYTES = 65_536;

/** Random characters after `sk-` in a new key (48 × log2(62) ≈ 285 bits). */
export const KEY_RANDOM_CHARS = 48;

/** `length` random base62 characters from `crypto.getRandomValues`, by rejection sampling. */
export function randomBase62(length: number): string {
  let out = "";
  const bytes = new Uint8Array(Math.min(MAX_RANDOM_BYTES, Math.max(16, length * 2)));
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new client key: `sk-` and {@link KEY_RANDOM_CHARS} random base62 characters. */
export function generateApiKey(): string {
  return `sk-${randomBase62(KEY_RANDOM_CHARS)}`;
}

/** Compares two texts in time that depends only on their lengths. */
export function textEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/** Compares two secrets in constant time, by comparing their SHA-256 digests. */
export function secretsEqual(given: string, expected: string): boolean {
  return textEqual(sha256Hex(given), sha256Hex(expected));
}

/** What a list may show of a key: `sk-` plus its first 4 random characters, and its last 4. */
export function keyHint(key: string): { prefix: string; last4: string } {
  return { prefix: key.slice(0, 7), last4: key.slice(-4) };
}
