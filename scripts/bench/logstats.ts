/**
 * The `logstats` section: crew on a generated ~800 MB, 8-day combined log set, side by side
 * with `mawk '{print $1}' | sort -u | wc -l` (each file in turn, and two at a time), GoAccess
 * when installed, and `wc -l` (the memory-speed floor); one ~100 MB file with 1 and 2
 * workers; and peak memory for 10 million distinct IPv4 clients in one file.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median, repeat } from './measure.ts';
import { ensureTools, runs as toolRuns, type AptTool } from './apt.ts';
import { benchAnalyser, GOACCESS } from './logstats-analyser.ts';

interface Expected {
  files: { file: string; total: number; ip: number; malformed: number }[];
  all: { total: number; ip: number };
}

interface Row {
  readonly tool: string;
  readonly ms: number;
  readonly mbPerS: number;
  readonly linesPerS: number;
  readonly maxRssMiB: number | undefined;
  /** Median CPU time (user + system), where measured. */
  readonly cpuMs?: number | undefined;
  readonly exact: string;
}

/** What the section compares crew with, besides the C loop it compiles (cc). */
const TOOLS: readonly AptTool[] = [
  GOACCESS,
  { command: 'mawk', package: 'mawk', check: ['-W', 'version'] },
  { command: 'cc', package: 'gcc', check: ['--version'] },
];

export async function benchLogstats(context: BenchContext): Promise<BenchSection> {
  // What cannot be had is said once, under the section's table.
  const missing = ensureTools(TOOLS, 'logstats', context.log);
  const runs = context.quick ? 1 : 3;
  const lines = context.quick ? 60_000 : 620_000;
  const dir = join(context.scratch, context.quick ? 'logs-quick' : 'logs');
  if (!existsSync(join(dir, '.expected.json'))) {
    context.log(`logstats: generating ${dir} (seeded)`);
    execFileSync(
      process.execPath,
      [
        join(context.root, 'scripts/gen-logs.ts'),
        '--out',
        dir,
        '--lines',
        String(lines),
        '--ips',
        String(lines * 4),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  const expected = JSON.parse(readFileSync(join(dir, '.expected.json'), 'utf8')) as Expected;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, f));
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  // Page the files in once so every tool reads from memory, as the wc -l floor does.
  execFileSync('cat', files, { stdio: ['ignore', 'ignore', 'inherit'] });
  const rows: Row[] = [];

  const timed = async (
    tool: string,
    command: string,
    args: readonly string[],
    options: {
      once?: boolean;
      shell?: boolean;
      check?: (stdout: string) => string;
      mb?: number;
      lineCount?: number;
    } = {},
  ): Promise<Row> => {
    context.log(`logstats: ${tool}`);
    // Slow tools (GoAccess takes tens of seconds) run once, without a warm-up.
    const results = await repeat(
      options.once ? 1 : runs,
      () => measure(command, args, { shell: options.shell ?? false, rss: true }),
      options.once ? 0 : 1,
    );
    const last = results.at(-1)!;
    if (last.code !== 0 && last.code !== null) {
      context.log(`logstats: ${tool} exited ${last.code}: ${last.stderr.slice(0, 200)}`);
    }
    const ms = median(results.map((r) => r.wallMs));
    const mb = options.mb ?? bytes / 1e6;
    const row: Row = {
      tool,
      ms,
      mbPerS: mb / (ms / 1000),
      linesPerS: (options.lineCount ?? expected.all.total) / (ms / 1000),
      maxRssMiB: last.maxRssKiB === undefined ? undefined : last.maxRssKiB / 1024,
      cpuMs: last.cpuMs === undefined ? undefined : median(results.map((r) => r.cpuMs ?? NaN)),
      exact: options.check ? options.check(last.stdout) : '',
    };
    rows.push(row);
    return row;
  };

  const crewCheck = (stdout: string): string => {
    const doc = JSON.parse(stdout) as Expected;
    const same =
      doc.all.total === expected.all.total &&
      doc.all.ip === expected.all.ip &&
      doc.files.every(
        (f, i) => f.total === expected.files[i]?.total && f.ip === expected.files[i]?.ip,
      );
    return same ? 'yes (all files and union)' : 'NO';
  };
  const crew = context.crew;
  const crewAll = await timed(
    'crew logstats (2 processes)',
    crew[0]!,
    [...crew.slice(1), 'logstats', dir, '--json', '-w', '2'],
    { check: crewCheck },
  );
  await timed(
    'crew logstats (2 threads)',
    crew[0]!,
    [...crew.slice(1), 'logstats', dir, '--json', '-w', '2', '--runtime', 'thread'],
    { check: crewCheck },
  );
  const crewOne = await timed(
    'crew logstats (1 process)',
    crew[0]!,
    [...crew.slice(1), 'logstats', dir, '--json', '-w', '1'],
    { check: crewCheck },
  );

  // The awk pipeline counts distinct first fields: equal to crew's ip where no line has a
  // forwarded-for list, an IPv6 spelling variant, or garbage; the generator writes those on
  // purpose, so the pipeline's numbers are shown, not checked.
  const quoted = files.map((f) => `'${f}'`).join(' ');
  const awkInTurn = await timed(
    'mawk | sort -u | wc -l, files in turn',
    `for f in ${quoted}; do mawk '{print $1}' "$f" | LC_ALL=C sort -u | wc -l; done`,
    [],
    { shell: true, check: () => 'n/a (other rule)' },
  );
  const awkPair = await timed(
    'same, two files at a time (xargs -P2)',
    `printf '%s\\n' ${quoted} | xargs -P2 -I{} sh -c "mawk '{print \\$1}' {} | LC_ALL=C sort -u | wc -l"`,
    [],
    { shell: true, check: () => 'n/a (other rule)' },
  );
  if (toolRuns(GOACCESS)) {
    await timed(
      'GoAccess, one file',
      'goaccess',
      [files[0]!, '--log-format=COMBINED', '-o', '/dev/null'],
      {
        mb: statSync(files[0]!).size / 1e6,
        lineCount: expected.files[0]!.total,
        check: () => 'n/a',
        once: true,
      },
    );
  }
  await timed('wc -l (the floor)', 'wc', ['-l', ...files], { check: () => '' });

  // The yardstick: the same job as a plain C loop on one core (scripts/bench/logstats-ref.c).
  const ref = compileReference(context);
  const cRow = ref.binary
    ? await timed('plain C, one core (mmap, memchr, uint32 set)', ref.binary, files, {
        check: (stdout) => {
          const doc = JSON.parse(stdout) as { all: { total: number } };
          return doc.all.total === expected.all.total ? 'lines yes; IPv4 only' : 'NO';
        },
      })
    : undefined;

  // The C yardstick again, in turns with crew on 2 workers: the rows above run each tool's
  // runs one after another, and on a shared machine a minute's drift decides the ratio.
  async function versusC(binary: string, times: number) {
    context.log('logstats: plain C and crew (2 processes), in turns');
    const args = [...crew.slice(1), 'logstats', dir, '--json', '-w', '2'];
    const c: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i <= times; i++) {
      const cRun = await measure(binary, files);
      const crewRun = await measure(crew[0]!, args);
      if (i === 0) continue; // warm-up
      c.push(cRun.wallMs);
      ours.push(crewRun.wallMs);
    }
    return { c: median(c), crew: median(ours), rounds: times };
  }
  const alternated = ref.binary ? await versusC(ref.binary, runs * 2 + 1) : undefined;

  // One file: does a second worker help when there is only one file? The machine is shared
  // and drifts, so the runs alternate (1 worker, 2 workers, both alone and side by side)
  // and each median is over the same stretch of time. "Side by side" is two 1-worker runs
  // of the same job at once: the most any split of one run could gain on this machine.
  const oneFile = async (path: string, mb: number, lineCount: number, times: number) => {
    const args = (w: string) => [...crew.slice(1), 'logstats', path, '--json', '-w', w];
    const samples: { w1: number[]; w2: number[]; pair: number[] } = { w1: [], w2: [], pair: [] };
    let rss = { w1: 0, w2: 0 };
    for (let i = 0; i <= times; i++) {
      const w1 = await measure(crew[0]!, args('1'), { rss: true });
      const w2 = await measure(crew[0]!, args('2'), { rss: true });
      const began = performance.now();
      await Promise.all([measure(crew[0]!, args('1')), measure(crew[0]!, args('1'))]);
      if (i === 0) continue; // warm-up
      samples.w1.push(w1.wallMs);
      samples.w2.push(w2.wallMs);
      samples.pair.push(performance.now() - began);
      rss = { w1: w1.maxRssKiB ?? 0, w2: w2.maxRssKiB ?? 0 };
    }
    const row = (tool: string, ms: number, kib: number): Row => ({
      tool,
      ms,
      mbPerS: mb / (ms / 1000),
      linesPerS: lineCount / (ms / 1000),
      maxRssMiB: kib / 1024,
      exact: '',
    });
    const name = `crew, one ${fixed(mb, 0)} MB file`;
    const w1 = row(`${name}, 1 worker`, median(samples.w1), rss.w1);
    const w2 = row(`${name}, 2 workers`, median(samples.w2), rss.w2);
    rows.push(w1, w2);
    // Two files' work in the pair's time, against one file's in the lone 1-worker run's.
    const ceiling = (2 * median(samples.w1)) / median(samples.pair);
    return { speedup: w1.ms / w2.ms, ceiling };
  };
  context.log('logstats: one file, 1 vs 2 workers, and two 1-worker runs side by side');
  const single = await oneFile(
    files[0]!,
    statSync(files[0]!).size / 1e6,
    expected.files[0]!.total,
    runs * 2 + 1,
  );
  // The whole set as one file, where start-up is a small part of the run.
  let big: { speedup: number; ceiling: number } | undefined;
  if (!context.quick) {
    const joined = join(context.scratch, 'logs-joined.log');
    if (!existsSync(joined) || statSync(joined).size !== bytes) {
      context.log(`logstats: writing ${joined}`);
      execFileSync('sh', ['-c', `cat ${files.map((f) => `'${f}'`).join(' ')} > '${joined}'`]);
    }
    context.log('logstats: one big file, 1 vs 2 workers');
    big = await oneFile(joined, bytes / 1e6, expected.all.total, runs);
  }

  // 10 million distinct IPv4 clients in one file: the memory bound.
  let rssRow: Row | undefined;
  if (!context.quick) {
    const distinct = join(context.scratch, 'distinct-10m.log');
    const count = 10_000_000;
    if (!existsSync(distinct)) {
      context.log('logstats: writing 10 million distinct clients');
      const out = createWriteStream(distinct);
      let batch = '';
      for (let i = 0; i < count; i++) {
        // Multiplying by an odd constant mod 2^32 is a bijection: every address is distinct.
        const n = Math.imul(i + 1, 0x9e3779b1) >>> 0;
        batch += `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255} - - [x] "GET / HTTP/1.1" 200 1\n`;
        if (batch.length > 1 << 20) {
          if (!out.write(batch)) await once(out, 'drain');
          batch = '';
        }
      }
      out.end(batch);
      await once(out, 'finish');
    }
    rssRow = await timed(
      'crew, 10 million distinct IPv4 in one file',
      crew[0]!,
      [...crew.slice(1), 'logstats', distinct, '--json'],
      {
        mb: statSync(distinct).size / 1e6,
        lineCount: count,
        check: (stdout) => ((JSON.parse(stdout) as Expected).all.ip === count ? 'yes' : 'NO'),
      },
    );
  }

  const analyser = await benchAnalyser(
    context,
    { path: files[0]!, lines: expected.files[0]!.total, ip: expected.files[0]!.ip },
    runs,
  );

  const table = markdownTable(
    ['tool', 'median ms', 'CPU ms', 'MB/s', 'lines/s', 'peak RSS MiB', 'exact counts'],
    rows.map((r) => [
      r.tool.replaceAll('|', '\\|'),
      fixed(r.ms),
      r.cpuMs === undefined ? '' : fixed(r.cpuMs, 0),
      fixed(r.mbPerS, 0),
      fixed(r.linesPerS / 1e6, 2) + ' M',
      r.maxRssMiB === undefined ? 'n/a' : fixed(r.maxRssMiB, 0),
      r.exact,
    ]),
  );
  const ratios = markdownTable(
    ['ratio', 'measured', 'target'],
    [
      ['crew vs awk pipeline, files in turn', `${fixed(awkInTurn.ms / crewAll.ms, 2)}x`, '>= 2x'],
      ['crew vs awk pipeline, two at a time', `${fixed(awkPair.ms / crewAll.ms, 2)}x`, '> 1x'],
      ...(cRow
        ? [
            [
              'plain C on one core vs crew on 2 workers (time ratio)',
              `${fixed(cRow.ms / crewAll.ms, 2)}x`,
              '>= 1x',
            ],
            ...(alternated
              ? [
                  [
                    `the same, ${alternated.rounds} rounds in turns (C ${fixed(alternated.c, 0)} ms, crew ${fixed(alternated.crew, 0)} ms)`,
                    `${fixed(alternated.c / alternated.crew, 2)}x`,
                    '>= 1x',
                  ],
                ]
              : []),
            [
              // CPU time, not wall: on a shared machine both wait for cores alike.
              'plain C on one core vs crew on 1 worker (CPU time ratio)',
              `${fixed((cRow.cpuMs ?? NaN) / (crewOne.cpuMs ?? NaN), 2)}x`,
              '1x is C speed per core',
            ],
          ]
        : []),
      [
        'this machine, two 1-worker runs at once vs one alone (throughput)',
        `${fixed(single.ceiling, 2)}x`,
        'the ceiling for any 2-worker speed-up',
      ],
      ...(big
        ? [
            [
              `one ${fixed(bytes / 1e6, 0)} MB file (the set joined): 2 workers vs 1`,
              `${fixed(big.speedup, 2)}x`,
              `>= 1.8x (ceiling here ${fixed(big.ceiling, 2)}x)`,
            ],
            [
              'the same as a share of the ceiling',
              `${fixed((100 * big.speedup) / big.ceiling, 0)}%`,
              '>= 90%',
            ],
          ]
        : []),
      ...(rssRow
        ? [['10M distinct IPv4: peak RSS (MiB)', fixed(rssRow.maxRssMiB ?? NaN, 0), '< 300']]
        : []),
    ],
  );
  const setNote = `${files.length} files, ${fixed(bytes / 1e6, 0)} MB, ${expected.all.total} lines, ${expected.all.ip} distinct clients (scripts/gen-logs.ts, seeded). Median of ${runs} run(s) after one warm-up; wall time of the whole command; peak RSS of the largest process (GNU time).`;
  return {
    title: 'crew logstats',
    markdown: [
      setNote,
      '',
      table,
      '',
      ratios,
      ...[...missing, ref.note].filter((note) => note !== '').flatMap((note) => ['', note]),
      '',
      analyser,
    ].join('\n'),
    data: { bytes, lines: expected.all.total, clients: expected.all.ip, rows },
  };
}

/** Builds the C reference with the system's compiler; says so when there is none. */
function compileReference(context: BenchContext): { binary: string | undefined; note: string } {
  const binary = join(context.scratch, 'logstats-ref');
  const source = join(context.root, 'scripts/bench/logstats-ref.c');
  try {
    execFileSync('cc', ['-O2', '-o', binary, source], { stdio: ['ignore', 'ignore', 'inherit'] });
    return { binary, note: '' };
  } catch {
    return {
      binary: undefined,
      note: 'No C compiler here (`apt-get install gcc`), so the plain C reference was skipped.',
    };
  }
}
