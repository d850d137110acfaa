import assert from "node:assert/strict";
import { logDebug, redact } from "../../lib/core/log.ts";

Deno.test("redact hides keys, bearer tokens, cookies and key-like query parameters", () => {
  const line = redact(JSON.stringify({
    authorization: "Bearer abc.def-ghi",
    "x-api-key": "plain-secret-value",
    cookie: "session=abc",
    url: "http://host/v1/key?key=hunter2&days=1",
    body: "my key is sk-AbCdEf0123456789",
  }));
  for (
    const secret of [
      "abc.def-ghi",
      "plain-secret-value",
      "session=abc",
      "hunter2",
      "sk-AbCdEf0123456789",
    ]
  ) {
    assert.ok(!line.includes(secret), `${secret} is hidden in ${line}`);
  }
  assert.ok(line.includes("days=1"), "harmless parameters stay");
});

Deno.test("redact leaves prose that merely mentions a key alone", () => {
  const message = "The gateway has no Z.ai key: the operator must set UPSTREAM_API_KEY";
  assert.equal(redact(JSON.stringify({ error: message })), JSON.stringify({ error: message }));
});

Deno.test("debug lines redact nested headers", () => {
  const lines: string[] = [];
  logDebug((l) => lines.push(l), "client request", {
    headers: { "x-api-key": "sk-live-secret-1234" },
  });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("sk-live-secret-1234"));
  assert.equal(JSON.parse(lines[0]).debug, "client request");
});

Deno.test("redact hides Z.ai keys, JWTs, header lines, and the secrets it is given exactly", () => {
  const text = [
    "key 0123456789abcdef0123456789abcdef.AbCdEfGhIjKlMnOp rejected",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJhcGlfa2V5IjoieCJ9.c2lnbmF0dXJl",
    "X-Api-Key: header-secret-1",
    "Authorization: Basic dXNlcjpwYXNzd29yZA==",
    "echo: odd-operator-key",
  ].join("\n");
  const redacted = redact(text, ["odd-operator-key"]);
  for (
    const secret of [
      "0123456789abcdef0123456789abcdef",
      "AbCdEfGhIjKlMnOp",
      "eyJhbGciOiJIUzI1NiJ9",
      "header-secret-1",
      "dXNlcjpwYXNzd29yZA",
      "odd-operator-key",
    ]
  ) {
    assert.ok(!redacted.includes(secret), `${secret} is hidden in ${redacted}`);
  }
  assert.ok(redact("echo: odd-operator-key").includes("odd-operator-key"), "not key-shaped");
  const zai = "Authorization Token is invalid, please ensure the Authorization Token is correct.";
  assert.equal(redact(zai), zai, "Z.ai's own wording stays");
});
