import assert from "node:assert/strict";
import { loadConfig } from "../lib/core/config.ts";
import { MODELS } from "../lib/core/models.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const contract = await Deno.readTextFile(new URL("../../shared/docs/contract.md", import.meta.url))
  .catch(() => undefined);

function tableRows(text: string, heading: string): string[] {
  const start = text.indexOf(heading);
  assert.notEqual(start, -1, `README has a "${heading}" section`);
  return text.slice(start).split("\n").filter((line) => line.startsWith("|"));
}

Deno.test("README opens with the two commands: run the server, run the tests", () => {
  const firstBlock = readme.slice(
    readme.indexOf("```"),
    readme.indexOf("```", readme.indexOf("```") + 3),
  );
  assert.match(firstBlock, /deno task start/);
  assert.match(firstBlock, /deno task test/);
});

Deno.test("README's model table matches lib/models.ts weight by weight", () => {
  const rows = tableRows(readme, "## Models");
  for (const model of MODELS) {
    const row = rows.find((r) =>
      r.split("|")[2]?.split(",").map((s) => s.trim()).includes(model.id)
    );
    assert.ok(row, `README lists ${model.id}`);
    assert.equal(row.split("|")[1].trim(), `${model.weight}x`, `README weight of ${model.id}`);
  }
});

Deno.test("README's configuration table names every variable with the code's default", () => {
  const rows = tableRows(readme, "## Configuration");
  const defaults = loadConfig({});
  const expected: Record<string, string> = {
    PORT: String(defaults.port),
    HOST: defaults.host,
    DEFAULT_KEY: defaults.defaultKey,
    RATE_LIMIT_RPM: String(defaults.rateLimitRpm),
    MAX_OUTPUT_TOKENS: String(defaults.maxOutputTokens),
    MAX_KEYS_PER_USER: String(defaults.maxKeysPerUser),
    KEY_LIFETIME_DAYS: String(defaults.keyLifetimeDays),
    UPSTREAM_TIMEOUT_MS: String(defaults.upstreamTimeoutMs),
    UPSTREAM_URL: defaults.upstreamUrl,
    REASONING_OUTPUT: defaults.reasoningOutput,
    DEFAULT_STREAM: String(defaults.defaultStream),
  };
  for (const [name, value] of Object.entries(expected)) {
    const row = rows.find((r) => r.includes(`\`${name}\``));
    assert.ok(row, `README documents ${name}`);
    assert.ok(row.includes(`\`${value}\``), `README's default of ${name} is ${value}`);
  }
});

Deno.test(
  "README documents every variable the contract lists",
  { ignore: contract === undefined },
  () => {
    const names = [...contract!.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.ok(names.length >= 17, "the contract's variable table was found");
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README documents ${name}`);
  },
);
