/**
 * Download defaults the CLI's help shows without loading the download code. Chosen by
 * `npm run bench -- download` (400 images from a host that answers after 50 ms, 2 workers):
 * 8 in flight per origin took 3.0 s, 16 took 1.8 s (on par with curl --parallel-max 16),
 * 32 took 1.2 s. 16 connections per origin is as far as we go by default out of courtesy
 * to image hosts (browsers open 6; aria2c defaults to 1 per server, 16 at most).
 */
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_PER_HOST = 16;
