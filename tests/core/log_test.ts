import assert from "node:assert/strict";
import { batchedLog, logDebug, redact } from "../../lib/core/log.ts";

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

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));
const text = (writes: Uint8Array[]) => writes.map((w) => new TextDecoder().decode(w));

Deno.test("the process log writes the lines of one turn together, in order, one per line", async () => {
  const writes: Uint8Array[] = [];
  const log = batchedLog((bytes) => {
    writes.push(bytes.slice());
    return bytes.length;
  });
  log('{"n":1}');
  log('{"n":2}');
  log('{"n":3}');
  assert.equal(writes.length, 0, "nothing is written while the turn runs");
  await nextTurn();
  assert.deepEqual(text(writes), ['{"n":1}\n{"n":2}\n{"n":3}\n']);
  log('{"n":4}');
  log.flush();
  assert.deepEqual(text(writes).slice(1), ['{"n":4}\n'], "flush writes at once");
  await nextTurn();
  assert.equal(writes.length, 2, "and leaves nothing for later");
});

Deno.test("the process log finishes short writes, and survives a stdout that fails", async () => {
  const written: string[] = [];
  let failing = true;
  const log = batchedLog((bytes) => {
    if (failing) throw new Deno.errors.BrokenPipe("stdout closed");
    const part = bytes.subarray(0, 3); // at most 3 bytes per write
    written.push(new TextDecoder().decode(part));
    return part.length;
  });
  log("lost");
  await nextTurn(); // the failure stays inside the log
  failing = false;
  log("kept line");
  log.flush();
  assert.equal(written.join(""), "kept line\n");
});
