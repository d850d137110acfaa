/** Users and client keys in Deno KV. Only a SHA-256 hash of a key is ever stored. */

import { ApiError, invalidField } from "../core/errors.ts";
import { getManyChunked, isoTime, retryAtomic } from "../core/kv.ts";
import { randomBase62 } from "../core/crypto.ts";
import { generateApiKey, keyHint } from "./secrets.ts";
import { sha256Hex } from "../core/crypto.ts";

/** A user: who keys belong to, with optional per-user limits (null = the server default). */
export interface UserRecord {
  name: string;
  disabled: boolean;
  rateLimitRpm: number | null;
  dailyTokenBudget: number | null;
  createdAt: number;
  /** Bumped by every key creation, so racing creations conflict and the per-user cap holds. */
  keySerial: number;
}

/** A client key as stored: its hash, never the key itself. */
export interface KeyRecord {
  id: string;
  user: string;
  name: string | null;
  prefix: string;
  last4: string;
  hash: string;
  createdAt: number;
  expiresAt: number;
  disabled: boolean;
}

/** What the hash index points at: enough to load the key and its user in one read. */
export interface KeyHashEntry {
  id: string;
  user: string;
}

/** What {@link createKey} needs. */
export interface CreateKeyOptions {
  user: string;
  name: string | null;
  lifetimeDays: number;
  maxKeysPerUser: number;
  now: number;
}

/** A created key: the record and the key itself, which exists nowhere else. */
export interface CreatedKey {
  record: KeyRecord;
  key: string;
}

/** Per-user settings an operator may change; null resets a limit to the server default. */
export interface UserChanges {
  disabled?: boolean;
  rateLimitRpm?: number | null;
  dailyTokenBudget?: number | null;
}

const DAY_MS = 86_400_000;

/** Key id and user of `DEFAULT_KEY`, which is configured, never stored. */
export const DEFAULT_KEY_ID = "default";
const USER_NAME = /^[A-Za-z0-9._@+-]{1,64}$/;

/** KV key of a user record. */
export function userKey(name: string): Deno.KvKey {
  return ["user", name];
}
/** KV key of a key record. */
export function keyById(id: string): Deno.KvKey {
  return ["key", id];
}
/** KV key of the hash index entry (hex SHA-256 of the key → {@link KeyHashEntry}). */
export function keyByHash(hash: string): Deno.KvKey {
  return ["key_hash", hash];
}
/** KV key of a user's key index entry (value: the key's expiry). */
export function userKeyIndex(user: string, id: string): Deno.KvKey {
  return ["user_key", user, id];
}
/** KV key of a key's last-use time. */
export function keyLastUsed(id: string): Deno.KvKey {
  return ["key_used", id];
}

/** Checks a user name (1–64 of `A-Z a-z 0-9 . _ @ + -`); a 400 naming `param` otherwise. */
export function validateUserName(value: unknown, param = "user"): string {
  if (typeof value !== "string" || !USER_NAME.test(value)) {
    throw invalidField(
      param,
      `Invalid ${param}: expected 1 to 64 characters from A-Z, a-z, 0-9 and . _ @ + -`,
    );
  }
  return value;
}

/** A fresh user record with server-default limits. */
export function newUser(name: string, now: number): UserRecord {
  return {
    name,
    disabled: false,
    rateLimitRpm: null,
    dailyTokenBudget: null,
    createdAt: now,
    keySerial: 0,
  };
}

/** The hex SHA-256 of a client key: its look-up handle in KV. */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** Keys of a user that are not revoked and not expired (disabled keys count: they can be enabled). */
export async function countActiveKeys(kv: Deno.Kv, user: string, now: number): Promise<number> {
  let active = 0;
  for await (const entry of kv.list<number>({ prefix: ["user_key", user] })) {
    if (entry.value > now) active++;
  }
  return active;
}

/** Creates a key for a user (creating the user too); 409 when the user holds the maximum. */
export function createKey(kv: Deno.Kv, options: CreateKeyOptions): Promise<CreatedKey> {
  const { user, now } = options;
  return retryAtomic(async () => {
    const userEntry = await kv.get<UserRecord>(userKey(user));
    const active = await countActiveKeys(kv, user, now);
    if (active >= options.maxKeysPerUser) {
      throw new ApiError(
        409,
        "conflict",
        `User ${user} already holds ${active} active keys (MAX_KEYS_PER_USER is ${options.maxKeysPerUser}): revoke one first`,
        { code: "key_limit_reached" },
      );
    }
    const key = generateApiKey();
    const record: KeyRecord = {
      id: `key_${randomBase62(16)}`,
      user,
      name: options.name,
      ...keyHint(key),
      hash: hashApiKey(key),
      createdAt: now,
      expiresAt: now + options.lifetimeDays * DAY_MS,
      disabled: false,
    };
    const userRecord = userEntry.value ?? newUser(user, now);
    const result = await kv.atomic()
      .check(userEntry)
      .check({ key: keyById(record.id), versionstamp: null })
      .check({ key: keyByHash(record.hash), versionstamp: null })
      .set(userKey(user), { ...userRecord, keySerial: userRecord.keySerial + 1 })
      .set(keyById(record.id), record)
      .set(keyByHash(record.hash), { id: record.id, user } satisfies KeyHashEntry)
      .set(userKeyIndex(user, record.id), record.expiresAt)
      .commit();
    return result.ok ? { record, key } : null;
  });
}

/** Looks a key up by the hex hash of the key; null when no key has that hash. */
export async function findKeyByHash(kv: Deno.Kv, hash: string): Promise<KeyHashEntry | null> {
  return (await kv.get<KeyHashEntry>(keyByHash(hash))).value;
}

/** A key record by id; 404 when there is none (never created, or revoked). */
export async function getKey(kv: Deno.Kv, id: string): Promise<Deno.KvEntry<KeyRecord>> {
  const entry = await kv.get<KeyRecord>(keyById(id));
  if (entry.versionstamp === null) throw unknownKey(id);
  return entry;
}

function unknownKey(id: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `Unknown key id ${id}: list the keys to find the right id`,
  );
}

/** A user record, or null when the user has never held a key nor been configured. */
export async function getUser(kv: Deno.Kv, name: string): Promise<UserRecord | null> {
  return (await kv.get<UserRecord>(userKey(name))).value;
}

/** Lists keys with their last-use times: a user's, or everyone's when `user` is undefined. */
export async function listKeys(kv: Deno.Kv, user?: string): Promise<Record<string, unknown>[]> {
  const records: KeyRecord[] = [];
  if (user === undefined) {
    for await (const entry of kv.list<KeyRecord>({ prefix: ["key"] })) records.push(entry.value);
  } else {
    const ids: string[] = [];
    for await (const entry of kv.list({ prefix: ["user_key", user] })) {
      ids.push(entry.key[2] as string);
    }
    const entries = await getManyChunked<KeyRecord>(kv, ids.map(keyById));
    for (const entry of entries) if (entry.value) records.push(entry.value);
  }
  records.sort((a, b) => a.createdAt - b.createdAt);
  const used = await getManyChunked<number>(kv, records.map((r) => keyLastUsed(r.id)));
  return records.map((record, i) => keyView(record, used[i].value));
}

/** The public view of a key (what lists show): never the hash, never the key. */
export function keyView(record: KeyRecord, lastUsedAt: number | null): Record<string, unknown> {
  return {
    id: record.id,
    user: record.user,
    name: record.name,
    prefix: record.prefix,
    last4: record.last4,
    created_at: isoTime(record.createdAt),
    expires_at: isoTime(record.expiresAt),
    disabled: record.disabled,
    last_used_at: isoTime(lastUsedAt),
  };
}

/** Disables or enables a key; returns its public view. */
export async function setKeyDisabled(
  kv: Deno.Kv,
  id: string,
  disabled: boolean,
): Promise<Record<string, unknown>> {
  const record = await retryAtomic(async () => {
    const entry = await getKey(kv, id);
    const record = { ...entry.value, disabled };
    const result = await kv.atomic().check(entry).set(keyById(id), record).commit();
    return result.ok ? record : null;
  });
  return keyView(record, (await kv.get<number>(keyLastUsed(id))).value);
}

/** Revokes a key: deletes it and its index entries, so it stops working at once. */
export async function revokeKey(kv: Deno.Kv, id: string): Promise<void> {
  await retryAtomic(async () => {
    const entry = await getKey(kv, id);
    const result = await kv.atomic()
      .check(entry)
      .delete(keyById(id))
      .delete(keyByHash(entry.value.hash))
      .delete(userKeyIndex(entry.value.user, id))
      .delete(keyLastUsed(id))
      .commit();
    return result.ok || null;
  });
}

/** Applies changes to a user (creating the record when `create` is set); 404 for unknown users. */
export function updateUser(
  kv: Deno.Kv,
  name: string,
  options: { changes: UserChanges; now: number; create: boolean },
): Promise<UserRecord> {
  return retryAtomic(async () => {
    const entry = await kv.get<UserRecord>(userKey(name));
    if (!entry.value && !options.create) throw unknownUser(name);
    const changes = Object.entries(options.changes).filter(([, value]) => value !== undefined);
    const record = {
      ...(entry.value ?? newUser(name, options.now)),
      ...Object.fromEntries(changes),
    };
    const result = await kv.atomic().check(entry).set(userKey(name), record).commit();
    return result.ok ? record : null;
  });
}

/** The 404 for a user with no record. */
export function unknownUser(name: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `Unknown user ${name}: a user exists once a key has been created for it`,
  );
}

/** Every user record (a user exists once a key has been created for it), by name. */
export async function listUsers(kv: Deno.Kv): Promise<UserRecord[]> {
  const users: UserRecord[] = [];
  for await (const entry of kv.list<UserRecord>({ prefix: ["user"] })) users.push(entry.value);
  return users;
}

/** Active keys (not revoked, not expired) per user, in one pass over the users' key index. */
export async function countActiveKeysByUser(
  kv: Deno.Kv,
  now: number,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const entry of kv.list<number>({ prefix: ["user_key"] })) {
    if (entry.value <= now) continue;
    const user = entry.key[1] as string;
    counts.set(user, (counts.get(user) ?? 0) + 1);
  }
  return counts;
}
