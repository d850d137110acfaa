/** The services table: each upstream the gateway serves under `/s/{slug}`, from SERVICES or UPSTREAM_URL. */

import { ConfigError } from "./config_error.ts";

type Env = Record<string, string | undefined>;

/** One upstream of the gateway, served under `/s/{slug}` with a key pool of its own. */
export interface Service {
  /** Lowercase letters, digits and hyphens; unique. The path segment after `/s/`. */
  slug: string;
  /** What people call it, e.g. `Z.ai Coding Plan`. */
  name: string;
  /** Base URL of its GLM API, without a trailing slash. */
  url: string;
  /** Its Z.ai keys. */
  keys: readonly string[];
  /** The variable holding those keys: named in warnings and errors (its value never is). */
  keysEnv: string;
  enabled: boolean;
}

/** The variable that holds the keys of the single service, and of a service naming none. */
export const DEFAULT_KEYS_ENV = "UPSTREAM_API_KEY";

/** Where a service's routes live. */
export const SERVICE_PREFIX = "/s/";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_RULE = "1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIELDS = ["slug", "name", "url", "keys_env", "enabled"];
const MAX_NAME_LENGTH = 100;

/** The base path of a service: `/s/{slug}`. */
export function servicePath(slug: string): string {
  return `${SERVICE_PREFIX}${slug}`;
}

/**
 * Splits `/s/{slug}/rest` into the slug (decoded) and the rest (`/` when there is none);
 * undefined for a path outside `/s/`.
 */
export function splitServicePath(path: string): { slug: string; rest: string } | undefined {
  if (!path.startsWith(SERVICE_PREFIX)) return undefined;
  const end = path.indexOf("/", SERVICE_PREFIX.length);
  const segment = path.slice(SERVICE_PREFIX.length, end === -1 ? undefined : end);
  if (segment === "") return undefined;
  let slug = segment;
  try {
    slug = decodeURIComponent(segment);
  } catch {
    // Not valid percent-encoding: the raw segment, which matches no slug.
  }
  return { slug, rest: end === -1 ? "/" : path.slice(end) };
}

/** Comma-separated keys, trimmed, empty ones dropped. */
export function splitKeys(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((key) => key.trim()).filter(Boolean);
}

/**
 * The slug and name a GLM upstream goes by: `zai` (Z.ai's general API), `zai-coding` (its Coding
 * Plan, a `/coding/` path), `bigmodel` and `bigmodel-coding` (open.bigmodel.cn).
 */
export function upstreamIdentity(url: string): { slug: string; name: string } {
  const { hostname, pathname } = new URL(url);
  const coding = `${pathname}/`.includes("/coding/");
  if (hostname === "bigmodel.cn" || hostname.endsWith(".bigmodel.cn")) {
    return coding
      ? { slug: "bigmodel-coding", name: "BigModel Coding Plan" }
      : { slug: "bigmodel", name: "BigModel API" };
  }
  const zai = hostname === "z.ai" || hostname.endsWith(".z.ai");
  const name = coding ? "Coding Plan" : "API";
  return {
    slug: coding ? "zai-coding" : "zai",
    name: zai ? `Z.ai ${name}` : `GLM ${name} at ${hostname}`,
  };
}

/**
 * The services, in order (the first is the default). From `SERVICES` (a JSON list, or the path of
 * a JSON file holding one) when set; otherwise one service from `UPSTREAM_URL` and
 * `UPSTREAM_API_KEY` (`single`), whose slug follows the upstream or `SERVICE_SLUG`.
 */
export function readServices(
  env: Env,
  single: { url: string; keys: readonly string[] },
): readonly Readonly<Service>[] {
  const raw = env.SERVICES?.trim() ?? "";
  const slug = env.SERVICE_SLUG?.trim() ?? "";
  if (raw === "") {
    if (slug && !SLUG.test(slug)) throw new ConfigError("SERVICE_SLUG", slug, SLUG_RULE);
    const identity = upstreamIdentity(single.url);
    return Object.freeze([Object.freeze({
      slug: slug || identity.slug,
      name: identity.name,
      url: single.url,
      keys: single.keys,
      keysEnv: DEFAULT_KEYS_ENV,
      enabled: true,
    })]);
  }
  if (slug) {
    throw new ConfigError(
      "SERVICE_SLUG",
      slug,
      "no SERVICE_SLUG while SERVICES is set: each service there names its own slug",
    );
  }
  const list = parseServiceList(raw);
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(
      "SERVICES",
      null,
      "expected a non-empty JSON list of services, or unset SERVICES to use UPSTREAM_URL",
    );
  }
  const services = list.map((entry, i) => readService(env, entry, i));
  const seen = new Set<string>();
  for (const [i, service] of services.entries()) {
    if (seen.has(service.slug)) {
      throw new ConfigError("SERVICES", null, `${where(i, service.slug)}: the slug is used twice`);
    }
    seen.add(service.slug);
  }
  return Object.freeze(services);
}

/** The JSON of SERVICES: the value itself when it starts with `[` or `{`, else the file it names. */
function parseServiceList(raw: string): unknown {
  const expected = "a JSON list of services, or the path of a JSON file holding one";
  let text = raw;
  let source = "the value";
  if (!/^[[{]/.test(raw)) {
    try {
      text = Deno.readTextFileSync(raw);
      source = raw;
    } catch (error) {
      const reason = error instanceof Error ? error.name : "unreadable";
      throw new ConfigError("SERVICES", raw, `${expected} (cannot read the file: ${reason})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      "SERVICES",
      null,
      `${source} is not valid JSON (${(error as Error).message}): expected ${expected}`,
    );
  }
}

function where(index: number, slug?: unknown): string {
  return `service ${index + 1}${typeof slug === "string" && slug ? ` (${slug})` : ""}`;
}

function readService(env: Env, entry: unknown, index: number): Readonly<Service> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new ConfigError(
      "SERVICES",
      null,
      `${where(index)} must be an object such as ` +
        `{"slug":"zai-coding","url":"https://api.z.ai/api/coding/paas/v4","keys_env":"ZAI_CODING_KEYS"}`,
    );
  }
  const fields = entry as Record<string, unknown>;
  const at = where(index, fields.slug);
  const fail = (problem: string) => new ConfigError("SERVICES", null, `${at}: ${problem}`);
  for (const field of Object.keys(fields)) {
    if (FIELDS.includes(field)) continue;
    if (/key|secret|token|password/i.test(field)) {
      throw fail(
        `field ${field} is not allowed: keys do not belong in SERVICES; put them in an ` +
          `environment variable and name it in keys_env`,
      );
    }
    throw fail(`unknown field ${field} (expected ${FIELDS.join(", ")})`);
  }
  const { slug, name, url, keys_env: keysEnv = DEFAULT_KEYS_ENV, enabled = true } = fields;
  if (typeof slug !== "string" || !SLUG.test(slug)) {
    throw fail(`slug must be ${SLUG_RULE} (got ${JSON.stringify(slug ?? null)})`);
  }
  const base = typeof url === "string" ? httpUrl(url) : undefined;
  if (base === undefined) {
    throw fail(`url must be an http(s) URL such as https://api.z.ai/api/coding/paas/v4`);
  }
  if (
    name !== undefined &&
    (typeof name !== "string" || name.trim() === "" || name.length > MAX_NAME_LENGTH)
  ) {
    throw fail(`name must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (typeof keysEnv !== "string" || !ENV_NAME.test(keysEnv)) {
    throw fail("keys_env must name an environment variable (letters, digits and _)");
  }
  if (typeof enabled !== "boolean") throw fail("enabled must be true or false");
  return Object.freeze({
    slug,
    name: typeof name === "string" ? name.trim() : upstreamIdentity(base).name,
    url: base,
    keys: Object.freeze(splitKeys(env[keysEnv])),
    keysEnv,
    enabled,
  });
}

/** The URL without trailing slashes, or undefined when it is not an http(s) URL. */
function httpUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw.trim());
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  } catch {
    return undefined;
  }
  return raw.trim().replace(/\/+$/, "");
}
