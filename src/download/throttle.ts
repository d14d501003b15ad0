/**
 * The run's limit on requests in flight, all origins together, which falls when the process
 * runs out of file descriptors and climbs back as requests succeed. Each request in flight
 * holds a socket and, while its body is written, a file; under a low `ulimit -n` (64, with
 * `-c 100`) every row used to fail for good with EMFILE. Halving what is in flight at each
 * shortage and adding one back per limit's worth of successes (as TCP does with its window)
 * settles near what the descriptors allow, and the requests that ran short are tried again.
 */

/** A started request's pass: the shortage count it started under. */
export type Pass = number;

/** How a request that held a pass ended, as far as descriptors are concerned. */
export type Ending = 'ok' | 'other' | 'short';

export class Throttle {
  readonly #max: number;
  #limit: number;
  #running = 0;
  /** Shortages so far: a request that started before the last one does not lower it again. */
  #epoch = 0;
  #successes = 0;
  readonly #waiters: { start(pass: Pass): void; fail(error: unknown): void }[] = [];

  /** At most `max` requests at once; aborting `signal` fails every request still waiting. */
  constructor(max: number, signal: AbortSignal) {
    this.#max = Math.max(1, max);
    this.#limit = this.#max;
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of this.#waiters.splice(0)) waiter.fail(signal.reason);
      },
      { once: true },
    );
  }

  /** Requests allowed in flight now. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * A pass for one request: at once while there is room (no promise on the busy path),
   * else once a request in flight has ended. Give it back with `end`.
   */
  start(): Pass | Promise<Pass> {
    if (this.#running < this.#limit && this.#waiters.length === 0) {
      this.#running++;
      return this.#epoch;
    }
    return new Promise((start, fail) => this.#waiters.push({ start, fail }));
  }

  /**
   * The request with `pass` ended. For a request that ran short of descriptors, whether
   * ending others can make room for it: false when it was the only one in flight.
   */
  end(pass: Pass, ending: Ending): boolean {
    const inFlight = this.#running;
    this.#running--;
    let room = true;
    if (ending === 'short') {
      room = inFlight > 1 || pass !== this.#epoch;
      if (pass === this.#epoch) {
        // The first of a burst of shortages lowers the limit; the rest started before it.
        this.#epoch++;
        this.#limit = Math.max(1, Math.floor(inFlight / 2));
        this.#successes = 0;
      }
    } else if (ending === 'ok' && this.#limit < this.#max && ++this.#successes >= this.#limit) {
      this.#limit++;
      this.#successes = 0;
    }
    while (this.#running < this.#limit && this.#waiters.length > 0) {
      this.#running++;
      this.#waiters.shift()!.start(this.#epoch);
    }
    return room;
  }
}
