/** Gateway processes sharing one KV file, as several machines share one KV. */

import { ADMIN_KEY } from "./kv_server.ts";

const SERVER = new URL("./kv_server.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Running gateway processes and their base URLs. */
export interface GatewayProcesses extends AsyncDisposable {
  urls: string[];
  kvPath: string;
}

/**
 * Starts `count` gateway processes on one new KV file (ADMIN_KEY set, DEFAULT_KEY empty, plus
 * `env`); disposing them stops them and removes the file.
 */
export async function startGatewayProcesses(
  count: number,
  env: Record<string, string> = {},
): Promise<GatewayProcesses> {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const servers = Array.from(
    { length: count },
    () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", CONFIG, SERVER],
        env: { KV_PATH: kvPath, ADMIN_KEY, DEFAULT_KEY: "", ...env },
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
  );
  const stop = async () => {
    for (const server of servers) {
      server.kill();
      await server.status;
      await server.stdout.cancel().catch(() => {});
    }
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const urls = await Promise.all(servers.map(async (server) => {
      const reader = server.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) {
          throw new Error("The test server exited before printing its port");
        }
        text += value;
      }
      reader.releaseLock();
      return `http://127.0.0.1:${JSON.parse(text.split("\n")[0]).port}`;
    }));
    return { urls, kvPath, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
