import assert from "node:assert/strict";
import { hashApiKey } from "../../lib/governance/keys.ts";
import { generateApiKey } from "../../lib/governance/secrets.ts";
import { admin, ADMIN_KEY, createTestKey, startKvGateway } from "../support/kv_server.ts";

/** Every file KV keeps beside its database (the sqlite file, its WAL and shared memory). */
async function storeText(dir: string): Promise<{ files: string[]; latin1: string }> {
  const files: string[] = [];
  let latin1 = "";
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    files.push(entry.name);
    latin1 += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return { files: files.sort(), latin1 };
}

function utf16(text: string): string {
  return [...text].map((c) => `${c}\0`).join("");
}

function assertAbsent(latin1: string, secrets: string[], when: string): void {
  for (const secret of secrets) {
    for (const needle of [secret, secret.slice(3), utf16(secret)]) {
      assert.ok(!latin1.includes(needle), `${when}: found a raw key in the KV files`);
    }
  }
}

Deno.test("no raw key reaches the KV files (database and WAL) or the logs", async () => {
  const dir = await Deno.makeTempDir();
  const defaultKey = generateApiKey();
  try {
    const gw = await startKvGateway({
      kvPath: `${dir}/kv.sqlite3`,
      env: { DEFAULT_KEY: defaultKey, DAILY_TOKEN_BUDGET: "100000" },
    });
    let hashes: string[];
    let secrets: string[];
    try {
      const created = await Promise.all(["ann", "ben", "ann"].map((u) => createTestKey(gw.url, u)));
      secrets = [defaultKey, ADMIN_KEY, ...created.map((k) => k.key)];
      hashes = await Promise.all(created.map((k) => hashApiKey(k.key)));
      for (const key of [defaultKey, ...created.map((k) => k.key), `${defaultKey}x`]) {
        for (const path of ["/v1/models", "/v1/key"]) {
          const response = await fetch(gw.url + path, {
            headers: { authorization: `Bearer ${key}` },
          });
          assert.ok(!(await response.text()).includes(key));
        }
      }
      const usage = { promptTokens: 10, completionTokens: 10, cachedTokens: 0, estimated: false };
      await gw.governance.record({ keyId: created[0].id, user: "ann" }, "glm-4.5", usage);
      await admin(gw.url, `/admin/keys/${created[1].id}`, {
        method: "PATCH",
        body: { disabled: true },
      });
      await admin(gw.url, `/admin/keys/${created[2].id}`, { method: "DELETE" });
      await admin(gw.url, "/admin/keys");

      const live = await storeText(dir);
      assert.ok(live.files.includes("kv.sqlite3"), `files: ${live.files}`);
      assert.ok(live.latin1.includes(hashes[0]), "the scan must see what KV holds (a key's hash)");
      assertAbsent(live.latin1, secrets, "while open");
      assertAbsent(gw.logs.join("\n"), secrets, "in the logs");
    } finally {
      await gw.close();
    }
    const closed = await storeText(dir);
    assert.ok(closed.latin1.includes(hashes[0]));
    assertAbsent(closed.latin1, secrets, "after close");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
