/** Client-key material: generation and what a list may show of a key. */

import { randomBase62 } from "../core/crypto.ts";

/** Random characters after `sk-` in a new key (48 × log2(62) ≈ 285 bits). */
export const KEY_RANDOM_CHARS = 48;

/** A new client key: `sk-` and {@link KEY_RANDOM_CHARS} random base62 characters. */
export function generateApiKey(): string {
  return `sk-${randomBase62(KEY_RANDOM_CHARS)}`;
}

/** What a list may show of a key: `sk-` plus its first 4 random characters, and its last 4. */
export function keyHint(key: string): { prefix: string; last4: string } {
  return { prefix: key.slice(0, 7), last4: key.slice(-4) };
}
