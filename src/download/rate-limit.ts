/**
 * `--limit-rate`: the bytes of bodies a worker may take per second, all its downloads
 * together. Each worker gets an equal share of the run's rate (the workers do not talk to
 * each other while they download), so the run as a whole stays under it.
 */

/** Up to this much of a quiet spell may be used at once afterwards (a burst). */
const BURST_MS = 100;

/**
 * A pace for bytes: `take(n)` says how long to wait before taking `n` more bytes, so that
 * over any stretch longer than BURST_MS, no more than `bytesPerSecond` pass per second.
 * Waiters are served in the order they asked: each one's wait starts where the last ended.
 */
export class RateLimit {
  readonly bytesPerSecond: number;
  readonly #now: () => number;
  /** When the bytes handed out so far will have been paid for, in ms of `now`. */
  #paidUntil = -Infinity;

  constructor(bytesPerSecond: number, now: () => number = () => performance.now()) {
    this.bytesPerSecond = bytesPerSecond;
    this.#now = now;
  }

  /** Milliseconds to wait before `bytes` may go on (0: at once). */
  take(bytes: number): number {
    const now = this.#now();
    const start = Math.max(this.#paidUntil, now - BURST_MS);
    this.#paidUntil = start + (bytes / this.bytesPerSecond) * 1000;
    return Math.max(0, this.#paidUntil - now);
  }
}
