/** config.ts and main.ts start-up: defaults, validation of every variable, .env files. */

import assert from "node:assert/strict";
import {
  BUILTIN_DEFAULT_KEY,
  ConfigError,
  loadConfig,
  parseDotEnv,
} from "../../lib/core/config.ts";

import { FAKE_UPSTREAM_KEY, startFakeUpstream } from "../support/fake_upstream.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("defaults match the contract's configuration table", () => {
  const config = loadConfig({});
  assert.equal(config.port, 9090);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.defaultKey, BUILTIN_DEFAULT_KEY);
  assert.equal(BUILTIN_DEFAULT_KEY, "sk-your-key");
  assert.equal(config.debugMode, false);
  assert.equal(config.upstreamUrl, "https://api.z.ai/api/paas/v4");
  assert.deepEqual(config.upstreamApiKeys, []);
  assert.equal(config.upstreamTimeoutMs, 300_000);
  assert.equal(config.upstreamRetries, 2);
  assert.equal(config.upstreamConcurrency, 0);
  assert.equal(config.upstreamQueueTimeoutMs, 30_000);
  assert.equal(config.adminKey, "");
  assert.equal(config.kvPath, "");
  assert.equal(config.rateLimitRpm, 120);
  assert.equal(config.dailyTokenBudget, 0);
  assert.equal(config.maxOutputTokens, 131072);
  assert.equal(config.maxKeysPerUser, 5);
  assert.equal(config.keyLifetimeDays, 90);
  assert.equal(config.defaultStream, true);
  assert.equal(config.reasoningOutput, "reasoning_content");
  assert.deepEqual(config.modelAliases, [
    { pattern: "claude-opus*", target: "glm-5" },
    { pattern: "claude-sonnet*", target: "glm-5" },
    { pattern: "claude-haiku*", target: "glm-4.5-air" },
  ]);
  assert.equal(config.maxBodyBytes, 32 * 1024 * 1024);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.upstreamApiKeys));
});

Deno.test("valid values are read, trimmed and normalised", () => {
  const config = loadConfig({
    PORT: " 8080 ",
    HOST: "127.0.0.1",
    DEFAULT_KEY: "",
    DEBUG_MODE: "TRUE",
    UPSTREAM_URL: "https://api.z.ai/api/coding/paas/v4/",
    UPSTREAM_API_KEY: "key-a, key-b,,",
    UPSTREAM_TIMEOUT_MS: "1000",
    UPSTREAM_RETRIES: "0",
    UPSTREAM_CONCURRENCY: " 4 ",
    UPSTREAM_QUEUE_TIMEOUT_MS: "0",
    ADMIN_KEY: " admin ",
    KV_PATH: ":memory:",
    RATE_LIMIT_RPM: "5",
    DAILY_TOKEN_BUDGET: "100000",
    MAX_OUTPUT_TOKENS: "4096",
    MAX_KEYS_PER_USER: "2",
    KEY_LIFETIME_DAYS: "30",
    DEFAULT_STREAM: "0",
    REASONING_OUTPUT: "think_tags",
    MODEL_ALIASES: "gpt-4o*=glm-4.6, Claude-*=glm-5,",
  });
  assert.equal(config.port, 8080);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.defaultKey, "", "an empty DEFAULT_KEY disables it");
  assert.equal(config.debugMode, true);
  assert.equal(config.upstreamUrl, "https://api.z.ai/api/coding/paas/v4");
  assert.deepEqual(config.upstreamApiKeys, ["key-a", "key-b"]);
  assert.equal(config.upstreamTimeoutMs, 1000);
  assert.equal(config.upstreamRetries, 0);
  assert.equal(config.upstreamConcurrency, 4);
  assert.equal(config.upstreamQueueTimeoutMs, 0);
  assert.equal(config.adminKey, "admin");
  assert.equal(config.kvPath, ":memory:");
  assert.equal(config.rateLimitRpm, 5);
  assert.equal(config.dailyTokenBudget, 100000);
  assert.equal(config.maxOutputTokens, 4096);
  assert.equal(config.maxKeysPerUser, 2);
  assert.equal(config.keyLifetimeDays, 30);
  assert.equal(config.defaultStream, false);
  assert.equal(config.reasoningOutput, "think_tags");
  assert.deepEqual(config.modelAliases, [
    { pattern: "gpt-4o*", target: "glm-4.6" },
    { pattern: "claude-*", target: "glm-5" },
  ]);
  for (const yes of ["1", "yes", "on", "true"]) {
    assert.equal(loadConfig({ DEBUG_MODE: yes }).debugMode, true);
  }
  for (const no of ["0", "no", "off", "false", ""]) {
    assert.equal(loadConfig({ DEBUG_MODE: no }).debugMode, false);
  }
  assert.deepEqual(loadConfig({ MODEL_ALIASES: "" }).modelAliases, [], "empty disables aliases");
});

const INVALID: [string, string][] = [
  ["PORT", "abc"],
  ["PORT", "70000"],
  ["PORT", "-1"],
  ["PORT", "80.5"],
  ["RATE_LIMIT_RPM", "abc"],
  ["RATE_LIMIT_RPM", "0"],
  ["DEBUG_MODE", "maybe"],
  ["DEFAULT_STREAM", "sometimes"],
  ["UPSTREAM_URL", "ftp://x"],
  ["UPSTREAM_URL", "not a url"],
  ["UPSTREAM_TIMEOUT_MS", "0"],
  ["UPSTREAM_TIMEOUT_MS", "5s"],
  ["UPSTREAM_RETRIES", "-1"],
  ["UPSTREAM_RETRIES", "11"],
  ["UPSTREAM_RETRIES", "two"],
  ["UPSTREAM_CONCURRENCY", "-2"],
  ["UPSTREAM_CONCURRENCY", "1.5"],
  ["UPSTREAM_QUEUE_TIMEOUT_MS", "30s"],
  ["UPSTREAM_QUEUE_TIMEOUT_MS", "-1"],
  ["DAILY_TOKEN_BUDGET", "-5"],
  ["MAX_OUTPUT_TOKENS", "1e5"],
  ["MAX_KEYS_PER_USER", "many"],
  ["KEY_LIFETIME_DAYS", "0"],
  ["REASONING_OUTPUT", "x"],
  ["MODEL_ALIASES", "claude*"],
  ["MODEL_ALIASES", "a=b=c"],
  ["MODEL_ALIASES", "=glm-5"],
  ["KV_PATH", "https://"],
];

for (const [variable, value] of INVALID) {
  Deno.test(`${variable}=${JSON.stringify(value)} is a ConfigError naming ${variable}`, () => {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(error.message.includes(variable), error.message);
        assert.ok(error.message.includes(value), "the message quotes the bad value");
        assert.match(error.message, /expected/);
        return true;
      },
    );
  });
}

Deno.test("parseDotEnv reads KEY=value lines with quotes, comments and export", () => {
  const text = [
    "# a comment",
    "",
    "PORT=8080",
    "export HOST=127.0.0.1",
    'UPSTREAM_API_KEY="key with spaces"',
    "DEFAULT_KEY='single # not a comment'",
    "DEBUG_MODE=true # trailing comment",
    'MULTI="line1\\nline2"',
    "  SPACED  =  padded  ",
    "EMPTY=",
    "URL=https://x.example/a#frag",
    "not a variable line",
    "CRLF=yes\r",
  ].join("\n");
  assert.deepEqual(parseDotEnv(text), {
    PORT: "8080",
    HOST: "127.0.0.1",
    UPSTREAM_API_KEY: "key with spaces",
    DEFAULT_KEY: "single # not a comment",
    DEBUG_MODE: "true",
    MULTI: "line1\nline2",
    SPACED: "padded",
    EMPTY: "",
    URL: "https://x.example/a#frag",
    CRLF: "yes",
  });
});

/** What a child Deno needs from this environment, and nothing of the gateway's own settings. */
function inherited(): Record<string, string> {
  const names = ["PATH", "HOME", "DENO_DIR", "DENO_TLS_CA_STORE", "XDG_CACHE_HOME", "TMPDIR"];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

async function runMain(
  env: Record<string, string>,
  dotEnv?: string,
  until?: RegExp,
  whileUp?: (stderr: string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  try {
    if (dotEnv !== undefined) await Deno.writeTextFile(`${dir}/.env`, dotEnv);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", DENO_JSON, MAIN],
      cwd: dir,
      clearEnv: true,
      env: { ...inherited(), KV_PATH: ":memory:", HOST: "127.0.0.1", PORT: "0", ...env },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (!until) {
      const output = await child.output();
      const decoder = new TextDecoder();
      return {
        code: output.code,
        stdout: decoder.decode(output.stdout),
        stderr: decoder.decode(output.stderr),
      };
    }
    // A server that started: read its log (stderr) until `until` shows, then stop it.
    let stderr = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    // Safety stop, not a timing assertion: a child that never gets ready must not hang the run.
    const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
    while (!until.test(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    clearTimeout(guard);
    await whileUp?.(stderr);
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await reader.cancel();
    const stdout = await new Response(child.stdout).text();
    const status = await child.status;
    return { code: status.code, stdout, stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`deno run -A main.ts` with PORT=abc exits non-zero naming PORT", async () => {
  const result = await runMain({ PORT: "abc" });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /PORT/);
  assert.match(result.stderr, /abc/);
});

Deno.test("`deno run -A main.ts` with UPSTREAM_CONCURRENCY=many exits non-zero naming it", async () => {
  const result = await runMain({ UPSTREAM_CONCURRENCY: "many" });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /UPSTREAM_CONCURRENCY="many"/);
});

Deno.test("a bad variable in .env stops the server too, naming it", async () => {
  const result = await runMain({}, "REASONING_OUTPUT=loud\n");
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /REASONING_OUTPUT/);
});

Deno.test(".env does not override variables already set; the server then starts", async () => {
  const result = await runMain(
    { REASONING_OUTPUT: "none", DEFAULT_KEY: "sk-set-in-the-environment-000000000" },
    "REASONING_OUTPUT=loud\nUPSTREAM_API_KEY=from-dotenv\n",
    /Listening on/,
  );
  assert.match(result.stderr, /Listening on http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(result.stderr, /UPSTREAM_API_KEY is not set/, ".env supplied the key");
  assert.doesNotMatch(result.stderr, /DEFAULT_KEY is the built-in/);
});

Deno.test("the server warns at start about the built-in DEFAULT_KEY and a missing upstream key", async () => {
  const result = await runMain({ UPSTREAM_API_KEY: "" }, undefined, /Listening on/);
  assert.match(result.stderr, /DEFAULT_KEY is the built-in "sk-your-key"/);
  assert.match(result.stderr, /UPSTREAM_API_KEY is not set/);
});

Deno.test("main.ts writes one JSON line per request to stdout", async () => {
  const result = await runMain(
    {},
    undefined,
    /Listening on http:\/\/127\.0\.0\.1:\d+/,
    async (stderr) => {
      const port = stderr.match(/127\.0\.0\.1:(\d+)/)![1];
      for (const path of ["/health", "/v1/models"]) {
        await (await fetch(`http://127.0.0.1:${port}${path}`)).body?.cancel();
      }
    },
  );
  const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map(({ method, path, status }) => ({ method, path, status })),
    [
      { method: "GET", path: "/health", status: 200 },
      { method: "GET", path: "/v1/models", status: 401 }, // no key sent
    ],
  );
});

Deno.test("on SIGTERM, main.ts finishes the requests in flight and logs each one before it exits", async () => {
  // Z.ai refuses each request after 300 ms: nothing is metered, so no usage write holds the exit
  // back while the log lines wait for their turn.
  await using upstream = startFakeUpstream({
    script: () => ({
      kind: "error",
      status: 400,
      body: { error: { code: "1210", message: "Incorrect API call parameters" } },
      delayMs: 300,
    }),
  });
  let answers: Promise<{ status: number; body: { error: { message: string } } }[]> | undefined;
  const result = await runMain(
    {
      UPSTREAM_URL: upstream.url,
      UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
      DEFAULT_KEY: "sk-stop-test",
    },
    undefined,
    /Listening on http:\/\/127\.0\.0\.1:\d+/,
    async (stderr) => {
      const port = stderr.match(/127\.0\.0\.1:(\d+)/)![1];
      answers = Promise.all(Array.from({ length: 5 }, async (_, i) => {
        const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: "Bearer sk-stop-test", "content-type": "application/json" },
          body: JSON.stringify({
            model: "glm-4.5-air",
            messages: [{ role: "user", content: `request ${i}` }],
          }),
        });
        return { status: response.status, body: await response.json() };
      }));
      // SIGTERM comes once all five wait on the upstream.
      while (upstream.requests.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  );
  assert.equal(result.code, 0);
  for (const answer of await answers!) {
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.match(answer.body.error.message, /Incorrect API call parameters/);
  }
  const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map(({ path, status }) => ({ path, status })),
    Array(5).fill({ path: "/v1/chat/completions", status: 400 }),
  );
  assert.ok(!result.stdout.includes("sk-stop-test"), "the client key reached the log");
});
