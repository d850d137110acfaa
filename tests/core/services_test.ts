/** SERVICES, SERVICE_SLUG and CORS_ORIGINS: the services table and the allowed origins from the environment. */

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../lib/core/config.ts";
import { splitServicePath } from "../../lib/core/services.ts";

const CODING = "https://api.z.ai/api/coding/paas/v4";
const GENERAL = "https://api.z.ai/api/paas/v4";

/** Asserts that `env` stops the server with a ConfigError naming `variable`; returns the message. */
function configError(env: Record<string, string>, variable: string): string {
  let message = "";
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, variable);
      assert.ok(error.message.startsWith(`Invalid ${variable}`), error.message);
      message = error.message;
      return true;
    },
  );
  return message;
}

Deno.test("without SERVICES there is one service, from UPSTREAM_URL and UPSTREAM_API_KEY", () => {
  const config = loadConfig({ UPSTREAM_API_KEY: "key-a, key-b" });
  assert.deepEqual(config.services, [{
    slug: "zai",
    name: "Z.ai API",
    url: GENERAL,
    keys: ["key-a", "key-b"],
    keysEnv: "UPSTREAM_API_KEY",
    enabled: true,
  }]);
  assert.ok(Object.isFrozen(config.services) && Object.isFrozen(config.services[0]));
});

Deno.test("the single service's slug follows the upstream, or SERVICE_SLUG", () => {
  const slugOf = (env: Record<string, string>) => loadConfig(env).services[0];
  assert.deepEqual(
    [slugOf({ UPSTREAM_URL: `${CODING}/` }).slug, slugOf({ UPSTREAM_URL: CODING }).name],
    ["zai-coding", "Z.ai Coding Plan"],
  );
  assert.equal(slugOf({ UPSTREAM_URL: GENERAL }).slug, "zai");
  assert.equal(slugOf({ UPSTREAM_URL: "https://open.bigmodel.cn/api/paas/v4" }).slug, "bigmodel");
  assert.equal(
    slugOf({ UPSTREAM_URL: "https://open.bigmodel.cn/api/coding/paas/v4" }).slug,
    "bigmodel-coding",
  );
  assert.equal(slugOf({ UPSTREAM_URL: "http://127.0.0.1:8080/api/paas/v4" }).slug, "zai");
  const named = slugOf({ UPSTREAM_URL: CODING, SERVICE_SLUG: "team-glm" });
  assert.deepEqual([named.slug, named.url], ["team-glm", CODING]);
  for (const bad of ["Team", "-lead", "a_b", "x".repeat(64), "a/b"]) {
    assert.match(configError({ SERVICE_SLUG: bad }, "SERVICE_SLUG"), /lowercase letters/);
  }
});

Deno.test("SERVICES as a JSON list: each service reads its keys from the variable it names", () => {
  const config = loadConfig({
    UPSTREAM_API_KEY: "shared-key",
    ZAI_CODING_KEYS: "coding-1,coding-2",
    SERVICES: JSON.stringify([
      {
        slug: "zai-coding",
        name: "Z.ai Coding Plan",
        url: `${CODING}/`,
        keys_env: "ZAI_CODING_KEYS",
        enabled: true,
      },
      { slug: "zai", url: GENERAL },
      {
        slug: "china",
        url: "https://open.bigmodel.cn/api/paas/v4",
        keys_env: "NOT_SET",
        enabled: false,
      },
    ]),
  });
  assert.deepEqual(config.services, [
    {
      slug: "zai-coding",
      name: "Z.ai Coding Plan",
      url: CODING,
      keys: ["coding-1", "coding-2"],
      keysEnv: "ZAI_CODING_KEYS",
      enabled: true,
    },
    {
      slug: "zai",
      name: "Z.ai API",
      url: GENERAL,
      keys: ["shared-key"],
      keysEnv: "UPSTREAM_API_KEY",
      enabled: true,
    },
    {
      slug: "china",
      name: "BigModel API",
      url: "https://open.bigmodel.cn/api/paas/v4",
      keys: [],
      keysEnv: "NOT_SET",
      enabled: false,
    },
  ]);
});

Deno.test("SERVICES may name a JSON file instead; the keys stay in the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/services.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify([{ slug: "coding", url: CODING, keys_env: "CODING_KEYS" }], null, 2),
    );
    const config = loadConfig({ SERVICES: file, CODING_KEYS: "k1" });
    assert.deepEqual(config.services.map((s) => [s.slug, s.url, s.keys]), [
      ["coding", CODING, ["k1"]],
    ]);
    assert.match(
      configError({ SERVICES: `${dir}/missing.json` }, "SERVICES"),
      /missing\.json.*cannot read the file: NotFound/,
    );
    await Deno.writeTextFile(file, "[{ slug: coding }]");
    assert.match(configError({ SERVICES: file }, "SERVICES"), /services\.json is not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SERVICE_SLUG beside SERVICES is refused: each service names its own slug", () => {
  const message = configError({
    SERVICES: JSON.stringify([{ slug: "a", url: GENERAL }]),
    SERVICE_SLUG: "b",
  }, "SERVICE_SLUG");
  assert.match(message, /SERVICES/);
});

const SERVICE = { slug: "zai", url: GENERAL };

/** Bad SERVICES values and what the message must say. */
const INVALID_SERVICES: [string, unknown, RegExp][] = [
  ["not JSON", "[zai]", /the value is not valid JSON/],
  ["an object, not a list", { slug: "zai" }, /non-empty JSON list/],
  ["an empty list", [], /non-empty JSON list/],
  ["a string entry", ["zai"], /service 1 must be an object/],
  ["no slug", [{ url: GENERAL }], /service 1: slug must be/],
  ["an upper-case slug", [{ ...SERVICE, slug: "Zai" }], /service 1 \(Zai\): slug must be.*"Zai"/],
  ["a slug with a slash", [{ ...SERVICE, slug: "a/b" }], /slug must be/],
  ["a slug twice", [SERVICE, { ...SERVICE, name: "Again" }], /service 2 \(zai\).*used twice/],
  ["no url", [{ slug: "zai" }], /service 1 \(zai\): url must be an http\(s\) URL/],
  ["a non-http url", [{ ...SERVICE, url: "ftp://api.z.ai" }], /url must be an http\(s\) URL/],
  ["an empty name", [{ ...SERVICE, name: " " }], /name must be a string/],
  ["a bad keys_env", [{ ...SERVICE, keys_env: "ZAI KEYS" }], /keys_env must name/],
  ["enabled as a string", [{ ...SERVICE, enabled: "yes" }], /enabled must be true or false/],
  ["an unknown field", [{ ...SERVICE, timeout: 5 }], /unknown field timeout \(expected slug/],
];

for (const [what, value, pattern] of INVALID_SERVICES) {
  Deno.test(`SERVICES with ${what} is a ConfigError naming SERVICES`, () => {
    const raw = typeof value === "string" ? value : JSON.stringify(value);
    assert.match(configError({ SERVICES: raw }, "SERVICES"), pattern);
  });
}

Deno.test("keys written into SERVICES are refused, and the message does not repeat them", () => {
  for (const field of ["keys", "api_key", "token"]) {
    const message = configError({
      SERVICES: JSON.stringify([{ ...SERVICE, [field]: "zai-secret-123" }]),
    }, "SERVICES");
    assert.match(message, new RegExp(`field ${field} is not allowed.*keys_env`));
    assert.ok(!message.includes("zai-secret-123"), message);
  }
});

Deno.test("CORS_ORIGINS: * by default, or a list of origins, normalised", () => {
  assert.deepEqual(loadConfig({}).corsOrigins, ["*"]);
  assert.deepEqual(loadConfig({ CORS_ORIGINS: " * " }).corsOrigins, ["*"]);
  assert.deepEqual(
    loadConfig({ CORS_ORIGINS: "https://App.Example.com/, http://localhost:5173" }).corsOrigins,
    ["https://app.example.com", "http://localhost:5173"],
  );
  for (const bad of ["app.example.com", "https://app.example.com/path", "ftp://x.example"]) {
    const message = configError({ CORS_ORIGINS: bad }, "CORS_ORIGINS");
    assert.match(message, /comma-separated origins/);
    assert.ok(message.includes(bad));
  }
});

Deno.test("splitServicePath: /s/{slug}/rest, the slug decoded; other paths are not a service's", () => {
  assert.deepEqual(splitServicePath("/s/zai-coding/v1/messages"), {
    slug: "zai-coding",
    rest: "/v1/messages",
  });
  assert.deepEqual(splitServicePath("/s/zai"), { slug: "zai", rest: "/" });
  assert.deepEqual(splitServicePath("/s/%7A%61i/v1/key"), { slug: "zai", rest: "/v1/key" });
  assert.deepEqual(splitServicePath("/s/%E0%A4%A/x"), { slug: "%E0%A4%A", rest: "/x" });
  assert.equal(splitServicePath("/s/"), undefined);
  assert.equal(splitServicePath("/v1/models"), undefined);
  assert.equal(splitServicePath("/services/zai"), undefined);
});

Deno.test("`deno run -A main.ts` with a bad SERVICES exits non-zero, naming SERVICES", async () => {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const dir = await Deno.makeTempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, main],
      cwd: dir,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? dir,
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        KV_PATH: ":memory:",
        PORT: "0",
        SERVICES: JSON.stringify([{ slug: "zai", url: GENERAL, api_key: "secret-in-file" }]),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.notEqual(output.code, 0);
    assert.match(stderr, /ZtoApi cannot start: Invalid SERVICES: service 1 \(zai\): field api_key/);
    assert.ok(!stderr.includes("secret-in-file"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
