/**
 * The `sum` section: crew sum at 1e8 and 1e9 over runtimes and worker counts, side by side
 * with the tutorial's Python (serial and two processes) and a C loop built with cc -O1; and
 * the same count of numbers at the ends of int64, which must not be slower than around 0.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median, repeat } from './measure.ts';

interface Row {
  readonly tool: string;
  readonly n: string;
  readonly workers: number;
  readonly medianMs: number;
  /** Whole command, including process and pool start-up. */
  readonly wallMs: number;
  readonly result: string;
}

export async function benchSum(context: BenchContext): Promise<BenchSection> {
  const runs = context.quick ? 2 : 5;
  const sizes = context.quick ? ['1e8'] : ['1e8', '1e9'];
  const expected: Record<string, string> = {
    '1e8': '4999999950000000',
    '1e9': '499999999500000000',
  };
  // The largest numbers int64 holds, and the smallest: [2^63-1-n, 2^63-1), [-2^63, -2^63+n).
  const INT64_MAX = 2n ** 63n - 1n;
  const edges = sizes.flatMap((n) => {
    const count = BigInt(Number(n));
    return [
      { n: `${n} below 2^63`, start: INT64_MAX - count, end: INT64_MAX },
      { n: `${n} from -2^63`, start: -INT64_MAX - 1n, end: -INT64_MAX - 1n + count },
    ];
  });
  for (const { n, start, end } of edges) {
    expected[n] = String(((end - start) * (start + end - 1n)) / 2n);
  }
  const rows: Row[] = [];

  const timed = async (tool: string, n: string, workers: number, argv: string[], times = runs) => {
    context.log(`sum: ${tool} ${n} x${workers}`);
    const results = await repeat(times, () => measure(argv[0]!, argv.slice(1)), times > 1 ? 1 : 0);
    const docs = results.map((r) => {
      if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { result: string; ms: number };
    });
    const row: Row = {
      tool,
      n,
      workers,
      medianMs: median(docs.map((d) => d.ms)),
      wallMs: median(results.map((r) => r.wallMs)),
      result: docs[0]!.result,
    };
    if (row.result !== expected[n]) throw new Error(`${tool} ${n} gave ${row.result}`);
    rows.push(row);
    return row;
  };

  for (const n of sizes) {
    await timed('crew inline', n, 1, [...context.crew, 'sum', n, '--runtime', 'inline', '--json']);
    for (const runtime of ['thread', 'process']) {
      for (const workers of [1, 2]) {
        await timed(`crew ${runtime}`, n, workers, [
          ...context.crew,
          'sum',
          n,
          '--runtime',
          runtime,
          '--workers',
          String(workers),
          '--json',
        ]);
      }
    }
  }

  // Numbers near the ends of int64 once ran ~100x slower than around 0 (blocks of one).
  for (const { n, start, end } of edges) {
    await timed('crew thread', n, 2, [
      ...context.crew,
      'sum',
      '--start',
      String(start),
      '--end',
      String(end),
      '--runtime',
      'thread',
      '--workers',
      '2',
      '--json',
    ]);
  }

  let cc: string | undefined;
  try {
    cc = join(context.scratch, 'sum-loop');
    execFileSync('cc', ['-O1', '-o', cc, join(context.root, 'scripts/bench/sum-loop.c')]);
  } catch {
    cc = undefined;
    context.log('sum: no C compiler, skipping the C baseline');
  }
  if (cc) for (const n of sizes) await timed('C loop (cc -O1)', n, 1, [cc, n]);

  const python = join(context.root, 'scripts/bench/tutorial_sum.py');
  // The tutorial's serial loop takes seconds at 1e8 (over a minute at 1e9): time it once.
  await timed('Python serial (tutorial)', '1e8', 1, ['python3', python, 'serial', '1e8'], 1);
  await timed(
    'Python 2 processes (tutorial)',
    '1e8',
    2,
    ['python3', python, 'split', '1e8'],
    context.quick ? 1 : 3,
  );

  const mhz = cpuMhz();
  const find = (tool: string, n: string, workers: number): Row | undefined =>
    rows.find((r) => r.tool === tool && r.n === n && r.workers === workers);
  const big = sizes.at(-1)!;
  const thread1 = find('crew thread', big, 1);
  const thread2 = find('crew thread', big, 2);
  const c = find('C loop (cc -O1)', big, 1);
  const nearMax = find('crew thread', `${big} below 2^63`, 2);
  const nearMin = find('crew thread', `${big} from -2^63`, 2);
  const count = Number(big);
  const ratios = {
    n: big,
    cpuMhz: mhz,
    addsPerCycleOneWorker: thread1 && mhz ? count / (thread1.medianMs * 1e-3) / (mhz * 1e6) : NaN,
    addsPerCycleC: c && mhz ? count / (c.medianMs * 1e-3) / (mhz * 1e6) : NaN,
    twoWorkersOverOne: thread1 && thread2 ? thread1.medianMs / thread2.medianMs : NaN,
    twoWorkersOverC: c && thread2 ? c.medianMs / thread2.medianMs : NaN,
    twoWorkersOverOneWall: thread1 && thread2 ? thread1.wallMs / thread2.wallMs : NaN,
    int64EndsOverZero:
      thread2 && nearMax && nearMin
        ? Math.max(nearMax.medianMs, nearMin.medianMs) / thread2.medianMs
        : NaN,
  };

  const markdown = [
    `Median of ${runs} runs after one warm-up (Python serial: one run). "work ms" is the`,
    'computation as each tool reports it (crew: from workers ready to combined result);',
    '"wall ms" is the whole command, process and pool start-up included.',
    '',
    markdownTable(
      ['tool', 'N', 'workers', 'work ms', 'wall ms', 'result'],
      rows.map((r) => [
        r.tool,
        r.n,
        String(r.workers),
        fixed(r.medianMs),
        fixed(r.wallMs),
        r.result,
      ]),
    ),
    '',
    markdownTable(
      ['ratio (N = ' + big + ')', 'measured', 'target'],
      [
        [
          'crew additions per clock cycle, 1 worker',
          fixed(ratios.addsPerCycleOneWorker, 2),
          '>= 1',
        ],
        ['C -O1 additions per clock cycle', fixed(ratios.addsPerCycleC, 2), '(baseline)'],
        ['crew 2 workers vs 1 (work)', `${fixed(ratios.twoWorkersOverOne, 2)}x`, '>= 1.8x'],
        ['crew 2 workers vs 1 (wall)', `${fixed(ratios.twoWorkersOverOneWall, 2)}x`, ''],
        ['crew 2 workers vs C single-threaded', `${fixed(ratios.twoWorkersOverC, 2)}x`, '>= 1.5x'],
        [
          'crew 2 workers, ends of int64 vs around 0 (time)',
          `${fixed(ratios.int64EndsOverZero, 2)}x`,
          '<= 1.2x',
        ],
      ],
    ),
    '',
    `CPU clock read from /proc/cpuinfo: ${mhz ? `${fixed(mhz, 0)} MHz` : 'unknown'}.`,
  ].join('\n');
  return { title: 'crew sum', markdown, data: { rows, ratios } };
}

function cpuMhz(): number | undefined {
  try {
    const match = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
