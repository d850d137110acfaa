/** The one validated, frozen configuration, read from the environment. */

import { ConfigError } from "./config_error.ts";
import { readServices, type Service } from "./services.ts";

/** How OpenAI-route responses carry GLM thinking. */
export type ReasoningOutput = "reasoning_content" | "think_tags" | "none";

/** One `MODEL_ALIASES` entry: a client model glob and the GLM model it maps to. */
export interface ModelAlias {
  pattern: string;
  target: string;
}

/** Everything the server reads from its environment. */
export interface Config {
  port: number;
  host: string;
  defaultKey: string;
  debugMode: boolean;
  upstreamUrl: string;
  upstreamApiKeys: readonly string[];
  upstreamTimeoutMs: number;
  /** Extra attempts before the first byte (UPSTREAM_RETRIES). */
  upstreamRetries: number;
  /** Most requests in flight per upstream key; 0 learns it from Z.ai's 1302 (UPSTREAM_CONCURRENCY). */
  upstreamConcurrency: number;
  /** Longest wait for an upstream slot (UPSTREAM_QUEUE_TIMEOUT_MS). */
  upstreamQueueTimeoutMs: number;
  adminKey: string;
  kvPath: string;
  rateLimitRpm: number;
  dailyTokenBudget: number;
  maxOutputTokens: number;
  maxKeysPerUser: number;
  keyLifetimeDays: number;
  defaultStream: boolean;
  reasoningOutput: ReasoningOutput;
  modelAliases: readonly ModelAlias[];
  /** Largest request body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** The upstreams under `/s/{slug}`, in order; the first is the default (root routes). */
  services: readonly Readonly<Service>[];
  /** Origins allowed to call the client routes from a browser; `["*"]` allows any. */
  corsOrigins: readonly string[];
}

/** The `DEFAULT_KEY` a fresh install ships with; the server warns while it is in use. */
export const BUILTIN_DEFAULT_KEY = "sk-your-key";

export { ConfigError };

type Env = Record<string, string | undefined>;

const DEFAULT_ALIASES = "claude-opus*=glm-5,claude-sonnet*=glm-5,claude-haiku*=glm-4.5-air";
const MAX_BODY_BYTES = 32 * 1024 * 1024;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  throw new ConfigError(name, env[name]!, "true or false");
}

function readUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
  } catch {
    throw new ConfigError(name, raw, "an http(s) URL");
  }
  return raw.replace(/\/+$/, "");
}

function readAliases(env: Env): ModelAlias[] {
  const raw = env.MODEL_ALIASES ?? DEFAULT_ALIASES;
  const aliases: ModelAlias[] = [];
  for (const part of raw.split(",")) {
    if (part.trim() === "") continue;
    const [pattern, target, extra] = part.split("=").map((s) => s.trim());
    if (!pattern || !target || extra !== undefined) {
      throw new ConfigError("MODEL_ALIASES", raw, "comma-separated glob=model pairs");
    }
    aliases.push({ pattern: pattern.toLowerCase(), target });
  }
  return aliases;
}

function readReasoningOutput(env: Env): ReasoningOutput {
  const raw = env.REASONING_OUTPUT?.trim() || "reasoning_content";
  if (raw === "reasoning_content" || raw === "think_tags" || raw === "none") return raw;
  throw new ConfigError("REASONING_OUTPUT", raw, "reasoning_content, think_tags or none");
}

/** `CORS_ORIGINS`: `*` (the default), or comma-separated origins such as `https://app.example`. */
function readCorsOrigins(env: Env): string[] {
  const raw = env.CORS_ORIGINS?.trim() ?? "";
  const parts = raw.split(",").map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0 || parts.includes("*")) return ["*"];
  return parts.map((part) => {
    try {
      const url = new URL(part);
      const bare = url.pathname === "/" && !url.search && !url.hash && !url.username;
      if (/^https?:$/.test(url.protocol) && bare) return url.origin;
    } catch {
      // Reported below.
    }
    throw new ConfigError(
      "CORS_ORIGINS",
      raw,
      `* or comma-separated origins such as https://app.example.com (no path): ${part} is not one`,
    );
  });
}

function readKvPath(env: Env): string {
  const raw = env.KV_PATH?.trim() ?? "";
  if (/^https?:/i.test(raw)) readUrl(env, "KV_PATH", raw);
  return raw;
}

/** Reads and validates every variable of the contract; throws {@link ConfigError} on a bad value. */
export function loadConfig(env: Env): Readonly<Config> {
  const keys = (env.UPSTREAM_API_KEY ?? "").split(",").map((k) => k.trim()).filter(Boolean);
  const config: Omit<Config, "services" | "corsOrigins"> = {
    port: readInt(env, "PORT", 9090, 0, 65535),
    host: env.HOST?.trim() || "0.0.0.0",
    defaultKey: env.DEFAULT_KEY === undefined ? BUILTIN_DEFAULT_KEY : env.DEFAULT_KEY.trim(),
    debugMode: readBool(env, "DEBUG_MODE", false),
    upstreamUrl: readUrl(env, "UPSTREAM_URL", "https://api.z.ai/api/paas/v4"),
    upstreamApiKeys: Object.freeze(keys),
    upstreamTimeoutMs: readInt(env, "UPSTREAM_TIMEOUT_MS", 300_000, 1, 3_600_000),
    upstreamRetries: readInt(env, "UPSTREAM_RETRIES", 2, 0, 10),
    upstreamConcurrency: readInt(env, "UPSTREAM_CONCURRENCY", 0, 0, 100_000),
    upstreamQueueTimeoutMs: readInt(env, "UPSTREAM_QUEUE_TIMEOUT_MS", 30_000, 0, 3_600_000),
    adminKey: env.ADMIN_KEY?.trim() ?? "",
    kvPath: readKvPath(env),
    rateLimitRpm: readInt(env, "RATE_LIMIT_RPM", 120, 1, 1_000_000),
    dailyTokenBudget: readInt(env, "DAILY_TOKEN_BUDGET", 0, 0, Number.MAX_SAFE_INTEGER),
    maxOutputTokens: readInt(env, "MAX_OUTPUT_TOKENS", 131072, 1, 1_048_576),
    maxKeysPerUser: readInt(env, "MAX_KEYS_PER_USER", 5, 1, 1000),
    keyLifetimeDays: readInt(env, "KEY_LIFETIME_DAYS", 90, 1, 36500),
    defaultStream: readBool(env, "DEFAULT_STREAM", true),
    reasoningOutput: readReasoningOutput(env),
    modelAliases: Object.freeze(readAliases(env)),
    maxBodyBytes: MAX_BODY_BYTES,
  };
  return Object.freeze({
    ...config,
    services: readServices(env, { url: config.upstreamUrl, keys: config.upstreamApiKeys }),
    corsOrigins: Object.freeze(readCorsOrigins(env)),
  });
}

/** Parses a `.env` file's text into variables (`KEY=value`, quotes and `#` comments allowed). */
export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!match) continue;
    let value = match[2];
    const quoted = value.match(/^(["'])(.*)\1$/);
    if (quoted) value = quoted[1] === '"' ? quoted[2].replace(/\\n/g, "\n") : quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    vars[match[1]] = value;
  }
  return vars;
}

/** The server's variables: `.env` in the working directory, overridden by the real environment. */
export function readEnvironment(): Record<string, string | undefined> {
  let dotEnv: Record<string, string> = {};
  try {
    dotEnv = parseDotEnv(Deno.readTextFileSync(".env"));
  } catch {
    // No .env: the environment alone.
  }
  return { ...dotEnv, ...Deno.env.toObject() };
}
