/** `/admin/*`: key and user management and usage, behind `ADMIN_KEY`; JSON in and out. */

import type { AppDeps } from "../app.ts";
import { DEFAULT_KEY_ID } from "../governance/admission.ts";
import { booleanField, integerField, integerParam, readAdminBody, stringField } from "./input.ts";
import { ApiError, invalidField } from "../core/errors.ts";
import {
  countActiveKeys,
  createKey,
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
import { storeError } from "../core/kv.ts";
import { effectiveLimits } from "../governance/limits.ts";
import { listUsage } from "../governance/usage.ts";
import { secretsEqual } from "../core/crypto.ts";

type AdminHandler = (request: Request, deps: AppDeps, param: string) => Promise<Response>;

const ROUTES: { pattern: RegExp; methods: Record<string, AdminHandler> }[] = [
  { pattern: /^\/admin\/keys$/, methods: { GET: listKeysRoute, POST: createKeyRoute } },
  {
    pattern: /^\/admin\/keys\/([^/]+)$/,
    methods: { GET: getKeyRoute, PATCH: patchKeyRoute, DELETE: deleteKeyRoute },
  },
  { pattern: /^\/admin\/users\/([^/]+)$/, methods: { GET: getUserRoute, PATCH: patchUserRoute } },
  { pattern: /^\/admin\/usage$/, methods: { GET: usageRoute } },
];

/** Handles an admin request: 404 for every path while `ADMIN_KEY` is unset, 401 without it. */
export async function handleAdmin(request: Request, deps: AppDeps): Promise<Response> {
  const path = new URL(request.url).pathname.replace(/\/+$/, "");
  if (!deps.config.adminKey) throw unknownPath(path);
  authorize(request, deps.config.adminKey);
  for (const route of ROUTES) {
    const match = path.match(route.pattern);
    if (!match) continue;
    const handler = route.methods[request.method];
    if (!handler) {
      const allowed = Object.keys(route.methods).join(", ");
      throw new ApiError(
        405,
        "method_not_allowed",
        `Method ${request.method} is not allowed on ${path}: use ${allowed}`,
        { headers: { allow: allowed } },
      );
    }
    try {
      return await handler(request, deps, decodeSegment(match[1] ?? ""));
    } catch (error) {
      throw storeError(error);
    }
  }
  throw unknownPath(path);
}

function unknownPath(path: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `Unknown path ${path}: see GET / for the routes this gateway serves`,
  );
}

function authorize(request: Request, adminKey: string): void {
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

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A user's record; `default` exists implicitly while `DEFAULT_KEY` is set; 404 otherwise. */
async function loadUser(deps: AppDeps, name: string): Promise<UserRecord> {
  const user = await getUser(deps.kv, name);
  if (user) return user;
  if (isImplicitUser(deps, name)) return newUser(name, deps.now());
  throw unknownUser(name);
}

function isImplicitUser(deps: AppDeps, name: string): boolean {
  return name === DEFAULT_KEY_ID && deps.config.defaultKey !== "";
}

/** The `user` query parameter, checked to name a known user; undefined when absent. */
async function userParam(url: URL, deps: AppDeps): Promise<string | undefined> {
  const raw = url.searchParams.get("user");
  if (raw === null) return undefined;
  const name = validateUserName(raw);
  await loadUser(deps, name);
  return name;
}

async function listKeysRoute(request: Request, deps: AppDeps): Promise<Response> {
  const user = await userParam(new URL(request.url), deps);
  return Response.json({ object: "list", data: await listKeys(deps.kv, user) });
}

async function createKeyRoute(request: Request, deps: AppDeps): Promise<Response> {
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

async function getKeyRoute(_request: Request, deps: AppDeps, id: string): Promise<Response> {
  const entry = await getKey(deps.kv, id);
  const used = await deps.kv.get<number>(keyLastUsed(id));
  return Response.json(keyView(entry.value, used.value));
}

async function patchKeyRoute(request: Request, deps: AppDeps, id: string): Promise<Response> {
  const body = await readAdminBody(request, ["disabled"]);
  const disabled = booleanField(body, "disabled");
  if (disabled === undefined) {
    throw invalidField("disabled", "Missing field disabled: send true or false");
  }
  return Response.json(await setKeyDisabled(deps.kv, id, disabled));
}

async function deleteKeyRoute(_request: Request, deps: AppDeps, id: string): Promise<Response> {
  await revokeKey(deps.kv, id);
  return new Response(null, { status: 204 });
}

async function userView(deps: AppDeps, user: UserRecord): Promise<Record<string, unknown>> {
  const limits = effectiveLimits(deps.config, user);
  return {
    user: user.name,
    disabled: user.disabled,
    rate_limit_rpm: user.rateLimitRpm,
    daily_token_budget: user.dailyTokenBudget,
    limits: { rate_limit_rpm: limits.rateLimitRpm, daily_token_budget: limits.dailyTokenBudget },
    active_keys: await countActiveKeys(deps.kv, user.name, deps.now()),
    created_at: new Date(user.createdAt).toISOString(),
  };
}

async function getUserRoute(_request: Request, deps: AppDeps, name: string): Promise<Response> {
  const user = await loadUser(deps, validateUserName(name));
  return Response.json(await userView(deps, user));
}

async function patchUserRoute(request: Request, deps: AppDeps, name: string): Promise<Response> {
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

async function usageRoute(request: Request, deps: AppDeps): Promise<Response> {
  const url = new URL(request.url);
  const user = await userParam(url, deps);
  const days = integerParam(url, "days", { min: 1, max: 366, fallback: 7 });
  const data = await listUsage(deps.kv, { user, days, now: deps.now() });
  return Response.json({ object: "list", user: user ?? null, days, data });
}
