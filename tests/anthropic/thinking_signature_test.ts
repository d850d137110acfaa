import assert from "node:assert/strict";
import { THINKING_SECRET_KEY, thinkingSigner } from "../../lib/anthropic/thinking_signature.ts";

async function webCryptoHmac(secret: Uint8Array<ArrayBuffer>, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    secret,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

Deno.test("a signature is base64 HMAC-SHA256 of the thinking under the secret in KV", async () => {
  await using kv = await Deno.openKv(":memory:");
  const signer = await thinkingSigner(kv);
  const secret = (await kv.get<Uint8Array<ArrayBuffer>>(THINKING_SECRET_KEY)).value!;
  assert.equal(secret.length, 32);
  for (const text of ["", "Let me think.", "混合 text with emoji 🙂\n".repeat(50)]) {
    const expected = await webCryptoHmac(secret, text);
    assert.equal(signer.sign(text), expected);
    const incremental = signer.start();
    for (const piece of text.match(/[\s\S]{1,7}/g) ?? []) incremental.update(piece);
    assert.equal(incremental.digest(), expected);
  }
});

Deno.test("verify accepts only the gateway's own signature of that exact text", async () => {
  await using kv = await Deno.openKv(":memory:");
  await using other = await Deno.openKv(":memory:");
  const signer = await thinkingSigner(kv);
  const signature = signer.sign("The answer is 4.");
  assert.ok(signer.verify("The answer is 4.", signature));
  assert.ok(!signer.verify("The answer is 5.", signature));
  assert.ok(!signer.verify("The answer is 4. ", signature));
  for (const bad of [undefined, null, "", 42, signature.slice(1), signature.toLowerCase()]) {
    assert.ok(!signer.verify("The answer is 4.", bad), String(bad));
  }
  const stranger = await thinkingSigner(other);
  assert.ok(!stranger.verify("The answer is 4.", signature), "another store has another secret");
});

Deno.test("processes sharing one KV agree on a secret created exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  try {
    const handles = await Promise.all([1, 2, 3].map(() => Deno.openKv(path)));
    let signature: string;
    try {
      const signers = await Promise.all(handles.map((kv) => thinkingSigner(kv)));
      const signatures = new Set(signers.map((s) => s.sign("shared thoughts")));
      assert.equal(signatures.size, 1);
      signature = [...signatures][0];
    } finally {
      for (const kv of handles) kv.close();
    }
    await using reopened = await Deno.openKv(path);
    assert.ok((await thinkingSigner(reopened)).verify("shared thoughts", signature));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
