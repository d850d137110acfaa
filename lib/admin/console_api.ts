/** The console's reads: `GET /admin/users` (every user at a glance) and `GET /admin/requests`. */

import { invalidField } from "../core/errors.ts";
import { countActiveKeysByUser, DEFAULT_KEY_ID, listUsers, newUser } from "../governance/keys.ts";
import { listUsage, utcDay } from "../governance/usage.ts";
import { emptyTotals, totalsByUser } from "../governance/usage_report.ts";
import { integerParam } from "./input.ts";
import { type RequestMatch, statusMatcher } from "./recent_requests.ts";
import { type AdminContext, isImplicitUser, userFields, userParam } from "./routes.ts";

type AdminHandler = (request: Request, ctx: AdminContext) => Promise<Response>;

/** The console's routes, merged into the gateway's route table beside ADMIN_ROUTES. */
export const CONSOLE_API_ROUTES: { path: string; methods: Record<string, AdminHandler> }[] = [
  { path: "/admin/users", methods: { GET: listUsersRoute } },
  { path: "/admin/requests", methods: { GET: requestsRoute } },
];

/** Every user, by name: overrides, limits in force, active keys, today's usage; the defaults. */
async function listUsersRoute(_request: Request, deps: AdminContext): Promise<Response> {
  const now = deps.now();
  await deps.settled();
  const [users, activeKeys, today] = await Promise.all([
    listUsers(deps.kv),
    countActiveKeysByUser(deps.kv, now),
    listUsage(deps.kv, { days: 1, now }),
  ]);
  if (isImplicitUser(deps, DEFAULT_KEY_ID) && !users.some((u) => u.name === DEFAULT_KEY_ID)) {
    users.push(newUser(DEFAULT_KEY_ID, now));
  }
  users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const usage = totalsByUser(today);
  const data = users.map((user) => ({
    ...userFields(deps.config, user, activeKeys.get(user.name) ?? 0),
    usage_today: usage.get(user.name) ?? emptyTotals(),
  }));
  const defaults = {
    rate_limit_rpm: deps.config.rateLimitRpm,
    daily_token_budget: deps.config.dailyTokenBudget,
  };
  return Response.json({ object: "list", date: utcDay(now), defaults, data });
}

/** This process's most recent client requests, newest first, and today's counts. */
async function requestsRoute(_request: Request, deps: AdminContext): Promise<Response> {
  const limit = integerParam(deps.url, "limit", {
    min: 1,
    max: deps.recent.capacity,
    fallback: 100,
  });
  const user = await userParam(deps);
  const status = deps.url.searchParams.get("status");
  let byStatus: RequestMatch | null = null;
  if (status !== null) {
    byStatus = statusMatcher(status);
    if (!byStatus) {
      throw invalidField(
        "status",
        `Invalid status=${
          JSON.stringify(status)
        }: expected a status code (429), a class (4xx) or error`,
      );
    }
  }
  const data = deps.recent.list(
    limit,
    (r) => (user === undefined || r.user === user) && (!byStatus || byStatus(r)),
  );
  return Response.json({
    object: "list",
    capacity: deps.recent.capacity,
    today: deps.recent.counts(deps.now()),
    data,
  });
}
