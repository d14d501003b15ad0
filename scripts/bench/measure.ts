/** Running commands for the benchmarks: wall time, peak RSS, parsed JSON output. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';

export interface Measured {
  readonly wallMs: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set size in KiB (from GNU time when available, else undefined). */
  readonly maxRssKiB: number | undefined;
  /** User plus system CPU time in ms (GNU time, with `rss`): steadier than wall time on a busy machine. */
  readonly cpuMs?: number | undefined;
  /** With `treeRss`: the peak of the RSS of the command and all its descendants summed. */
  readonly treeRssKiB: number | undefined;
}

/** Pids of `pid` and every process below it, from /proc (Linux). */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${all[i]}/task`)) {
        const children = readFileSync(`/proc/${all[i]}/task/${task}/children`, 'utf8');
        for (const child of children.split(' ').filter(Boolean)) all.push(Number(child));
      }
    } catch {
      // the process ended between two reads
    }
  }
  return all;
}

/** Resident KiB of `pid` and its descendants now (worker threads share their process's). */
function treeRss(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      sum += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return sum;
}

/**
 * Runs a command to completion; with `shell` the command is one string for `sh -c`; with
 * `feed`, stdin is a pipe that `feed` writes (the run's time includes it) and then closes.
 */
export function measure(
  command: string,
  args: readonly string[] = [],
  options: {
    readonly shell?: boolean;
    readonly cwd?: string;
    readonly rss?: boolean;
    /** Sample the RSS of the whole process tree every 20 ms and keep the peak. */
    readonly treeRss?: boolean;
    readonly env?: Readonly<Record<string, string>>;
    readonly feed?: (stdin: Writable) => Promise<void>;
    /** Kill the command and everything it started after this long (the run then failed). */
    readonly timeoutMs?: number;
  } = {},
): Promise<Measured> {
  const argv = options.shell ? ['sh', '-c', command] : [command, ...args];
  const withTime = options.rss ? ['/usr/bin/time', '-f', 'crew-bench-rss:%M:%U:%S', ...argv] : argv;
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(withTime[0]!, withTime.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      // Its own process group, so that a timeout kills what it started too.
      detached: options.timeoutMs !== undefined,
    });
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
            } catch {
              // it ended just now
            }
          }, options.timeoutMs);
    let peak = 0;
    const sampler = options.treeRss
      ? setInterval(() => {
          if (child.pid !== undefined) peak = Math.max(peak, treeRss(child.pid));
        }, 20)
      : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    options.feed?.(child.stdin).then(() => child.stdin.end(), reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      clearTimeout(deadline);
      const wallMs = performance.now() - began;
      const rss = /crew-bench-rss:(\d+):([\d.]+):([\d.]+)/.exec(stderr);
      resolve({
        wallMs,
        code,
        stdout,
        stderr: stderr.replace(/crew-bench-rss:[\d.:]+\n?/, ''),
        maxRssKiB: rss ? Number(rss[1]) : undefined,
        cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : undefined,
        treeRssKiB: options.treeRss ? peak : undefined,
      });
    });
  });
}

export { median } from '../../src/ui/format.ts';

/** Runs `once` `repeat` times after `warmup` untimed runs; returns every result. */
export async function repeat<T>(times: number, once: () => Promise<T>, warmup = 1): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await once();
  const results: T[] = [];
  for (let i = 0; i < times; i++) results.push(await once());
  return results;
}

export const fixed = (x: number, digits = 1): string =>
  Number.isFinite(x) ? x.toFixed(digits) : 'n/a';

/** A markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
