/** Counts of labelled events over the last hour, in one-minute buckets (fixed memory). */

const MINUTE_MS = 60_000;
const MINUTES = 60;

/** Events per label over the last hour. */
export class RecentCounts {
  #buckets: { minute: number; counts: Map<string, number> }[] = [];

  /** Counts one event labelled `label` at `now` (ms since the epoch). */
  add(label: string, now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    let last = this.#buckets.at(-1);
    if (!last || last.minute !== minute) {
      last = { minute, counts: new Map() };
      this.#buckets.push(last);
      this.#prune(minute);
    }
    last.counts.set(label, (last.counts.get(label) ?? 0) + 1);
  }

  /** Events per label within the hour before `now`. */
  totals(now: number): Record<string, number> {
    this.#prune(Math.floor(now / MINUTE_MS));
    const totals: Record<string, number> = {};
    for (const { counts } of this.#buckets) {
      for (const [label, count] of counts) totals[label] = (totals[label] ?? 0) + count;
    }
    return totals;
  }

  #prune(minute: number): void {
    while (this.#buckets.length && this.#buckets[0].minute <= minute - MINUTES) {
      this.#buckets.shift();
    }
  }
}
