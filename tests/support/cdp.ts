/** A small DevTools Protocol client for browser tests: launches headless Chromium, drives pages. */

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Upper bound on any single wait, so a broken browser fails the test instead of hanging it. */
const WAIT_LIMIT_MS = 60_000;

/** True when {@link CHROMIUM_PATH} exists. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** Whether Chromium is here for the browser tests of `test`; says why they are skipped if not. */
export function chromiumFor(test: string): boolean {
  const found = hasChromium();
  if (!found) {
    console.warn(
      `${test}: ${CHROMIUM_PATH} not found, browser tests skipped (apt-get install -y chromium)`,
    );
  }
  return found;
}

/** A protocol event, with the session it belongs to. */
export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

function withLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Gave up waiting for ${what}`)), WAIT_LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** One DevTools WebSocket connection (the browser's), with flattened page sessions. */
export class CdpConnection {
  #socket: WebSocket;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(event: CdpEvent) => void>();
  #closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
    socket.addEventListener("message", (message) => this.#receive(String(message.data)));
    socket.addEventListener("close", () => {
      for (const pending of this.#pending.values()) pending.reject(new Error("DevTools closed"));
      this.#pending.clear();
    });
  }

  /** Opens the connection to a `ws://…/devtools/browser/…` URL. */
  static async connect(url: string): Promise<CdpConnection> {
    const socket = new WebSocket(url);
    await withLimit(
      new Promise<void>((resolve, reject) => {
        socket.addEventListener("open", () => resolve(), { once: true });
        socket.addEventListener("error", () => reject(new Error(`Cannot connect to ${url}`)), {
          once: true,
        });
      }),
      "the DevTools connection",
    );
    return new CdpConnection(socket);
  }

  #receive(text: string): void {
    const message = JSON.parse(text);
    if (typeof message.id === "number") {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`${message.error.message} (CDP)`));
      else pending?.resolve(message.result);
      return;
    }
    const event: CdpEvent = { method: message.method, params: message.params ?? {} };
    if (message.sessionId) event.sessionId = message.sessionId;
    for (const listener of this.#listeners) listener(event);
  }

  /** Sends a command (to a page when `sessionId` is given) and resolves with its result. */
  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<T> {
    const id = this.#nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.#socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withLimit(result, method);
  }

  /** Calls `listener` for every event until the returned function is called. */
  on(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first event that matches. */
  waitFor(match: (event: CdpEvent) => boolean, what: string): Promise<CdpEvent> {
    let off = () => {};
    const found = new Promise<CdpEvent>((resolve) => {
      off = this.on((event) => {
        if (match(event)) resolve(event);
      });
    });
    return withLimit(found, what).finally(() => off());
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.#socket.readyState < WebSocket.CLOSING) this.#socket.close();
    await this.#closed;
  }
}

/** One browser tab, attached as a flattened session. */
export interface Page {
  sessionId: string;
  /** Every event of this page since it was opened. */
  events: CdpEvent[];
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Navigates and resolves once the load event has fired. */
  navigate(url: string): Promise<void>;
  /** Evaluates an expression in the page (awaiting promises) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  close(): Promise<void>;
}

/** A running headless Chromium. */
export interface Browser extends AsyncDisposable {
  cdp: CdpConnection;
  /** Opens a blank tab with Page, Runtime, Log and Network events enabled. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Reads Chromium's stderr into `log` until it ends; `url` resolves with the DevTools URL. */
function readDevToolsUrl(stderr: ReadableStream<Uint8Array>, log: string[]) {
  const lines = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let found: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (found = resolve));
  const drained = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      buffered += value;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        log.push(line);
        const match = line.match(/DevTools listening on (ws:\/\/\S+)/);
        if (match) found(match[1]);
      }
    }
  })();
  return { url, drained };
}

/** Launches headless Chromium with a throwaway profile; close it (or `await using`) when done. */
export async function launchChromium(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "ztoapi-chromium-" });
  const child = new Deno.Command(CHROMIUM_PATH, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const { url, drained } = readDevToolsUrl(child.stderr, log);
  let cdp: CdpConnection | undefined;
  const close = async () => {
    await cdp?.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await drained.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  try {
    const exited = child.status.then((s) => {
      throw new Error(`Chromium exited (${s.code}) before DevTools started:\n${log.join("\n")}`);
    });
    exited.catch(() => {});
    cdp = await CdpConnection.connect(
      await withLimit(Promise.race([url, exited]), "Chromium's DevTools URL"),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const connection = cdp;
  return {
    cdp: connection,
    newPage: () => openPage(connection),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function openPage(cdp: CdpConnection): Promise<Page> {
  const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  const events: CdpEvent[] = [];
  const off = cdp.on((event) => {
    if (event.sessionId === sessionId) events.push(event);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    cdp.send<T>(method, params, sessionId);
  for (const domain of ["Page", "Runtime", "Log", "Network"]) await send(`${domain}.enable`);
  return {
    sessionId,
    events,
    send,
    async navigate(url) {
      const loaded = cdp.waitFor(
        (e) => e.sessionId === sessionId && e.method === "Page.loadEventFired",
        `the load event of ${url}`,
      );
      const result = await send<{ errorText?: string }>("Page.navigate", { url });
      if (result.errorText) throw new Error(`Cannot open ${url}: ${result.errorText}`);
      await loaded;
    },
    async evaluate<T>(expression: string) {
      const result = await send<{
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      }>("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (result.exceptionDetails) {
        const { text, exception } = result.exceptionDetails;
        throw new Error(`Page script failed: ${exception?.description ?? text}`);
      }
      return result.result.value as T;
    },
    async close() {
      off();
      await cdp.send("Target.closeTarget", { targetId });
    },
  };
}
