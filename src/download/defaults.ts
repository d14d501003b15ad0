import { defaultWorkers, type Runtime } from '../pool/runtime.ts';
import type { DownloadConfig } from './config.ts';

/**
 * Download defaults the CLI's help shows without loading the download code. Chosen by
 * `npm run bench -- download` (400 images from a host that answers after 50 ms, 2 workers):
 * 8 in flight per origin took 3.0 s, 16 took 1.8 s (on par with curl --parallel-max 16),
 * 32 took 1.2 s. 16 connections per origin is as far as we go by default out of courtesy
 * to image hosts (browsers open 6; aria2c defaults to 1 per server, 16 at most).
 */
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_PER_HOST = 16;

/**
 * Downloads in flight in the whole run at least, by default. Each request waits a round
 * trip or more, so N in flight fetch at most N files per round trip: with 16 (one worker
 * on 2 cores), 2000 images from 32 hosts 100 ms away could not take less than 12.5 s (they
 * took 27 s); with 64, 8.0 s, where curl --parallel (50 by default) took 7.1 s (`npm run
 * bench -- network`, issue 32). --per-host still caps each origin at 16, so one host sees
 * no more.
 */
export const MIN_IN_FLIGHT = 64;

/** --concurrency's default: 16 per worker, raised so that the run has MIN_IN_FLIGHT. */
export const defaultConcurrency = (workers: number): number =>
  Math.max(DEFAULT_CONCURRENCY, Math.ceil(MIN_IN_FLIGHT / Math.max(1, workers)));

/**
 * Download workers: one fewer than the cores, at least one. Unlike logstats' or sum's, the
 * parent is busy for the whole run (the CSV, names, the host gate, the manifest), and it
 * needs a core of its own. On 2 cores, 1 worker against 2 (nginx on 127.0.0.1, tmpfs, 7
 * runs each, alternated): 3000 x 20 KB in 0.88x the wall time and 0.77x the CPU; 100 x 2 MB
 * in the same wall time at 0.83x the CPU; and one V8 heap less in memory.
 */
export const defaultDownloadWorkers = (): number => Math.max(1, defaultWorkers() - 1);

/**
 * How far a download worker's V8 heap may grow before its first full collection when it
 * runs the image step. Its own objects are few (~13 MiB), but every body waits in it for
 * sharp, and V8 sized its limit so close to them that it collected every ~90 ms (1,000
 * images of 470 KB to 256 px: 118 full collections; with this, 24, and the run took 0.9x
 * the time). The cost is at most this much more resident memory per worker.
 */
export const IMAGE_WORKER_HEAP_MIB = 64;

/** The pool each lane of a download runs on, and the warm pool started before the run. */
export const lanePool = (
  config: Pick<DownloadConfig, 'runtime' | 'concurrency' | 'fetch'>,
): { runtime: Runtime; workers: number; tasksPerWorker: number; heapFloorMiB?: number } => ({
  runtime: config.runtime,
  workers: 1,
  tasksPerWorker: config.concurrency,
  ...(config.fetch.resize ? { heapFloorMiB: IMAGE_WORKER_HEAP_MIB } : {}),
});
