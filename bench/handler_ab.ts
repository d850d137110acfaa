/**
 * The request handler of two or more checkouts, side by side in one process, without HTTP:
 *
 *   deno run -A bench/handler_ab.ts [--rounds 12] [--seconds 2] [--clients 32] DIR DIR …
 *
 * Each DIR is a checkout of this layout (e.g. `git worktree add /tmp/old <commit>`). Every handler
 * gets KV in a temp file, one key made with `POST /admin/keys`, a limit of 1,000,000 requests a
 * minute, and an upstream `fetch` that answers after 20 ms. Rounds alternate between the
 * checkouts, so a slow moment of the machine falls on all of them; the report is the CPU time of
 * the process per request (KV's thread included) and its ratio to the first checkout, medians over
 * the rounds. Without the HTTP stack, the load generator and the fake Z.ai in other processes, a
 * round moves by about 8 % where `deno task bench` moves by 15–20. Request logs go to stdout:
 * send it to a file, as a server's would.
 */

import process from "node:process";
import { parseArgs } from "node:util";

const { values, positionals: dirs } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "12" },
    seconds: { type: "string", default: "2" },
    clients: { type: "string", default: "32" },
  },
});
const ADMIN_KEY = "admin-key-of-the-handler-bench";
const BODY = JSON.stringify({
  model: "glm-4.5-air",
  messages: [{ role: "user", content: "Say something short about the benchmark." }],
});
const ANSWER = JSON.stringify({
  id: "bench",
  object: "chat.completion",
  created: 1,
  model: "glm-4.5-air",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "The benchmark is short." },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
});

/** Z.ai as the handler sees it: the answer after 20 ms, or the abort. */
async function upstream(_url: string | URL | Request, init?: RequestInit): Promise<Response> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  init?.signal?.throwIfAborted();
  return new Response(ANSWER, { headers: { "content-type": "application/json" } });
}

interface Subject {
  name: string;
  handler: (request: Request) => Promise<Response>;
  key: string;
}

async function subjectOf(dir: string): Promise<Subject> {
  const root = new URL(`${dir.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`);
  const { loadConfig } = await import(new URL("lib/core/config.ts", root).href);
  const { createHandler } = await import(new URL("lib/app.ts", root).href);
  const { createGovernance } = await import(new URL("lib/governance/governance.ts", root).href);
  const tmp = await Deno.makeTempDir({ prefix: "handler_ab_" });
  const config = loadConfig({
    UPSTREAM_API_KEY: "bench-upstream-key",
    ADMIN_KEY,
    DEFAULT_KEY: "",
    RATE_LIMIT_RPM: "1000000",
    DAILY_TOKEN_BUDGET: "1000000000000",
  });
  const kv = await Deno.openKv(`${tmp}/kv.sqlite3`);
  const governance = createGovernance({ config, kv, now: Date.now });
  const handler = createHandler({ config, kv, now: Date.now, governance, fetch: upstream });
  const made = await handler(
    new Request("http://bench/admin/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "bench", name: "bench" }),
    }),
  );
  if (!made.ok) throw new Error(`${dir}: POST /admin/keys answered ${made.status}`);
  return { name: dir, handler, key: (await made.json()).key };
}

/** Requests answered by `subject` in `ms` with `clients` at once; throws on any other status. */
async function load(subject: Subject, ms: number, clients: number): Promise<number> {
  let answered = 0;
  const end = Date.now() + ms;
  const headers = {
    authorization: `Bearer ${subject.key}`,
    "content-type": "application/json",
    "content-length": String(BODY.length),
  };
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) {
      const request = new Request("http://bench/v1/chat/completions", {
        method: "POST",
        headers,
        body: BODY,
      });
      const response = await subject.handler(request);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${subject.name}: ${response.status} ${text}`);
      answered++;
    }
  }));
  return answered;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

if (dirs.length < 2) {
  console.error("Usage: deno run -A bench/handler_ab.ts [--rounds N] [--seconds S] DIR DIR …");
  Deno.exit(2);
}
const clients = Number(values.clients);
const subjects: Subject[] = [];
for (const dir of dirs) subjects.push(await subjectOf(dir));
for (const subject of subjects) await load(subject, 1500, clients); // warm-up
const perRequest = new Map(subjects.map((subject) => [subject, [] as number[]]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const subject of round % 2 ? [...subjects].reverse() : subjects) {
    const before = process.cpuUsage();
    const answered = await load(subject, Number(values.seconds) * 1000, clients);
    const used = process.cpuUsage(before);
    perRequest.get(subject)!.push((used.user + used.system) / answered);
  }
}
const first = perRequest.get(subjects[0])!;
for (const subject of subjects) {
  const own = perRequest.get(subject)!;
  const ratios = own.map((value, i) => value / first[i]);
  console.error(
    `${subject.name}: ${Math.round(median(own))} µs CPU per request, ` +
      `${median(ratios).toFixed(2)} of the first (rounds ${Math.min(...ratios).toFixed(2)}–${
        Math.max(...ratios).toFixed(2)
      })`,
  );
}
Deno.exit(0);
