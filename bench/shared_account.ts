/**
 * The "shared account" scenario: one Z.ai account behind ZtoApi, used by a heavy user and two
 * light ones. The fake Z.ai has two keys, allows 4 requests in flight per key (1302 beyond) and
 * answers after 200 ms; the gateway runs with its defaults (UPSTREAM_CONCURRENCY=0: it learns the
 * limit). The light users, each sending one request at a time, are measured alone, then while the
 * heavy user keeps 32 requests outstanding. Reports the errors clients saw (target 0), the light
 * users' p50 and p99 against alone (target: p99 within 2 turns of one answer), and the 1302s Z.ai
 * sent. Part of `deno task bench`; alone: `deno run -A bench/shared_account.ts`.
 */

import type { ClosedResult, RequestSpec } from "./load.ts";
import {
  createClientKey,
  type Load,
  type Session,
  startFake,
  startGateway,
  startLoad,
  withServices,
} from "./services.ts";
import { markdownTable, ms, quantile, verdict, wrap } from "./stats.ts";

const MODEL = "glm-4.5-air";
/** The fake's keys, its limit per key, and the time of one answer (one turn). */
const KEYS = ["bench-shared-key-one", "bench-shared-key-two"];
const PER_KEY = 4;
const TURN_MS = 200;
/** The heavy user's outstanding requests. */
const HEAVY = 32;
const ALONE_MS = 4000;
const SHARED_MS = 8000;

/** What the scenario measured. */
export interface SharedAccount {
  /** Light users' latencies alone, then beside the heavy user (ms, both light users together). */
  alone: number[];
  shared: number[];
  /** Requests a client saw fail, by phase and user, and one example. */
  errors: { alone: number; light: number; heavy: number; sample?: string };
  heavyOk: number;
  /** 1302s the fake Z.ai sent, and the most it ever had in flight on one key. */
  refusals: number;
  maxInFlight: number;
}

function chatRequest(gatewayUrl: string, key: string, text: string): RequestSpec {
  return {
    url: `${gatewayUrl}/v1/chat/completions`,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: text }] }),
  };
}

async function fakeStats(
  child: { send(line: string): Promise<void>; lines?: { next(): Promise<string> } },
) {
  await child.send("stats");
  const line = JSON.parse(await child.lines!.next());
  return line.stats as { concurrencyRefusals: number; maxInFlight: number };
}

function errorsOf(results: ClosedResult[]): { count: number; sample?: string } {
  return {
    count: results.reduce((n, r) => n + r.errors, 0),
    sample: results.find((r) => r.errorSample)?.errorSample,
  };
}

/** Runs the scenario with processes of its own, kept by `session`. */
export async function measureSharedAccount(session: Session): Promise<SharedAccount> {
  const { tmp, keep, progress } = session;
  progress("shared account: starting a fake Z.ai with 2 keys × 4 in flight, a gateway, 3 clients");
  const fake = await startFake(tmp, [
    "--delay",
    String(TURN_MS),
    "--keys",
    KEYS.join(","),
    "--concurrency",
    String(PER_KEY),
  ]);
  keep(fake.child);
  const gateway = await startGateway(tmp, fake.url, {
    name: "shared_gateway",
    env: { UPSTREAM_API_KEY: KEYS.join(",") },
  });
  keep(gateway.child);
  const loads: Load[] = [];
  for (let i = 0; i < 3; i++) loads.push(startLoad(tmp));
  for (const load of loads) keep(load.child);
  const [heavyLoad, ...lightLoads] = loads;
  const heavy = chatRequest(gateway.url, gateway.key, "Heavy user.");
  const light = await Promise.all(
    ["light-one", "light-two"].map(async (user) =>
      chatRequest(
        gateway.url,
        await createClientKey(gateway.url, gateway.adminKey, user),
        `${user}.`,
      )
    ),
  );

  progress("shared account: light users alone");
  await Promise.all(lightLoads.map((load, i) => load.closed(light[i], 1, 2 * TURN_MS)));
  const alone = await Promise.all(lightLoads.map((load, i) => load.closed(light[i], 1, ALONE_MS)));

  progress(`shared account: light users beside ${HEAVY} outstanding requests of a heavy user`);
  const [heavyRun, ...lightRuns] = await Promise.all([
    heavyLoad.closed(heavy, HEAVY, SHARED_MS),
    ...lightLoads.map((load, i) => load.closed(light[i], 1, SHARED_MS)),
  ]);
  const stats = await fakeStats(fake.child);
  const lightErrors = errorsOf(lightRuns);
  const heavyErrors = errorsOf([heavyRun]);
  const aloneErrors = errorsOf(alone);
  return {
    alone: alone.flatMap((r) => r.latencies),
    shared: lightRuns.flatMap((r) => r.latencies),
    errors: {
      alone: aloneErrors.count,
      light: lightErrors.count,
      heavy: heavyErrors.count,
      sample: lightErrors.sample ?? heavyErrors.sample ?? aloneErrors.sample,
    },
    heavyOk: heavyRun.ok,
    refusals: stats.concurrencyRefusals,
    maxInFlight: stats.maxInFlight,
  };
}

/** The scenario's section of the report: a table with PASS/FAIL, for the terminal and Markdown. */
export function renderSharedAccount(result: SharedAccount): { text: string; markdown: string } {
  const alone50 = quantile(result.alone, 0.5);
  const shared99 = quantile(result.shared, 0.99);
  const turns = (shared99 - alone50) / TURN_MS;
  const errors = result.errors.alone + result.errors.light + result.errors.heavy;
  const header = {
    metric: "metric",
    alone: "alone",
    shared: "shared",
    target: "target",
    verdict: "result",
  };
  const rows = [
    {
      metric: "light users p50",
      alone: ms(alone50),
      shared: ms(quantile(result.shared, 0.5)),
      target: "",
      verdict: "",
    },
    {
      metric: "light users p99",
      alone: ms(quantile(result.alone, 0.99)),
      shared: `${ms(shared99)} (${turns.toFixed(2)} turns over alone p50)`,
      target: `≤ 2 turns (${2 * TURN_MS} ms) over alone p50`,
      verdict: verdict(turns, (t) => t <= 2),
    },
    {
      metric: "errors clients saw",
      alone: String(result.errors.alone),
      shared: `${result.errors.light} light, ${result.errors.heavy} heavy`,
      target: "0",
      verdict: errors === 0 ? "PASS" : "FAIL",
    },
    {
      metric: "requests answered",
      alone: String(result.alone.length),
      shared: `${result.shared.length} light, ${result.heavyOk} heavy`,
      target: "",
      verdict: "",
    },
    {
      metric: "1302s Z.ai sent",
      alone: "",
      shared: `${result.refusals} (most in flight on a key: ${result.maxInFlight})`,
      target: "",
      verdict: "",
    },
  ];
  const title =
    `Shared account: 2 keys × ${PER_KEY} in flight, ${TURN_MS} ms answers (one turn); a heavy user keeps ${HEAVY} requests outstanding for ${
      SHARED_MS / 1000
    } s while two light users send one at a time`;
  const table = markdownTable(header, rows);
  const sample = result.errors.sample ? `\nFirst error: ${result.errors.sample}` : "";
  return {
    text: `${wrap(title)}\n\n${table}${sample}`,
    markdown: `## Shared account\n\n${wrap(title)}\n\n${table}\n${sample ? `${sample}\n` : ""}`,
  };
}

if (import.meta.main) {
  await withServices(60_000, async (session) => {
    const report = renderSharedAccount(await measureSharedAccount(session));
    console.log(report.text);
  });
}
