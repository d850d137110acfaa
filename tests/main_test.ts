/** `main.ts` as an operator runs it: its request log on stdout, and a clean stop on SIGTERM. */

import assert from "node:assert/strict";
import { FAKE_UPSTREAM_KEY, startFakeUpstream } from "./support/fake_upstream.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

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
  const dir = await Deno.makeTempDir();
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, MAIN],
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      HOST: "127.0.0.1",
      PORT: "0",
      KV_PATH: `${dir}/kv.sqlite3`,
      UPSTREAM_URL: upstream.url,
      UPSTREAM_API_KEY: FAKE_UPSTREAM_KEY,
      DEFAULT_KEY: "sk-main-test",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const log = new Response(server.stdout).text(); // the request log, read to the end
    const notices = server.stderr.pipeThrough(new TextDecoderStream()).values();
    let said = "";
    while (!/Listening on (http:\/\/\S+?)\/?\n/.test(said)) {
      const { value, done } = await notices.next();
      if (done) throw new Error(`main.ts exited before listening: ${said}`);
      said += value;
    }
    const base = said.match(/Listening on (http:\/\/\S+?)\/?\n/)![1];
    const answers = Array.from({ length: 5 }, (_, i) =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-main-test", "content-type": "application/json" },
        body: JSON.stringify({
          model: "glm-4.5-air",
          messages: [{ role: "user", content: `request ${i}` }],
        }),
      }).then(async (response) => ({ status: response.status, body: await response.json() })));
    // All five wait on the upstream when the signal comes.
    while (upstream.requests.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    server.kill("SIGTERM");

    for (const answer of await Promise.all(answers)) {
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.body.error.message, /Incorrect API call parameters/);
    }
    assert.equal((await server.status).code, 0);
    for await (const _ of notices); // stderr to its end
    const text = await log;
    const logged = text.split("\n").filter((line) => line.startsWith("{")).map((line) =>
      JSON.parse(line)
    );
    const chats = logged.filter((entry) => entry.path === "/v1/chat/completions");
    assert.equal(chats.length, 5, text);
    for (const entry of chats) assert.equal(entry.status, 400);
    assert.ok(!text.includes("sk-main-test"), "the client key reached the log");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
