/** `/admin/*`: key and user management and usage, behind `ADMIN_KEY`; JSON in and out. */

import type { Config } from "../core/config.ts";
import { secretsEqual } from "../core/crypto.ts";
import { ApiError, invalidField } from "../core/errors.ts";
import type { UpstreamState } from "../core/upstream_state.ts";
import {
  countActiveKeys,
  createKey,
  DEFAULT_KEY_ID,
  getKey,
  getUser,
  keyLastUsed,
  keyView,
  listKeys,
  newUser,
  revokeKey,
  setKeyDisabled,
  unknownUser,
  updateUser,
  type UserRecord,
  validateUserName,
} from "../governance/keys.ts";
import { effectiveLimits } from "../governance/limits.ts";
import { listUsage, utcDay } from "../governance/usage.ts";
import { groupUsage, type UsageGrouping } from "../governance/usage_report.ts";
import { booleanField, integerField, integerParam, readAdminBody, stringField } from "./input.ts";
import type { RecentRequests } from "./recent_requests.ts";

/** What an admin handler gets: the KV store and config, the parsed URL and path parameters. */
export interface AdminContext {
  config: Readonly<Config>;
  kv: Deno.Kv;
  now: () => number;
  url: URL;
  /** The path's `:name` segments, decoded. */
  params: Record<string, string>;
  /** Resolves once this process's recorded usage is written (reads after it see it). */
  settled: () => Promise<void>;
  /** Each upstream's key pool and queue now (keys by their last 4 characters only). */
  upstreamState: () => UpstreamState[];
  /** This process's most recent client requests. */
  recent: RecentRequests;
}

type AdminHandler = (request: Request, ctx: AdminContext) => Promise<Response>;

/** The `/admin/*` API, merged into the gateway's route table by app.ts. */
export const ADMIN_ROUTES: { path: string; methods: Record<string, AdminHandler> }[] = [
  { path: "/admin/keys", methods: { GET: listKeysRoute, POST: createKeyRoute } },
  {
    path: "/admin/keys/:id",
    methods: {
      GET: (_request, ctx) => getKeyRoute(ctx, ctx.params.id),
      PATCH: (request, ctx) => patchKeyRoute(request, ctx, ctx.params.id),
      DELETE: (_request, ctx) => deleteKeyRoute(ctx, ctx.params.id),
    },
  },
  {
    path: "/admin/users/:user",
    methods: {
      GET: (_request, ctx) => getUserRoute(ctx, ctx.params.user),
      PATCH: (request, ctx) => patchUserRoute(request, ctx, ctx.params.user),
    },
  },
  { path: "/admin/usage", methods: { GET: usageRoute } },
  {
    path: "/admin/upstream",
    methods: {
      GET: (_request, ctx) =>
        Promise.resolve(Response.json({ object: "list", data: ctx.upstreamState() })),
    },
  },
];

/** Checks the `Authorization: Bearer ADMIN_KEY` header; 401 without it or with another key. */
export function authorizeAdmin(request: Request, adminKey: string): void {
  const match = request.headers.get("authorization")?.trim().match(/^Bearer\s+(.+)$/i);
  if (!match) {
    throw new ApiError(
      401,
      "authentication",
      "Missing admin key: send it as Authorization: Bearer ADMIN_KEY",
    );
  }
  if (!secretsEqual(match[1].trim(), adminKey)) {
    throw new ApiError(401, "authentication", "Invalid admin key: send the server's ADMIN_KEY");
  }
}

/** A user's record; `default` exists implicitly while `DEFAULT_KEY` is set; 404 otherwise. */
async function loadUser(deps: AdminContext, name: string): Promise<UserRecord> {
  const user = await getUser(deps.kv, name);
  if (user) return user;
  if (isImplicitUser(deps, name)) return newUser(name, deps.now());
  throw unknownUser(name);
}

/** Whether `name` is the user of `DEFAULT_KEY`, which exists without a record while it is set. */
export function isImplicitUser(deps: AdminContext, name: string): boolean {
  return name === DEFAULT_KEY_ID && deps.config.defaultKey !== "";
}

/** The `user` query parameter, checked to name a known user; undefined when absent. */
export async function userParam(deps: AdminContext): Promise<string | undefined> {
  const raw = deps.url.searchParams.get("user");
  if (raw === null) return undefined;
  const name = validateUserName(raw);
  await loadUser(deps, name);
  return name;
}

async function listKeysRoute(_request: Request, deps: AdminContext): Promise<Response> {
  const user = await userParam(deps);
  return Response.json({ object: "list", data: await listKeys(deps.kv, user) });
}

async function createKeyRoute(request: Request, deps: AdminContext): Promise<Response> {
  const body = await readAdminBody(request, ["user", "name", "lifetime_days"]);
  if (body.user === undefined) {
    throw invalidField("user", "Missing field user: name the key's user");
  }
  const user = validateUserName(body.user);
  const name = stringField(body, "name", 100) ?? null;
  const lifetimeDays = integerField(body, "lifetime_days", { min: 1, max: 36500 }) ??
    deps.config.keyLifetimeDays;
  const { record, key } = await createKey(deps.kv, {
    user,
    name,
    lifetimeDays,
    maxKeysPerUser: deps.config.maxKeysPerUser,
    now: deps.now(),
  });
  const view = keyView(record, null);
  return Response.json({
    id: record.id,
    key,
    user,
    name,
    created_at: view.created_at,
    expires_at: view.expires_at,
  }, { status: 201 });
}

async function getKeyRoute(deps: AdminContext, id: string): Promise<Response> {
  const entry = await getKey(deps.kv, id);
  const used = await deps.kv.get<number>(keyLastUsed(id));
  return Response.json(keyView(entry.value, used.value));
}

async function patchKeyRoute(request: Request, deps: AdminContext, id: string): Promise<Response> {
  const body = await readAdminBody(request, ["disabled"]);
  const disabled = booleanField(body, "disabled");
  if (disabled === undefined) {
    throw invalidField("disabled", "Missing field disabled: send true or false");
  }
  return Response.json(await setKeyDisabled(deps.kv, id, disabled));
}

async function deleteKeyRoute(deps: AdminContext, id: string): Promise<Response> {
  await revokeKey(deps.kv, id);
  return new Response(null, { status: 204 });
}

async function userView(deps: AdminContext, user: UserRecord): Promise<Record<string, unknown>> {
  return userFields(deps.config, user, await countActiveKeys(deps.kv, user.name, deps.now()));
}

/** What the admin API shows of a user: overrides (null = the server's), limits in force, keys. */
export function userFields(
  config: Readonly<Config>,
  user: UserRecord,
  activeKeys: number,
): Record<string, unknown> {
  const limits = effectiveLimits(config, user);
  return {
    user: user.name,
    disabled: user.disabled,
    rate_limit_rpm: user.rateLimitRpm,
    daily_token_budget: user.dailyTokenBudget,
    limits: { rate_limit_rpm: limits.rateLimitRpm, daily_token_budget: limits.dailyTokenBudget },
    active_keys: activeKeys,
    created_at: new Date(user.createdAt).toISOString(),
  };
}

async function getUserRoute(deps: AdminContext, name: string): Promise<Response> {
  const user = await loadUser(deps, validateUserName(name));
  return Response.json(await userView(deps, user));
}

async function patchUserRoute(
  request: Request,
  deps: AdminContext,
  name: string,
): Promise<Response> {
  validateUserName(name);
  const fields = ["disabled", "rate_limit_rpm", "daily_token_budget"];
  const body = await readAdminBody(request, fields);
  if (Object.keys(body).length === 0) {
    throw new ApiError(400, "invalid_request", `Nothing to change: send ${fields.join(", ")}`);
  }
  const changes = {
    disabled: booleanField(body, "disabled"),
    rateLimitRpm: integerField(body, "rate_limit_rpm", {
      min: 1,
      max: 1_000_000,
      nullable: true,
    }),
    dailyTokenBudget: integerField(body, "daily_token_budget", {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      nullable: true,
    }),
  };
  const user = await updateUser(deps.kv, name, {
    changes,
    now: deps.now(),
    create: isImplicitUser(deps, name),
  });
  return Response.json(await userView(deps, user));
}

const GROUPINGS: readonly UsageGrouping[] = ["model", "user", "service"];

/** The `group_by` query parameter: `model`, `user`, `service`, or undefined when absent. */
function groupingParam(url: URL): UsageGrouping | undefined {
  const raw = url.searchParams.get("group_by");
  if (raw === null) return undefined;
  if (!(GROUPINGS as readonly string[]).includes(raw)) {
    throw invalidField(
      "group_by",
      `Invalid group_by=${JSON.stringify(raw)}: expected ${GROUPINGS.join(" or ")}`,
    );
  }
  return raw as UsageGrouping;
}

async function usageRoute(_request: Request, deps: AdminContext): Promise<Response> {
  const user = await userParam(deps);
  const days = integerParam(deps.url, "days", { min: 1, max: 366, fallback: 7 });
  const groupBy = groupingParam(deps.url);
  await deps.settled();
  const now = deps.now();
  const rows = await listUsage(deps.kv, {
    user,
    days,
    now,
    groupBy: [groupBy === "service" ? "service" : "model"],
  });
  const data = groupBy ? groupUsage(rows, groupBy) : rows;
  return Response.json({
    object: "list",
    user: user ?? null,
    days,
    date: utcDay(now),
    group_by: groupBy ?? null,
    data,
  });
}
