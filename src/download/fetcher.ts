/**
 * The fetching stage: the worker pool that downloads each URL's body to a temp file (the
 * work itself is fetch.ts, in the workers). The only place the download run gets its pool.
 */
import type { Pool } from '../pool/pool.ts';
import { createTaskPool, type CrewTasks } from '../tasks/pool.ts';
import type { DownloadConfig } from './config.ts';
import type { FetchOutcome } from './fetch.ts';

/** The pool of one run, and how many URLs it fetched. */
export class Fetcher {
  readonly #pool: Pool<CrewTasks>;
  readonly #options: DownloadConfig['fetch'] & { readonly perHost: number };
  #requests = 0;

  private constructor(pool: Pool<CrewTasks>, config: DownloadConfig) {
    this.#pool = pool;
    // Each worker has its own connections: --per-host is shared out between them.
    const perHost = Math.max(1, Math.ceil(config.perHost / Math.max(1, config.workers)));
    this.#options = { ...config.fetch, perHost };
  }

  /** Starts the workers; aborting `signal` fails every fetch and stops them. */
  static async start(config: DownloadConfig, signal: AbortSignal): Promise<Fetcher> {
    const pool = await createTaskPool({
      runtime: config.runtime,
      workers: config.workers,
      tasksPerWorker: config.concurrency,
      signal,
    });
    return new Fetcher(pool, config);
  }

  /** URLs fetched so far (each once, whatever the number of rows that share it). */
  get requests(): number {
    return this.#requests;
  }

  /** Downloads `url` into `tempPath`; a failed download is an outcome, not a rejection. */
  fetch(url: string, tempPath: string): Promise<FetchOutcome> {
    this.#requests++;
    return this.#pool.run('downloadUrl', { url, tempPath, options: this.#options });
  }

  /** Stops the workers; call it in `finally`. */
  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
