/** The benchmark's child processes: spawning Deno scripts, reading their JSON lines, their memory. */

/** Reads a byte stream one line at a time. */
export class LineReader {
  readonly #iterator: AsyncIterator<string>;
  #buffer = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#iterator = stream.pipeThrough(new TextDecoderStream())[Symbol.asyncIterator]();
  }

  /** The next line without its newline; throws when the stream ends first. */
  async next(): Promise<string> {
    while (true) {
      const newline = this.#buffer.indexOf("\n");
      if (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      const { done, value } = await this.#iterator.next();
      if (done) throw new Error("Cannot read a line: the process closed its output");
      this.#buffer += value;
    }
  }
}

/** Options of {@link spawnProcess} and {@link spawnDeno}. */
export interface SpawnOptions {
  cwd?: string;
  /** The whole environment of the child (nothing is inherited). */
  env: Record<string, string>;
  /** Where stdout goes when it is not read as JSON lines. */
  stdoutFile?: string;
  stderrFile?: string;
  /** Extra flags for `deno run`, e.g. `--cpu-prof`. */
  denoFlags?: string[];
}

/** A running Deno script. */
export interface Child {
  process: Deno.ChildProcess;
  pid: number;
  /** Lines of stdout (absent when stdout goes to a file). */
  lines?: LineReader;
  /** Writes one line to the child's stdin. */
  send(line: string): Promise<void>;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();

/** Runs `deno run -A --config <deno.json> <script> ...args` with a clean environment. */
export function spawnDeno(
  configPath: string,
  script: string,
  args: string[],
  options: SpawnOptions,
): Child {
  return spawnProcess([
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    ...options.denoFlags ?? [],
    "--config",
    configPath,
    script,
    ...args,
  ], options);
}

/** Runs `command` (a program and its arguments) with a clean environment. */
export function spawnProcess(command: string[], options: SpawnOptions): Child {
  // Output files are opened by a shell that then becomes the child, so the child writes to them
  // itself: no pipe, and no copying by this process while the child is being measured.
  const redirect = `exec "$@"${options.stdoutFile ? ' >"$OUT"' : ""}${
    options.stderrFile ? ' 2>"$ERR"' : " 2>/dev/null"
  }`;
  const process = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `OUT=$1 ERR=$2; shift 2; ${redirect}`,
      "sh",
      options.stdoutFile ?? "",
      options.stderrFile ?? "",
      ...command,
    ],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "piped",
    stdout: options.stdoutFile ? "null" : "piped",
    stderr: "null",
  }).spawn();
  const writer = process.stdin.getWriter();
  const lines = options.stdoutFile ? undefined : new LineReader(process.stdout);
  let stopped = false;
  return {
    process,
    pid: process.pid,
    lines,
    send: (line) => writer.write(encoder.encode(line + "\n")),
    async stop() {
      if (stopped) return;
      stopped = true;
      await writer.close().catch(() => {});
      try {
        process.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await process.status;
    },
  };
}

/** The environment every child gets: enough for Deno to find its cache, nothing else. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (
    const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "DENO_TLS_CA_STORE", "TMPDIR"]
  ) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resident memory of a process, in bytes: now (VmRSS) and the peak (VmHWM). */
export interface Resident {
  rss: number;
  hwm: number;
}

/** Reads `/proc/<pid>/status`. */
export function readResident(pid: number): Resident {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Resets a process's peak resident size (VmHWM) to its current one; false when not allowed. */
export function resetPeakResident(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function cpuTimeMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10;
}

/** Waits until `url` answers 200, or throws after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Cannot reach ${url}: nothing answered within ${timeoutMs} ms`);
}

/** Machine facts for the report. */
export function machine(): { cores: number; cpu: string; memory: string; deno: string } {
  let cpu = "unknown";
  let memory = "unknown";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpu;
    const kb = Number(Deno.readTextFileSync("/proc/meminfo").match(/^MemTotal:\s+(\d+)/m)?.[1]);
    if (kb) memory = `${Math.round(kb / 1024 / 1024)} GiB`;
  } catch {
    // Not Linux.
  }
  return { cores: navigator.hardwareConcurrency, cpu, memory, deno: Deno.version.deno };
}
