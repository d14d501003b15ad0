/** Download defaults the CLI's help shows without loading the download code. */
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_PER_HOST = 8;
