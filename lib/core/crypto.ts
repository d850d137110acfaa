/** Hashing, constant-time comparison and random ids, on `node:crypto` and Web Crypto. */

import { createHash, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Largest multiple of 62 that fits in a byte: bytes at or above it are rejected, so no bias. */
const UNBIASED_LIMIT = 248;

/** SHA-256 of a text (UTF-8), as lowercase hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compares two secrets in constant time, by comparing their SHA-256 digests. */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** `length` random base62 characters from `crypto.getRandomValues`, by rejection sampling. */
export function randomBase62(length: number): string {
  let out = "";
  const bytes = new Uint8Array(Math.min(65_536, Math.max(16, length * 2))); // the API's most
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
