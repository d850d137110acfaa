import assert from "node:assert/strict";
import { Sha256, sha256Hex, toHex } from "../lib/sha256.ts";

async function webCryptoHex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

Deno.test("SHA-256 gives FIPS 180-4's example digests", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(
    sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  // 56 bytes: the padding needs a second block.
  assert.equal(
    sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  const million = new Sha256();
  const thousand = new Uint8Array(1000).fill(0x61);
  for (let i = 0; i < 1000; i++) million.update(thousand);
  assert.equal(
    toHex(million.digest()),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("SHA-256 agrees with Web Crypto for every length up to 300 bytes, fed in any pieces", async () => {
  for (let length = 0; length <= 300; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const expected = await webCryptoHex(bytes);
    assert.equal(toHex(new Sha256().update(bytes).digest()), expected, `length ${length}`);
    const pieces = new Sha256();
    for (let at = 0; at < length;) {
      const size = Math.floor(Math.random() * 80);
      pieces.update(bytes.subarray(at, at + size));
      at += size;
    }
    assert.equal(toHex(pieces.digest()), expected, `length ${length} in pieces`);
  }
});

Deno.test("SHA-256 of a text hashes its UTF-8 bytes", async () => {
  const text = "混合 text, emoji 🙂, and a key sk-abc\n".repeat(5);
  assert.equal(sha256Hex(text), await webCryptoHex(new TextEncoder().encode(text)));
  assert.equal(
    toHex(new Sha256().update("混合 ").update("text").digest()),
    await webCryptoHex(new TextEncoder().encode("混合 text")),
  );
});
