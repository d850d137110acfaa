import assert from "node:assert/strict";
import { startKvGateway } from "../support/kv_server.ts";

const CLI = new URL("../../lib/admin/cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** The variables a Deno subprocess needs to find its cache; nothing of the test's own config. */
function baseEnv(): Record<string, string> {
  const names = ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "TMPDIR"];
  return Object.fromEntries(names.flatMap((n) => Deno.env.get(n) ? [[n, Deno.env.get(n)!]] : []));
}

async function keys(cwd: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, ...args],
    cwd,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function status(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/models`, { headers: { "x-api-key": key } });
  await response.body?.cancel();
  return response.status;
}

Deno.test("deno task keys: create, list, disable, enable, revoke on the KV at KV_PATH", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/kv.sqlite3` };
  try {
    const created = await keys(
      dir,
      ["create", "--user", "alice", "--name", "laptop", "--json"],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const { id, key, ...rest } = JSON.parse(created.stdout);
    assert.match(key, /^sk-[0-9A-Za-z]{48}$/);
    assert.deepEqual(Object.keys(rest), ["user", "name", "created_at", "expires_at"]);
    assert.deepEqual([rest.user, rest.name], ["alice", "laptop"]);
    const human = await keys(dir, ["create", "--user", "alice", "--lifetime-days", "3"], env);
    assert.match(human.stdout, /Created key_\w+ for user alice, expires /);
    assert.match(human.stdout, /Key \(shown once, store it now\): sk-[0-9A-Za-z]{48}\n/);

    await using gw = await startKvGateway({ kvPath: env.KV_PATH });
    assert.equal(await status(gw.url, key), 200);

    const listed = JSON.parse((await keys(dir, ["list", "--user", "alice", "--json"], env)).stdout);
    assert.equal(listed.data.length, 2);
    assert.deepEqual(
      [listed.data[0].id, listed.data[0].prefix, listed.data[0].last4],
      [id, key.slice(0, 7), key.slice(-4)],
    );
    const table = await keys(dir, ["list"], env);
    assert.match(table.stdout, /^ID\s+USER\s+NAME\s+KEY\s+EXPIRES\s+STATUS\s+LAST USED\n/);
    assert.match(
      table.stdout,
      new RegExp(`${id}\\s+alice\\s+laptop\\s+sk-\\w{4}…\\w{4}\\s+\\S+\\s+active`),
    );
    assert.ok(!table.stdout.includes(key) && !JSON.stringify(listed).includes(key));

    assert.match((await keys(dir, ["disable", id], env)).stdout, new RegExp(`Disabled ${id}`));
    assert.equal(await status(gw.url, key), 403);
    assert.match((await keys(dir, ["list"], env)).stdout, /disabled/);
    assert.equal((await keys(dir, ["enable", id], env)).code, 0);
    assert.equal(await status(gw.url, key), 200);
    assert.match((await keys(dir, ["revoke", id], env)).stdout, new RegExp(`Revoked ${id}`));
    assert.equal(await status(gw.url, key), 401);
    const again = await keys(dir, ["revoke", id], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`Unknown key id ${id}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task keys reads .env like the server, and keeps the per-user cap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      `KV_PATH=${dir}/from-env.sqlite3\nMAX_KEYS_PER_USER=1\n`,
    );
    assert.equal((await keys(dir, ["create", "--user", "bob"])).code, 0);
    const second = await keys(dir, ["create", "--user", "bob"]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /User bob already holds 1 active keys \(MAX_KEYS_PER_USER is 1\)/);
    assert.ok((await Deno.stat(`${dir}/from-env.sqlite3`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task keys explains bad usage and bad values", async () => {
  const dir = await Deno.makeTempDir();
  const env = { KV_PATH: `${dir}/kv.sqlite3` };
  try {
    const none = await keys(dir, [], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: deno task keys <command>/);
    const noUser = await keys(dir, ["create"], env);
    assert.deepEqual([noUser.code, noUser.stderr.trim()], [1, "keys: create needs --user USER"]);
    const days = await keys(dir, ["create", "--user", "x", "--lifetime-days", "0"], env);
    assert.equal(days.code, 1);
    assert.match(days.stderr, /Invalid --lifetime-days/);
    const name = await keys(dir, ["create", "--user", "x", "--name", ""], env);
    assert.match(name.stderr, /Invalid --name: expected 1 to 100 characters/);
    const badUser = await keys(dir, ["create", "--user", "a b"], env);
    assert.match(badUser.stderr, /Invalid user: expected 1 to 64 characters/);
    const flag = await keys(dir, ["list", "--colour"], env);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--colour'/);
    const config = await keys(dir, ["list"], { ...env, RATE_LIMIT_RPM: "fast" });
    assert.equal(config.code, 1);
    assert.match(config.stderr, /Invalid RATE_LIMIT_RPM="fast"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
