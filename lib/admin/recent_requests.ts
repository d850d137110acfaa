/**
 * The most recent client requests of this process, kept in memory for the console: a ring of the
 * last N log entries and today's counts by status. Per process, and gone on restart.
 */

import { redact, type RequestLog } from "../core/log.ts";
import { utcDay } from "../governance/usage.ts";

const DAY_MS = 86_400_000;
const MAX_ERROR_LENGTH = 300;

/** What the console shows of one request: never a prompt, an answer or a key. */
export interface RecentRequest {
  time: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  user: string | null;
  key_id: string | null;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  upstream_request_id: string | null;
  /** Why it failed, or why its stream ended early. */
  error: string | null;
}

/** Today's client requests of this process, by outcome. */
export interface RequestCounts {
  /** The UTC day counted. */
  date: string;
  /** When counting began: the day's start, or this process's start if later. */
  since: string;
  requests: number;
  /** Status 400–499. */
  client_errors: number;
  /** Status 500 and above. */
  server_errors: number;
  /** Status 200 whose stream ended early (upstream error or the client left). */
  interrupted: number;
}

/** Which requests a listing keeps. */
export type RequestMatch = (request: RecentRequest) => boolean;

/** A status filter: `429`, a class (`4xx`), or `error` (any status from 400). Null if invalid. */
export function statusMatcher(spec: string): RequestMatch | null {
  if (/^[1-5]\d\d$/.test(spec)) return (r) => r.status === Number(spec);
  if (/^[1-5]xx$/i.test(spec)) return (r) => Math.floor(r.status / 100) === Number(spec[0]);
  if (spec === "error") return (r) => r.status >= 400;
  return null;
}

/** A fixed-size ring of recent requests, newest first when listed, and today's counts. */
export class RecentRequests {
  readonly capacity: number;
  #ring: RecentRequest[] = [];
  #next = 0;
  #started: number;
  #counts: RequestCounts;

  constructor(options: { capacity?: number; now: number }) {
    this.capacity = options.capacity ?? 1000;
    this.#started = options.now;
    this.#counts = this.#freshCounts(options.now);
  }

  /** Adds a finished request's log entry at time `now`. */
  add(entry: RequestLog, now: number): void {
    const request: RecentRequest = {
      time: new Date(now).toISOString(),
      method: entry.method,
      path: entry.path,
      status: entry.status,
      duration_ms: entry.durationMs,
      user: entry.user ?? null,
      key_id: entry.keyId ?? null,
      model: entry.model ?? null,
      prompt_tokens: entry.promptTokens ?? null,
      completion_tokens: entry.completionTokens ?? null,
      upstream_request_id: entry.upstreamRequestId ?? null,
      error: entry.error ? redact(entry.error).slice(0, MAX_ERROR_LENGTH) : null,
    };
    if (this.#ring.length < this.capacity) this.#ring.push(request);
    else this.#ring[this.#next] = request;
    this.#next = (this.#next + 1) % this.capacity;
    this.#count(request, now);
  }

  /** Up to `limit` requests that match, newest first. */
  list(limit: number, match: RequestMatch = () => true): RecentRequest[] {
    const found: RecentRequest[] = [];
    const size = this.#ring.length;
    for (let i = 1; i <= size && found.length < limit; i++) {
      const request = this.#ring[(this.#next - i + size) % size];
      if (match(request)) found.push(request);
    }
    return found;
  }

  /** Today's counts at `now` (zero on a day this process has not served). */
  counts(now: number): RequestCounts {
    return { ...this.#today(now) };
  }

  #today(now: number): RequestCounts {
    if (this.#counts.date !== utcDay(now)) this.#counts = this.#freshCounts(now);
    return this.#counts;
  }

  #count(request: RecentRequest, now: number): void {
    const counts = this.#today(now);
    counts.requests++;
    if (request.status >= 500) counts.server_errors++;
    else if (request.status >= 400) counts.client_errors++;
    else if (request.error) counts.interrupted++;
  }

  #freshCounts(now: number): RequestCounts {
    const dayStart = now - (now % DAY_MS);
    return {
      date: utcDay(now),
      since: new Date(Math.max(dayStart, this.#started)).toISOString(),
      requests: 0,
      client_errors: 0,
      server_errors: 0,
      interrupted: 0,
    };
  }
}
