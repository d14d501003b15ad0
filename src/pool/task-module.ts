/**
 * Where the worker entry module lives. Bundled, `dist/cli.js` sits beside `dist/worker.js`;
 * run from source (tests, `vitest`), this file is `src/pool/task-module.ts` and Node 24 loads
 * `src/worker.ts` directly with type stripping, in threads and child processes alike.
 */
export function defaultTaskModule(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../worker.ts', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}
