/**
 * The fetching stage: the workers that download each URL's body to a temp file (one request
 * each: fetch.ts), and the parent's side of every download: when a request may start (the
 * origin's slots and back-off, hosts.ts), redirects to another origin (without credentials),
 * and retries. The only place the download run gets its workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolFactory } from '../pool/pool.ts';
import { TooManyOpenFiles } from '../pool/open-files.ts';
import { answerProblem } from './answer-check.ts';
import type { DownloadConfig } from './config.ts';
import { lanePool } from './defaults.ts';
import { headersFor, toTarget, type Target } from './credentials.ts';
import type { FetchInput, FetchOptions, FetchOutcome, Rejected, RequestResult } from './fetch.ts';
import { backoff, HostGate, type Slot, type Verdict } from './hosts.ts';
import { Throttle, type Ending, type Pass } from './throttle.ts';

/** The one task a download needs of the pool: a request, in a worker. */
export interface DownloadTasks {
  readonly downloadUrl: (input: FetchInput) => Promise<RequestResult>;
}

/** Where a URL's body goes: the run's temp folder; whether a small one may come back whole. */
export type Destination = Pick<FetchInput, 'tempFolder' | 'bodyInMemory'>;

/**
 * The workers of one run, and how many URLs they fetched. The workers start with the first
 * request: a re-run whose rows were all finished before, or a CSV of bad rows, never starts
 * one (on a re-run of 1,000,000 finished rows, a worker thread was 15-20 MiB of the peak).
 */
export class Fetcher {
  readonly #config: DownloadConfig;
  /** One single-worker pool per lane: an origin's slot always runs on the same worker. */
  #lanes: Promise<Pool<DownloadTasks>[]> | undefined;
  readonly #pools: PoolFactory<DownloadTasks>;
  readonly #running: number[];
  readonly #gate: HostGate;
  /** Requests in flight, all origins together: fewer when file descriptors run out. */
  readonly #throttle: Throttle;
  readonly #options: FetchOptions;
  readonly #signal: AbortSignal;
  #requests = 0;
  #shortOfWorkers: string | undefined;

  /** Hears of fetches that begin (+1) or end (-1) waiting out a back-off. */
  readonly #onBackingOff: (change: number) => void;

  /**
   * Aborting `signal` fails every fetch and stops the workers, which `pools` starts.
   * `onBackingOff` hears how many more (or fewer) fetches wait out a back-off: their own
   * before a retry, or their origin's after it asked to slow down (429, 503).
   */
  constructor(
    config: DownloadConfig,
    pools: PoolFactory<DownloadTasks>,
    signal: AbortSignal,
    onBackingOff: (change: number) => void = () => undefined,
  ) {
    const lanes = config.runtime === 'inline' ? 1 : Math.max(1, config.workers);
    this.#config = config;
    this.#pools = pools;
    this.#running = Array.from({ length: lanes }, () => 0);
    this.#options = {
      ...config.fetch,
      perHost: config.perHost,
      // The run's rate, an equal share to each worker: they do not talk while they download.
      ...(config.limitRate === undefined
        ? {}
        : { rateLimit: Math.max(1, Math.floor(config.limitRate / lanes)) }),
    };
    this.#signal = signal;
    this.#onBackingOff = onBackingOff;
    this.#gate = new HostGate({
      onBackingOff,
      perHost: config.perHost,
      lanes,
      retries: config.fetch.retries,
      backoffMs: config.fetch.backoffMs,
      laneLoad: (lane) => this.#running[lane]!,
      signal,
    });
    this.#throttle = new Throttle(lanes * config.concurrency, signal);
  }

  /** The workers, started on first use; a failure to start them is every fetch's. */
  #started(): Promise<Pool<DownloadTasks>[]> {
    this.#lanes ??= this.#startLanes();
    return this.#lanes;
  }

  /**
   * One pool per lane, started one after another. When the open-files limit leaves no room
   * for another worker, the lanes left share the workers that did start (lane i runs on
   * worker i mod started: an origin's slot still always runs on the same one); with none
   * started, or on any other failure, the ones started are stopped and the run fails.
   */
  async #startLanes(): Promise<Pool<DownloadTasks>[]> {
    const started: Pool<DownloadTasks>[] = [];
    for (let lane = 0; lane < this.#running.length; lane++) {
      try {
        started.push(await this.#pools({ ...lanePool(this.#config), signal: this.#signal }));
      } catch (error) {
        if (started.length === 0 || !(error instanceof TooManyOpenFiles)) {
          await Promise.all(started.map((pool) => pool.destroy()));
          throw error;
        }
        this.#shortOfWorkers = `ulimit -n ${error.limit} left room for ${started.length} of the ${this.#running.length} workers asked: they shared the work (raise ulimit -n for more)`;
        break;
      }
    }
    return this.#running.map((_, lane) => started[lane % started.length]!);
  }

  /** Said once the run is over when fewer workers started than asked (a low `ulimit -n`). */
  get shortOfWorkers(): string | undefined {
    return this.#shortOfWorkers;
  }

  /** URLs fetched so far (each once, whatever the number of rows that share it). */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Downloads `url` into a temp file in `into.tempFolder` (or memory), retrying what is worth
   * retrying; a failed download is an outcome, a rejection means the run was aborted.
   */
  async fetch(url: string, into: Destination): Promise<FetchOutcome> {
    this.#requests++;
    const target = toTarget(url);
    if ('error' in target)
      return { ok: false, status: undefined, error: target.error, attempts: 0 };
    const { retries, backoffMs } = this.#options;
    for (let attempts = 1, alone = 0; ; attempts++) {
      const result = await this.#follow(target, into);
      if (result.kind === 'failed' && result.retry === 'fewer') {
        // Not an attempt at the URL: it goes again once fewer requests are in flight. Short
        // while it ran alone, no other request's end can make room: a few tries, then stop.
        if (result.alone && ++alone > retries) {
          const error = `${result.error} even with one download at a time: raise ulimit -n`;
          return { ok: false, status: undefined, error, attempts, output: true };
        }
        attempts--;
        await sleep(Math.min(backoffMs, 100) * (0.5 + Math.random()), undefined, {
          signal: this.#signal,
        });
        continue;
      }
      if (result.kind === 'ok') {
        const { kind, ...received } = result;
        return { ok: true, ...received, attempts };
      }
      if (result.kind === 'redirect' || result.retry === 'no' || attempts > retries) {
        const error = result.kind === 'redirect' ? 'redirect not followed' : result.error;
        const output = result.kind === 'failed' && result.output === true;
        const optedOut = result.kind === 'failed' && result.optedOut === true;
        const rejected = result.kind === 'failed' ? rejectedBy(result) : {};
        return {
          ok: false,
          status: result.status,
          error,
          attempts,
          ...(output ? { output } : {}),
          ...(optedOut ? { optedOut } : {}),
          ...rejected,
        };
      }
      // A host that asked to slow down makes everyone wait (the gate); other failures wait alone.
      if (result.retry === 'yes') {
        const wait = result.retryAfterMs ?? backoff(backoffMs, attempts);
        this.#onBackingOff(1);
        try {
          await sleep(wait, undefined, { signal: this.#signal });
        } finally {
          this.#onBackingOff(-1);
        }
      }
    }
  }

  /** One attempt: a request per origin the redirects lead to, each on that origin's slot. */
  async #follow(target: Target, into: Destination): Promise<Followed> {
    let url = target.url;
    let visited: readonly string[] = [];
    for (;;) {
      const origin = new URL(url).origin;
      const slot = await this.#gate.acquire(origin);
      if ('refused' in slot) {
        const { refused: error, status } = slot;
        return { kind: 'failed', status, error, retry: 'no', retryAfterMs: undefined };
      }
      const { locationTrusted } = this.#options;
      const headers = headersFor(this.#options.headers, target, origin, locationTrusted);
      const input: FetchInput = { url, ...into, headers, visited, options: this.#options };
      const result = await this.#onSlot(slot, input);
      if (result.kind !== 'redirect') return result;
      url = result.url;
      visited = result.visited;
    }
  }

  /**
   * One request on `slot` once the throttle lets it start; gives the slot back with its
   * verdict. A request short of descriptors while it ran alone says so (`alone`).
   */
  async #onSlot(slot: Slot, input: FetchInput): Promise<Followed> {
    let verdict: Verdict = { kind: 'other' };
    let pass: Pass | undefined;
    this.#running[slot.lane]!++;
    try {
      const started = this.#throttle.start();
      pass = typeof started === 'number' ? started : await started;
      const lanes = await this.#started();
      const result = trusted(await lanes[slot.lane]!.run('downloadUrl', input), input);
      verdict = verdictOf(result);
      const short = result.kind === 'failed' && result.retry === 'fewer';
      const room = this.#throttle.end(pass, short ? 'short' : endingOf(result));
      pass = undefined;
      return short && !room ? { ...result, alone: true } : result;
    } finally {
      if (pass !== undefined) this.#throttle.end(pass, 'other');
      this.#running[slot.lane]!--;
      this.#gate.release(slot, verdict);
    }
  }

  /** Stops the workers; call it in `finally`. */
  async destroy(): Promise<void> {
    const lanes = await this.#lanes?.catch(() => []);
    // Lanes may share a pool: each is stopped once.
    await Promise.all([...new Set(lanes ?? [])].map((lane) => lane.destroy()));
  }
}

/** A request's result, and whether it ran short of descriptors with nothing else in flight. */
type Followed = RequestResult & { readonly alone?: true };

/** What the image step said of a body it did not keep, if it did not. */
const rejectedBy = ({ filtered, image }: Rejected): Rejected => ({
  ...(filtered ? { filtered } : {}),
  ...(image ? { image } : {}),
});

const endingOf = (result: RequestResult): Ending => (result.kind === 'ok' ? 'ok' : 'other');

function verdictOf(result: RequestResult): Verdict {
  if (result.kind === 'failed' && result.unreachable) {
    return { kind: 'unreachable', error: result.error };
  }
  if (result.kind === 'failed' && result.retry === 'slow-down') {
    const { status, error, retryAfterMs } = result;
    return { kind: 'slow-down', status, error, retryAfterMs };
  }
  return result.kind === 'ok' || result.kind === 'redirect' ? { kind: 'ok' } : { kind: 'other' };
}

/**
 * The answer, or a final failure in its place when it lands somewhere the parent did not ask
 * (answer-check.ts: a forged queue row); nothing it names is read or placed then.
 */
function trusted(result: RequestResult, input: FetchInput): RequestResult {
  const problem = answerProblem(result, input);
  if (problem === undefined) return result;
  const error = `refused the worker's answer: ${problem}`;
  return { kind: 'failed', status: undefined, error, retry: 'no', retryAfterMs: undefined };
}
