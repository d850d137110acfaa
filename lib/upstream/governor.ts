/**
 * The concurrency governor of one upstream: a request takes a slot on a key before it goes out and
 * gives it back when its answer ends; without a free slot it waits in a queue that takes turns
 * between users, at most UPSTREAM_QUEUE_TIMEOUT_MS.
 */

import { ApiError } from "../core/errors.ts";
import { FairQueue } from "./fair_queue.ts";
import type { KeyPool, PooledKey } from "./pool.ts";

/** A slot on one key, held until `release()` (safe to call more than once). */
export interface Lease {
  key: PooledKey;
  release(): void;
}

/** How a request asks for a slot. */
export interface AcquireOptions {
  /** Who asks: users take turns. */
  user: string;
  /** Aborts the wait (the client left, or the call's time ran out); rejects with its reason. */
  signal: AbortSignal;
  /** A key just failed: prefer the others. */
  avoid?: PooledKey;
  /** The request already waited and went out once: it goes first in its user's line. */
  again?: boolean;
}

/** The slots and the fair queue of one upstream. */
export interface Governor {
  /** A slot on a healthy key, at once or after a wait; rejects when none frees up in time. */
  acquire(options: AcquireOptions): Promise<Lease>;
  /** After a key went out of use: when no key is left, every waiting request gets the pool's error. */
  keysChanged(): void;
  /** Requests waiting now. */
  queued(): number;
}

interface Waiter {
  avoid?: PooledKey;
  grant(lease: Lease): void;
  fail(error: unknown): void;
}

/** The 429 of a request that found no slot within `queueTimeoutMs`. */
export function busyError(queueTimeoutMs: number): ApiError {
  const retryAfter = Math.min(30, Math.max(1, Math.ceil(queueTimeoutMs / 1000)));
  return new ApiError(
    429,
    "overloaded",
    `The shared Z.ai capacity of this gateway is busy: no upstream slot freed up within ${queueTimeoutMs} ms (UPSTREAM_QUEUE_TIMEOUT_MS). This is not your own rate limit: retry after ${retryAfter} s`,
    { code: "upstream_busy", retryAfter },
  );
}

/** Builds the governor of `pool`. */
export function createGovernor(pool: KeyPool, options: { queueTimeoutMs: number }): Governor {
  const queue = new FairQueue<Waiter>();

  const lease = (key: PooledKey): Lease => {
    pool.take(key);
    let released = false;
    return {
      key,
      release() {
        if (released) return;
        released = true;
        pool.put(key);
        pump();
      },
    };
  };

  /** Gives free slots to waiting requests, in turn. */
  function pump() {
    if (!queue.size) return;
    if (!pool.anyUsable()) return failAll();
    while (queue.size) {
      const key = pool.pick(queue.peek()!.avoid);
      if (!key) return;
      queue.shift()!.grant(lease(key));
    }
  }

  function failAll() {
    const error = pool.unavailableError();
    for (const waiter of queue.drain()) waiter.fail(error);
  }

  return {
    acquire({ user, signal, avoid, again }) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (!pool.anyUsable()) return Promise.reject(pool.unavailableError());
      if (!queue.size) {
        const key = pool.pick(avoid);
        if (key) return Promise.resolve(lease(key));
      }
      if (options.queueTimeoutMs === 0) return Promise.reject(busyError(0));
      return new Promise<Lease>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        };
        const waiter: Waiter = {
          avoid,
          grant(granted) {
            done();
            resolve(granted);
          },
          fail(error) {
            done();
            reject(error);
          },
        };
        const leave = (error: unknown) => {
          if (queue.remove(waiter)) waiter.fail(error);
        };
        const onAbort = () => leave(signal.reason);
        const timer = setTimeout(
          () => leave(busyError(options.queueTimeoutMs)),
          options.queueTimeoutMs,
        );
        signal.addEventListener("abort", onAbort, { once: true });
        queue.push(user, waiter, again);
      });
    },
    keysChanged() {
      if (queue.size && !pool.anyUsable()) failAll();
    },
    queued: () => queue.size,
  };
}
