/** Signatures of the thinking blocks the gateway emits: HMAC-SHA256 under a secret kept in Deno KV. */

import { retryAtomic, storeError } from "../core/kv.ts";
import { createHmac } from "node:crypto";
import { secretsEqual } from "../core/crypto.ts";

/** Where the shared secret lives; every process on the same KV signs alike. */
export const THINKING_SECRET_KEY: Deno.KvKey = ["secrets", "thinking_signature"];

const SECRET_BYTES = 32;

/** Signs one thinking text as it streams in. */
export interface ThinkingSignature {
  update(text: string): void;
  /** The base64 signature of everything fed so far. */
  digest(): string;
}

/** Signs and checks thinking blocks, synchronously once the secret is loaded. */
export interface ThinkingSigner {
  sign(thinking: string): string;
  /** Starts an incremental signature (for streams). */
  start(): ThinkingSignature;
  /** True only when `signature` is the gateway's signature of `thinking`. */
  verify(thinking: string, signature: unknown): boolean;
}

const secrets = new WeakMap<Deno.Kv, Promise<Uint8Array>>();

async function loadSecret(kv: Deno.Kv): Promise<Uint8Array> {
  return await retryAtomic(async () => {
    const entry = await kv.get<Uint8Array>(THINKING_SECRET_KEY);
    if (entry.value instanceof Uint8Array && entry.value.length === SECRET_BYTES) {
      return entry.value;
    }
    const fresh = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    const result = await kv.atomic().check(entry).set(THINKING_SECRET_KEY, fresh).commit();
    return result.ok ? fresh : null;
  });
}

function signerFor(secret: Uint8Array): ThinkingSigner {
  const start = (): ThinkingSignature => {
    const mac = createHmac("sha256", secret);
    // A piece may end inside a surrogate pair; hold its first half until the next piece.
    let held = "";
    return {
      update(text) {
        text = held + text;
        const last = text.charCodeAt(text.length - 1);
        held = last >= 0xd800 && last <= 0xdbff ? text.slice(-1) : "";
        mac.update(held ? text.slice(0, -1) : text);
      },
      digest: () => mac.update(held).digest("base64"),
    };
  };
  const sign = (thinking: string) => {
    const signature = start();
    signature.update(thinking);
    return signature.digest();
  };
  return {
    sign,
    start,
    verify: (thinking, signature) =>
      typeof signature === "string" && signature.length > 0 &&
      secretsEqual(signature, sign(thinking)),
  };
}

/**
 * The signer of a KV store: its secret is created once (atomic create-if-absent, so processes
 * sharing the store agree) and cached per `kv` instance.
 */
export async function thinkingSigner(kv: Deno.Kv): Promise<ThinkingSigner> {
  let secret = secrets.get(kv);
  if (!secret) {
    secret = loadSecret(kv);
    secrets.set(kv, secret);
  }
  try {
    return signerFor(await secret);
  } catch (error) {
    secrets.delete(kv);
    throw storeError(error);
  }
}
