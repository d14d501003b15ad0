import { defaultWorkers } from '../pool/runtime.ts';

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
 * Download workers: one fewer than the cores, at least one. Unlike logstats' or sum's, the
 * parent is busy for the whole run (the CSV, names, the host gate, the manifest), and it
 * needs a core of its own. On 2 cores, 1 worker against 2 (nginx on 127.0.0.1, tmpfs, 7
 * runs each, alternated): 3000 x 20 KB in 0.88x the wall time and 0.77x the CPU; 100 x 2 MB
 * in the same wall time at 0.83x the CPU; and one V8 heap less in memory.
 */
export const defaultDownloadWorkers = (): number => Math.max(1, defaultWorkers() - 1);
