/**
 * `deno task bench:relays`: ZtoApi beside other relays on this machine (ZtoApi should stay close
 * to the Deno floor and ahead of the peers). Between the load generator and the fake Z.ai (20 ms
 * before its headers), each in its own process on loopback: nothing (direct), nginx (C; when
 * `nginx` is installed), a Node relay (`bench/node_relay.mjs`; when `node` is), the Deno floor
 * (`bench/floor_relay.ts`) and ZtoApi (`main.ts` with KV, a real key, rate limit and budget on).
 * Measures each one's resident memory with 500 streams open, then one client's latency in rotating
 * rounds; prints a table and writes it to bench/RELAYS.md.
 */

import { HOLD } from "./fake_upstream_server.ts";
import type { RequestSpec } from "./load.ts";
import {
  baseEnv,
  type Child,
  cpuTimeMs,
  freePort,
  machine,
  readResident,
  resetPeakResident,
  spawnProcess,
  waitForHttp,
} from "./processes.ts";
import { cpuPerRequest, runStamp } from "./report.ts";
import { type Held, heldStreams, PLAN, roundsClosed, type Side } from "./scenarios.ts";
import {
  type Service,
  type Session,
  startFake,
  startFloor,
  startGateway,
  startLoad,
  UPSTREAM_KEY,
  withServices,
} from "./services.ts";
import { addedMs, markdownTable, megabytes, ms, quantile, wrap } from "./stats.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
/** The whole run is cut off after this long. */
const DEADLINE_MS = 150_000;
const MODEL = "glm-4.5-air";

/** A way to the fake Z.ai, and the requests to send that way. */
interface Relay {
  name: string;
  /** The process in the middle; none for direct. */
  pid?: number;
  chat: RequestSpec;
  hold?: RequestSpec;
}

/** A program's path, from PATH or the system directories; undefined when it is not installed. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter(Boolean)) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

/** The first line a program prints for `args` (nginx prints its version on stderr). */
async function versionOf(program: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await new Deno.Command(program, { args }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return text.trim().split("\n")[0];
}

/**
 * nginx as a reverse proxy to the fake Z.ai: one process (no master), kept-alive upstream
 * connections, no buffering, so a stream passes as it comes.
 */
export async function startNginx(
  tmp: string,
  program: string,
  upstreamUrl: string,
): Promise<Service> {
  const upstream = new URL(upstreamUrl);
  const port = freePort();
  const dir = `${tmp}/nginx`;
  await Deno.mkdir(dir);
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `${kind}_temp_path ${dir}/${kind};`).join(" ");
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid;
error_log ${tmp}/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off; ${temps}
  upstream zai { server ${upstream.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location = /health { return 200 "ok"; }
    location / {
      proxy_pass http://zai; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = spawnProcess(
    [program, "-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${tmp}/nginx.err`],
    { env: baseEnv(), stdoutFile: `${tmp}/nginx.log`, stderrFile: `${tmp}/nginx.err` },
  );
  return await serving(child, `http://127.0.0.1:${port}`);
}

/** `bench/node_relay.mjs` under Node. */
export async function startNodeRelay(
  tmp: string,
  program: string,
  upstreamUrl: string,
): Promise<Service> {
  const port = freePort();
  const child = spawnProcess([program, `${ROOT}bench/node_relay.mjs`], {
    env: {
      ...baseEnv(),
      PORT: String(port),
      UPSTREAM_URL: upstreamUrl,
      UPSTREAM_API_KEY: UPSTREAM_KEY,
    },
    stdoutFile: `${tmp}/node.log`,
    stderrFile: `${tmp}/node.err`,
  });
  return await serving(child, `http://127.0.0.1:${port}`);
}

/** The service once its /health answers; stopped and rethrown when it does not. */
async function serving(child: Child, url: string): Promise<Service> {
  try {
    await waitForHttp(`${url}/health`, 20_000);
    return { child, url };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

function chat(url: string, key: string, text: string, stream: boolean): RequestSpec {
  return {
    url,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: text }], stream }),
  };
}

/** The requests of one relay: a short answer, and a slow stream to hold open. */
function relay(name: string, url: string, key: string, pid?: number): Relay {
  const question = "Say something short about the benchmark.";
  return {
    name,
    pid,
    chat: chat(url, key, question, false),
    hold: pid ? chat(url, key, `${HOLD} Hold this stream open.`, true) : undefined,
  };
}

/** One line of the table. */
interface Line {
  relay: string;
  p50: string;
  p99: string;
  addedP50: string;
  addedP99: string;
  cpu: string;
  memory: string;
}

const HEADER: Line = {
  relay: "between client and fake Z.ai",
  p50: "p50, 1 client",
  p99: "p99, 1 client",
  addedP50: "adds at p50",
  addedP99: "adds at p99",
  cpu: "CPU per request",
  memory: `peak with ${PLAN.held.streams} streams (idle)`,
};

function line(relay: Relay, side: Side, direct: Side, held?: Held): Line {
  const at = (q: number) => quantile(side.latencies, q);
  const directAt = (q: number) => quantile(direct.latencies, q);
  const isDirect = relay.pid === undefined;
  return {
    relay: relay.name,
    p50: ms(at(0.5)),
    p99: ms(at(0.99)),
    addedP50: isDirect ? "" : addedMs(at(0.5) - directAt(0.5)),
    addedP99: isDirect ? "" : addedMs(at(0.99) - directAt(0.99)),
    cpu: isDirect ? "" : cpuPerRequest(side),
    memory: held ? `${megabytes(held.peak)} (${megabytes(held.idle)})` : "",
  };
}

function notesOf(relay: Relay, side: Side, held?: Held): string[] {
  const notes: string[] = [];
  if (side.errors) {
    notes.push(`${relay.name}: ${side.errors} requests failed (${side.errorSample})`);
  }
  if (held && held.held.opened !== PLAN.held.streams) {
    notes.push(
      `${relay.name}: only ${held.held.opened} of ${PLAN.held.streams} streams opened (${held.held.errorSample})`,
    );
  }
  return notes;
}

/** Starts every relay there is on this machine, in the table's order. */
async function startRelays(
  { tmp, keep }: Session,
  upstreamUrl: string,
  notes: string[],
): Promise<Relay[]> {
  const relays: Relay[] = [relay("direct", `${upstreamUrl}/chat/completions`, UPSTREAM_KEY)];
  const nginx = findProgram("nginx");
  if (nginx) {
    const { child, url } = await startNginx(tmp, nginx, upstreamUrl);
    const version = (await versionOf(nginx, ["-v"])).split("/").pop();
    const chatUrl = `${url}${new URL(upstreamUrl).pathname}/chat/completions`;
    relays.push(relay(`nginx ${version}`, chatUrl, UPSTREAM_KEY, keep(child).pid));
  } else notes.push("nginx is not installed: no nginx row (apt-get install nginx-light)");
  const node = findProgram("node");
  if (node) {
    const { child, url } = await startNodeRelay(tmp, node, upstreamUrl);
    const name = `Node ${await versionOf(node, ["--version"])} relay`;
    relays.push(relay(name, `${url}/v1/chat/completions`, "-", keep(child).pid));
  } else notes.push("node is not installed: no Node row");
  const floor = await startFloor(tmp, upstreamUrl);
  relays.push(relay("Deno floor", `${floor.url}/v1/chat/completions`, "-", keep(floor.child).pid));
  const gateway = await startGateway(tmp, upstreamUrl);
  const chatUrl = `${gateway.url}/v1/chat/completions`;
  relays.push(relay("ZtoApi", chatUrl, gateway.key, keep(gateway.child).pid));
  return relays;
}

const METHOD = wrap(
  `Each relay sits between the load generator and the fake Z.ai (20 ms before its response
  headers), in its own process on loopback, sharing the machine's cores. nginx runs as one process
  with kept-alive upstream connections and no buffering; the Node relay (\`bench/node_relay.mjs\`)
  and the Deno floor (\`bench/floor_relay.ts\`) forward the request with fetch and relay the
  answer; ZtoApi is \`main.ts\` with KV, a real key, rate limit and budget on. Memory first, after a
  warm-up: VmHWM (reset just before) with ${PLAN.held.streams} slow streams open. Then one client
  in rotating rounds, ${PLAN.oneClient.rounds}×${PLAN.oneClient.durationMs / 1000} s per relay;
  percentiles over all rounds; _adds_ compares with direct.`,
);

function main(): Promise<void> {
  return withServices(DEADLINE_MS, async (session) => {
    const { tmp, keep, progress } = session;
    const notes: string[] = [];
    progress("starting the fake Z.ai, the relays and the load generator");
    const fake = await startFake(tmp);
    keep(fake.child);
    const relays = await startRelays(session, fake.url, notes);
    const load = startLoad(tmp);
    keep(load.child);
    const bench = { load, readResident, resetPeakResident, cpuTimeMs };

    progress("warming up");
    for (const { chat } of relays) await load.closed(chat, 8, 1000);
    progress(`${PLAN.held.streams} streams held open through each relay`);
    const held = new Map<string, Held>();
    for (const { name, pid, hold } of relays) {
      if (pid && hold) held.set(name, await heldStreams(bench, pid, hold));
    }
    progress("1 client, rotating rounds");
    const routes = relays.map(({ name, chat, pid }) => ({ path: name, request: chat, pid }));
    const sides = await roundsClosed(bench, routes, PLAN.oneClient);

    const lines = relays.map((r) => line(r, sides[r.name], sides["direct"], held.get(r.name)));
    notes.push(...relays.flatMap((r) => notesOf(r, sides[r.name], held.get(r.name))));
    const { date, machineLine } = runStamp(machine());
    const table = markdownTable(HEADER, lines);
    console.log([`Relays, ${date}, ${machineLine}`, "", table, "", ...notes].join("\n"));
    const markdown = [
      "# ZtoApi beside other relays",
      "",
      wrap(`\`deno task bench:relays\` on ${date}. Machine: ${machineLine}.`),
      "",
      table,
      "",
      METHOD,
      ...(notes.length ? ["", ...notes.map((note) => wrap(`- ${note}`))] : []),
      "",
    ];
    await Deno.writeTextFile(`${ROOT}bench/RELAYS.md`, markdown.join("\n"));
    progress("wrote bench/RELAYS.md");
  });
}

if (import.meta.main) await main();
