/** `deno task keys`: create, list, disable, enable and revoke client keys in the local KV. */

import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig, readEnvironment } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";
import {
  createKey,
  keyView,
  listKeys,
  revokeKey,
  setKeyDisabled,
  validateUserName,
} from "../governance/keys.ts";

/** What `deno task keys` prints for help. */
export const USAGE = `Usage: deno task keys <command> [options]

  create --user USER [--name NAME] [--lifetime-days DAYS] [--json]
                          create a key; the key is printed once and cannot be shown again
  list [--user USER] [--json]
                          list keys (id, user, name, prefix…last4, expiry, status, last use)
  disable KEY_ID          stop a key from working until it is enabled
  enable KEY_ID           let a disabled key work again
  revoke KEY_ID           delete a key for good

Reads .env and the environment like the server (KV_PATH, MAX_KEYS_PER_USER, KEY_LIFETIME_DAYS).`;

/** Where the CLI writes: normal output and errors. */
export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

function lifetimeDays(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const days = Number(raw);
  if (!/^\d+$/.test(raw) || days < 1 || days > 36500) {
    throw new ApiError(400, "invalid_request", "Invalid --lifetime-days: expected 1 to 36500");
  }
  return days;
}

function keyName(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (raw.length === 0 || raw.length > 100) {
    throw new ApiError(400, "invalid_request", "Invalid --name: expected 1 to 100 characters");
  }
  return raw;
}

function status(key: Record<string, unknown>, now: number): string {
  if (key.disabled) return "disabled";
  return Date.parse(String(key.expires_at)) <= now ? "expired" : "active";
}

function printList(keys: Record<string, unknown>[], output: CliOutput): void {
  if (keys.length === 0) return output.out("No keys.");
  const now = Date.now();
  const rows = keys.map((k) => [
    String(k.id),
    String(k.user),
    String(k.name ?? "-"),
    `${k.prefix}…${k.last4}`,
    String(k.expires_at).slice(0, 10),
    status(k, now),
    String(k.last_used_at ?? "never"),
  ]);
  const header = ["ID", "USER", "NAME", "KEY", "EXPIRES", "STATUS", "LAST USED"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) {
    output.out(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
}

async function run(
  kv: Deno.Kv,
  args: string[],
  options: { config: Readonly<Config>; output: CliOutput },
): Promise<number> {
  const { config, output } = options;
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      user: { type: "string" },
      name: { type: "string" },
      "lifetime-days": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, id] = positionals;
  if (command === "create") {
    if (values.user === undefined) {
      throw new ApiError(400, "invalid_request", "create needs --user USER");
    }
    const { record, key } = await createKey(kv, {
      user: validateUserName(values.user),
      name: keyName(values.name),
      lifetimeDays: lifetimeDays(values["lifetime-days"], config.keyLifetimeDays),
      maxKeysPerUser: config.maxKeysPerUser,
      now: Date.now(),
    });
    const { created_at, expires_at } = keyView(record, null);
    if (values.json) {
      const { id, user, name } = record;
      output.out(JSON.stringify({ id, key, user, name, created_at, expires_at }));
    } else {
      output.out(`Created ${record.id} for user ${record.user}, expires ${expires_at}.`);
      output.out(`Key (shown once, store it now): ${key}`);
    }
    return 0;
  }
  if (command === "list") {
    const keys = await listKeys(kv, values.user && validateUserName(values.user));
    if (values.json) output.out(JSON.stringify({ data: keys }));
    else printList(keys, output);
    return 0;
  }
  if ((command === "disable" || command === "enable") && id) {
    await setKeyDisabled(kv, id, command === "disable");
    output.out(`${command === "disable" ? "Disabled" : "Enabled"} ${id}.`);
    return 0;
  }
  if (command === "revoke" && id) {
    await revokeKey(kv, id);
    output.out(`Revoked ${id}.`);
    return 0;
  }
  output.err(USAGE);
  return values.help ? 0 : 2;
}

async function openKv(path: string): Promise<Deno.Kv> {
  try {
    return await Deno.openKv(path || undefined);
  } catch (error) {
    const where = path ? `KV_PATH=${path}` : "Deno's default location";
    throw new ApiError(
      503,
      "unavailable",
      `Cannot open KV at ${where}: ${(error as Error).message}`,
    );
  }
}

/** Runs one CLI command against the KV at `KV_PATH` (or Deno's default); returns the exit code. */
export async function runKeysCli(args: string[], output: CliOutput): Promise<number> {
  let kv: Deno.Kv | undefined;
  try {
    const config = loadConfig(readEnvironment());
    kv = await openKv(config.kvPath);
    return await run(kv, args, { config, output });
  } catch (error) {
    if (error instanceof ApiError || error instanceof ConfigError) {
      output.err(`keys: ${error.message}`);
      return 1;
    }
    if (error instanceof TypeError && "code" in error) {
      output.err(`keys: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  } finally {
    kv?.close();
  }
}

if (import.meta.main) {
  Deno.exit(await runKeysCli(Deno.args, { out: console.log, err: console.error }));
}
