/**
 * The run's courtesy to each origin: at most --per-host requests at once, whatever the
 * workers, and one back-off for everybody when the origin answers 429 or 503. Each of an
 * origin's slots belongs to one lane (one worker), so a worker never holds more keep-alive
 * sockets to an origin than the slots it was given: the server sees --per-host at most.
 *
 * And an origin that cannot be reached (UNREACHABLE_AFTER connections in a row refused,
 * or timed out) is given up on for a while: its requests fail unsent. Image lists
 * are full of dead hosts, and each of their rows slept through every retry's back-off while
 * holding one of the run's places in flight: 200 rows to a closed port took 25 s.
 */

/** A request's right to start: the origin's slot it uses, and the lane (worker) it runs on. */
export interface Slot {
  readonly origin: string;
  readonly index: number;
  readonly lane: number;
  /** The origin's back-off count when the request started. */
  readonly epoch: number;
}

/** An origin that kept asking to slow down: its requests fail without being sent. */
export interface Refused {
  readonly refused: string;
  readonly status: number | undefined;
}

/** How a request on a slot ended, as far as the origin's pace is concerned. */
export type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'other' }
  | {
      readonly kind: 'slow-down';
      readonly status: number | undefined;
      readonly error: string;
      readonly retryAfterMs: number | undefined;
    }
  /** No connection was made (refused, no such host, timed out connecting). */
  | { readonly kind: 'unreachable'; readonly error: string };

export interface HostGateOptions {
  readonly perHost: number;
  readonly lanes: number;
  /** Back-offs in a row an origin may ask for before its rows fail (--retries). */
  readonly retries: number;
  readonly backoffMs: number;
  /** Requests running on a lane now, to start new ones on the least busy lane. */
  readonly laneLoad: (lane: number) => number;
  readonly signal: AbortSignal;
  /** How long an unreachable origin's requests fail unsent (UNREACHABLE_PAUSE_MS). */
  readonly unreachablePauseMs?: number;
  /**
   * Hears how many more (or, negative, fewer) requests wait on an origin that backs off
   * (it asked to slow down, and has not answered well since): rows that do not hold a
   * place in flight while they wait (run.ts' InFlight).
   */
  readonly onBackingOff?: (change: number) => void;
}

/** The longest wait between two tries of a request. */
const MAX_BACKOFF_MS = 30_000;

/**
 * How long to wait before try `n + 1` (n >= 1): `firstMs` doubling with each try, with
 * jitter (x0.5 to x1.5) so rows that failed together do not all come back together.
 */
export const backoff = (firstMs: number, n: number): number =>
  Math.min(MAX_BACKOFF_MS, firstMs * 2 ** (n - 1) * (0.5 + Math.random()));

/**
 * Connections in a row that may fail before an origin is given up on. Above --per-host's
 * default, so that one burst of refusals (a server restarting) is not enough alone.
 */
export const UNREACHABLE_AFTER = 24;

/**
 * How long an unreachable origin is given up on; then requests go out again, and the first
 * connection that fails gives it up again (one that works forgets it all).
 */
export const UNREACHABLE_PAUSE_MS = 30_000;

/** Unreachable origins remembered, the oldest forgotten first: memory stays bounded. */
const MAX_UNREACHABLE = 10_000;

/** An origin whose connections failed: how many in a row, and until when it is given up. */
interface Unreachable {
  failures: number;
  until: number;
  error: string;
}

interface Host {
  readonly busy: boolean[];
  readonly offset: number;
  /** Requests allowed at once now: 1 after a back-off, one more per success up to perHost. */
  limit: number;
  running: number;
  pausedUntil: number;
  /** Back-offs so far: an answer to a request sent before the last one does not count. */
  epoch: number;
  slowDowns: number;
  refused: Refused | undefined;
  readonly waiters: ((slot: Slot | Refused) => void)[];
  /** Of the waiters, how many were told to onBackingOff. */
  backingOff: number;
  timer: NodeJS.Timeout | undefined;
}

/** Slots and back-off per origin for one run; waiting requests start in arrival order. */
export class HostGate {
  readonly #options: HostGateOptions;
  readonly #hosts = new Map<string, Host>();
  readonly #rejects = new Set<(error: unknown) => void>();
  /** Kept apart from #hosts, which forgets an origin as soon as it is idle. */
  readonly #unreachable = new Map<string, Unreachable>();

  constructor(options: HostGateOptions) {
    this.#options = options;
    options.signal.addEventListener(
      'abort',
      () => {
        for (const reject of this.#rejects) reject(options.signal.reason);
        for (const host of this.#hosts.values()) clearTimeout(host.timer);
      },
      { once: true },
    );
  }

  /** Waits for a free slot of `origin` and no back-off; rejects when the run is aborted. */
  acquire(origin: string): Promise<Slot | Refused> {
    const { signal } = this.#options;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const down = this.#givenUp(origin);
    if (down) return Promise.resolve(down);
    const host = this.#host(origin);
    return new Promise((resolve, reject) => {
      this.#rejects.add(reject);
      host.waiters.push((slot) => {
        this.#rejects.delete(reject);
        resolve(slot);
      });
      this.#pump(origin, host);
      this.#count(host);
    });
  }

  /** Gives the slot back, telling how its request ended. */
  release(slot: Slot, verdict: Verdict): void {
    const host = this.#hosts.get(slot.origin)!;
    host.busy[slot.index] = false;
    host.running--;
    const now = Date.now();
    if (verdict.kind === 'unreachable') this.#failedToConnect(slot.origin, verdict.error, now);
    // Any answer, even an error page, shows the host is there.
    else this.#unreachable.delete(slot.origin);
    if (verdict.kind === 'ok') {
      host.slowDowns = 0;
      host.limit = Math.min(this.#options.perHost, host.limit + 1);
    } else if (verdict.kind === 'slow-down' && slot.epoch === host.epoch) {
      // Answers to requests sent before the pause began do not pause it again.
      host.epoch++;
      host.slowDowns++;
      host.limit = 1;
      host.pausedUntil = now + this.#pause(host.slowDowns, verdict.retryAfterMs);
      if (host.slowDowns > this.#options.retries) {
        host.refused = {
          refused: `${verdict.error}: the host asked to slow down ${host.slowDowns} times in a row; gave up on it`,
          status: verdict.status,
        };
      }
    }
    this.#pump(slot.origin, host);
    this.#count(host);
  }

  /**
   * Tells onBackingOff of the change in `host`'s waiters that wait out its back-off: all of
   * them while it backs off (slowDowns > 0), none once it answered well or gave up.
   */
  #count(host: Host): void {
    const now = host.slowDowns > 0 ? host.waiters.length : 0;
    const change = now - host.backingOff;
    host.backingOff = now;
    if (change !== 0) this.#options.onBackingOff?.(change);
  }

  #failedToConnect(origin: string, error: string, now: number): void {
    const known = this.#unreachable.get(origin);
    // Deleted and set again, so that the Map's first key is the one failed longest ago.
    this.#unreachable.delete(origin);
    const failures = (known?.failures ?? 0) + 1;
    const until =
      failures >= UNREACHABLE_AFTER
        ? now + (this.#options.unreachablePauseMs ?? UNREACHABLE_PAUSE_MS)
        : 0;
    this.#unreachable.set(origin, { failures, until, error });
    if (this.#unreachable.size > MAX_UNREACHABLE) {
      this.#unreachable.delete(this.#unreachable.keys().next().value!);
    }
  }

  /** Why `origin`'s requests fail unsent now, if they do. */
  #givenUp(origin: string): Refused | undefined {
    const known = this.#unreachable.get(origin);
    if (known === undefined || known.until <= Date.now()) return undefined;
    const seconds = (this.#options.unreachablePauseMs ?? UNREACHABLE_PAUSE_MS) / 1000;
    return {
      // The same words for every row of the cause, so the report groups them.
      refused: `${known.error}: ${UNREACHABLE_AFTER} connections in a row failed; gave up on the host for ${seconds} s`,
      status: undefined,
    };
  }

  #pause(slowDowns: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
    return backoff(this.#options.backoffMs, slowDowns);
  }

  #host(origin: string): Host {
    let host = this.#hosts.get(origin);
    if (!host) {
      host = {
        busy: Array.from({ length: this.#options.perHost }, () => false),
        offset: laneOffset(origin, this.#options.lanes),
        limit: this.#options.perHost,
        running: 0,
        pausedUntil: 0,
        epoch: 0,
        slowDowns: 0,
        refused: undefined,
        waiters: [],
        backingOff: 0,
        timer: undefined,
      };
      this.#hosts.set(origin, host);
    }
    return host;
  }

  /** Starts what may start; wakes up again when a back-off ends. */
  #pump(origin: string, host: Host): void {
    if (host.refused) {
      for (const wake of host.waiters.splice(0)) wake(host.refused);
      return;
    }
    // Requests that queued before the origin was given up on are not sent either.
    const down = host.waiters.length > 0 ? this.#givenUp(origin) : undefined;
    if (down) for (const wake of host.waiters.splice(0)) wake(down);
    const wait = host.pausedUntil - Date.now();
    if (wait > 0) {
      if (host.waiters.length > 0 && host.timer === undefined) {
        host.timer = setTimeout(() => {
          host.timer = undefined;
          this.#pump(origin, host);
          this.#count(host);
        }, wait);
      }
      return;
    }
    while (host.waiters.length > 0 && host.running < host.limit) {
      const index = this.#freeSlot(host);
      host.busy[index] = true;
      host.running++;
      const lane = (index + host.offset) % this.#options.lanes;
      host.waiters.shift()!({ origin, index, lane, epoch: host.epoch });
    }
    const idle =
      host.running === 0 &&
      host.waiters.length === 0 &&
      host.slowDowns === 0 &&
      host.limit === this.#options.perHost;
    if (idle) this.#hosts.delete(origin);
  }

  /** The free slot on the least busy lane (the lowest index on a tie: its socket is warm). */
  #freeSlot(host: Host): number {
    let best = -1;
    let bestLoad = Infinity;
    for (let index = 0; index < host.busy.length; index++) {
      if (host.busy[index]) continue;
      const load = this.#options.laneLoad((index + host.offset) % this.#options.lanes);
      if (load < bestLoad) {
        best = index;
        bestLoad = load;
      }
    }
    return best;
  }
}

/** Where an origin's slot 0 lives, so origins with one slot spread over the lanes. */
function laneOffset(origin: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < origin.length; i++) hash = (hash * 31 + origin.charCodeAt(i)) | 0;
  return Math.abs(hash) % lanes;
}
