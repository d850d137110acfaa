/** What `GET /admin/upstream` shows of each upstream and its key pool: plain data, no key. */

/** Whether a key takes requests: in use, spent until a time, or refused by Z.ai. */
export type UpstreamKeyStatus = "healthy" | "cooling" | "refused";

/** One upstream key, identified by its last 4 characters only. */
export interface UpstreamKeyState {
  /** The key's last 4 characters. */
  last4: string;
  /** Its place in UPSTREAM_API_KEY, from 1 (tells apart keys ending alike). */
  position: number;
  state: UpstreamKeyStatus;
  /** ISO time a cooling key is back (a refused one is tried again), or null. */
  until: string | null;
  /** Why it is cooling down or refused (Z.ai's words), or null. */
  reason: string | null;
  in_flight: number;
  /** Most requests in flight at once; null while unlimited (learning, no 1302 seen yet). */
  limit: number | null;
  /** `set` by UPSTREAM_CONCURRENCY, `learned` from a 1302, or `unlimited`. */
  limit_source: "set" | "learned" | "unlimited";
  /** Over the last hour: successful calls, and failed ones by Z.ai code (or `http_NNN`, `connection`). */
  last_hour: { successes: number; codes: Record<string, number> };
}

/** One upstream: its base URL, its fair queue and its keys. */
export interface UpstreamState {
  /** The slug of the service this upstream serves (set by the gateway). */
  service?: string;
  url: string;
  /** Requests waiting for a slot on any of its keys. */
  queued: number;
  keys: UpstreamKeyState[];
}
