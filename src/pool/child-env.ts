/** Names, for the pool's child entry, the task module it serves (a file URL). */
export const CHILD_TASKS_ENV = 'CREW_POOL_TASKS';

/**
 * malloc settings for a child process (GLIBC_TUNABLES; glibc 2.35 and later read them, other
 * C libraries ignore them), each unless the parent's environment sets it already:
 * - transparent huge pages for malloc's big blocks. Where the kernel gives them only on
 *   request (the usual "madvise" setting), a first touch of fresh memory costs a fault per
 *   4 KiB, ~16 µs on a virtual machine: a worker's 32 MiB table of IPv6 clients was 135 ms
 *   of faults, 16 ms with huge pages;
 * - a fixed 1 MiB threshold for mapping a block on its own. By default glibc raises it to the
 *   size of each big block freed (up to 32 MiB), after which a worker's tables and results
 *   come from its heap, which seldom shrinks: 20 million distinct IPv6 clients peaked at
 *   1.1 GB across crew's processes, ~0.9 GB with it.
 */
const CHILD_TUNABLES = ['glibc.malloc.hugetlb=1', 'glibc.malloc.mmap_threshold=1048576'];

/** The GLIBC_TUNABLES a child process starts with: the parent's, plus CHILD_TUNABLES. */
export function childTunables(parent: string | undefined): string {
  const own = parent ? parent.split(':') : [];
  for (const tunable of CHILD_TUNABLES) {
    const name = tunable.slice(0, tunable.indexOf('=') + 1);
    if (!own.some((given) => given.startsWith(name))) own.push(tunable);
  }
  return own.join(':');
}
