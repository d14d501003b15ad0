/**
 * The analyser half of the `logstats` section (the speed targets for panels,
 * `--by day`, JSON lines and IPv6): on one file of the bench's log set, crew's plain count,
 * `--by day`, `--panels all` and the same requests as nginx JSON lines, in turns so every
 * median covers the same stretch of a shared machine; GoAccess producing its panels
 * (`-o report.json`) once; crew's panels checked against an independent Python reference
 * (logstats_panels_ref.py); distinct IPv6 against distinct IPv4 clients, with the peak
 * memory of crew's whole process tree for 20 million distinct IPv6 clients; and 100,000
 * one-line files against the `find | xargs cat | awk | sort -u` pipeline.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runs as toolRuns, type AptTool } from './apt.ts';
import type { BenchContext } from './section.ts';
import { fixed, markdownTable, measure, median, type Measured } from './measure.ts';

interface Timing {
  readonly name: string;
  readonly ms: number;
  readonly mb: number;
  readonly lines: number;
  readonly rssMiB: number | undefined;
  readonly exact: string;
}

interface Reference {
  requests: number;
  status: Record<string, number>;
  paths: Record<string, [number, number, number]>;
  not_found: Record<string, number>;
  hours: Record<string, number>;
  bytes: number;
  agents: Record<string, number>;
  referrers: Record<string, number>;
}

interface Listed {
  key: string;
  requests: number;
  bytes?: number;
  clients?: number;
}

interface CrewPanels {
  status: { codes: Listed[] };
  paths: Listed[];
  not_found: Listed[];
  hours: Listed[];
  bytes: number;
  agents: Listed[];
  referrers: Listed[];
}

/** What the file's expected counts are (scripts/gen-logs.ts wrote them). */
export interface OneFile {
  readonly path: string;
  readonly lines: number;
  readonly ip: number;
}

export async function benchAnalyser(
  context: BenchContext,
  file: OneFile,
  runs: number,
): Promise<string> {
  const crew = context.crew;
  const rows: Timing[] = [];
  const notes: string[] = [];
  const mb = statSync(file.path).size / 1e6;

  // The reference, and the same requests as nginx JSON lines (written once, then kept).
  // Named by the source's size: the quick run's smaller file shares the scratch folder.
  const jsonPath = join(context.scratch, `analyser-${statSync(file.path).size}.jsonl`);
  let reference: Reference | undefined;
  try {
    context.log('logstats: the Python reference for the panels');
    const script = join(context.root, 'scripts/bench/logstats_panels_ref.py');
    const extra = existsSync(jsonPath) ? [] : ['--json-out', jsonPath];
    const began = performance.now();
    const out = execFileSync('python3', [script, file.path, ...extra], {
      maxBuffer: 1 << 28,
      encoding: 'utf8',
    });
    reference = JSON.parse(out) as Reference;
    if (extra.length === 0) {
      rows.push(timing('Python reference (panels)', performance.now() - began, mb, file, ''));
    }
  } catch (error) {
    notes.push(`The Python reference could not run (${(error as Error).message.split('\n')[0]}).`);
  }

  const base = (path: string) => [...crew.slice(1), 'logstats', path, '--json', '-w', '2'];
  const ipCheck = (stdout: string) => (readAll(stdout).ip === file.ip ? 'ip yes' : 'ip NO');
  const variants: { name: string; args: string[]; mb: number; check: (out: string) => string }[] = [
    { name: 'crew, plain count', args: base(file.path), mb, check: ipCheck },
    { name: 'crew --by day', args: [...base(file.path), '--by', 'day'], mb, check: ipCheck },
    {
      name: 'crew --panels all',
      args: [...base(file.path), '--panels', 'all', '--panel-rows', '1000'],
      mb,
      check: (out) => (reference ? comparePanels(out, reference) : 'no reference'),
    },
  ];
  if (existsSync(jsonPath)) {
    const jsonMb = statSync(jsonPath).size / 1e6;
    variants.push(
      {
        name: 'crew, same requests as JSON lines',
        args: base(jsonPath),
        mb: jsonMb,
        check: ipCheck,
      },
      {
        name: 'crew, JSON lines --by day',
        args: [...base(jsonPath), '--by', 'day'],
        mb: jsonMb,
        check: ipCheck,
      },
    );
  }
  context.log(`logstats: plain, --by day, --panels all and JSON lines, ${runs} rounds in turns`);
  const samples = await inTurns(
    variants.map((v) => () => measure(crew[0]!, v.args, { rss: true })),
    runs,
  );
  variants.forEach((v, i) => {
    const s = samples[i]!;
    rows.push({
      name: v.name,
      ms: median(s.map((m) => m.wallMs)),
      mb: v.mb,
      lines: file.lines,
      rssMiB: kib(s.at(-1)!.maxRssKiB),
      exact: s.at(-1)!.code === 0 ? v.check(s.at(-1)!.stdout) : `exit ${s.at(-1)!.code}`,
    });
  });

  let goaccess: Timing | undefined;
  if (toolRuns(GOACCESS)) {
    context.log('logstats: GoAccess with its panels (once)');
    const report = join(context.scratch, 'goaccess-report.json');
    const run = await measure(
      'goaccess',
      [file.path, '--log-format=COMBINED', '-o', report, '--no-progress'],
      { rss: true },
    );
    goaccess = timing('GoAccess -o report.json', run.wallMs, mb, file, `exit ${run.code}`);
    rows.push({ ...goaccess, rssMiB: kib(run.maxRssKiB) });
  } else {
    notes.push('GoAccess could not be had here (`apt-get install -y goaccess`): skipped.');
  }

  const ipv6 = await benchIpv6(context, runs, rows, notes);
  const many = await benchManyFiles(context, runs, rows);

  const byName = (name: string) => rows.find((r) => r.name === name);
  const plain = byName('crew, plain count')!;
  const ratios: string[][] = [
    [
      '`--by day` vs the plain count (time)',
      ratio(byName('crew --by day')!.ms, plain.ms),
      '<= 1.3x',
    ],
  ];
  const json = byName('crew, same requests as JSON lines');
  if (json) {
    ratios.push(['JSON lines vs combined (lines/s)', ratio(plain.ms, json.ms), '>= 0.5x']);
    const jsonDay = byName('crew, JSON lines --by day')!;
    ratios.push([
      'JSON lines `--by day` vs combined plain (lines/s)',
      ratio(plain.ms, jsonDay.ms),
      '',
    ]);
  }
  if (goaccess) {
    const panels = byName('crew --panels all')!;
    ratios.push([
      'GoAccess vs crew `--panels all` (time)',
      ratio(goaccess.ms, panels.ms),
      '>= 10x',
    ]);
  }
  ratios.push(...ipv6, ...many);

  const table = markdownTable(
    ['run', 'median ms', 'MB/s', 'lines/s', 'peak RSS MiB', 'exact'],
    rows.map((r) => [
      r.name,
      fixed(r.ms),
      fixed(r.mb / (r.ms / 1000), 0),
      `${fixed(r.lines / (r.ms / 1000) / 1e6, 2)} M`,
      r.rssMiB === undefined ? 'n/a' : fixed(r.rssMiB, 0),
      r.exact,
    ]),
  );
  return [
    `### The analyser: panels, \`--by day\`, JSON lines, IPv6`,
    '',
    `One file (${file.path.split('/').at(-1)}, ${fixed(mb, 0)} MB, ${file.lines} lines) on 2 workers; median of ${runs} rounds in turns after one warm-up. "exact" compares with the generator's counts or, for panels, with the Python reference (status codes, paths with bytes and clients, not-found, hours, bytes, agents, referrers).`,
    '',
    table,
    '',
    markdownTable(['ratio', 'measured', 'target'], ratios),
    ...notes.flatMap((note) => ['', note]),
  ].join('\n');
}

/** GoAccess, which the section installs with apt when missing (logstats.ts). */
export const GOACCESS: AptTool = { command: 'goaccess', package: 'goaccess', check: ['--version'] };

/** Distinct IPv6 against distinct IPv4 clients, 2 M lines each; 20 M IPv6 for memory. */
async function benchIpv6(
  context: BenchContext,
  runs: number,
  rows: Timing[],
  notes: string[],
): Promise<string[][]> {
  const count = context.quick ? 200_000 : 2_000_000;
  const v4 = join(context.scratch, `distinct-v4-${count}.log`);
  const v6 = join(context.scratch, `distinct-v6-${count}.log`);
  await writeDistinct(v4, count, false);
  await writeDistinct(v6, count, true);
  const args = (path: string) => [...context.crew.slice(1), 'logstats', path, '--json', '-w', '2'];
  context.log(`logstats: ${count} distinct IPv4 vs IPv6 clients, in turns`);
  const [s4, s6] = await inTurns(
    [v4, v6].map((path) => () => measure(context.crew[0]!, args(path), { treeRss: true })),
    runs,
  );
  const row = (name: string, path: string, s: Measured[], lines = count): Timing => ({
    name,
    ms: median(s.map((m) => m.wallMs)),
    mb: statSync(path).size / 1e6,
    lines,
    rssMiB: kib(s.at(-1)!.treeRssKiB),
    exact: readAll(s.at(-1)!.stdout).ip === lines ? 'ip yes' : 'ip NO',
  });
  const r4 = row(`crew, ${count} distinct IPv4 (RSS: all processes)`, v4, s4!);
  const r6 = row(`crew, ${count} distinct IPv6 (RSS: all processes)`, v6, s6!);
  rows.push(r4, r6);
  const ratios = [['IPv6 vs IPv4 (lines/s)', ratio(r4.ms, r6.ms), '>= 0.7x']];
  if (context.quick) return ratios;
  const many = 20_000_000;
  const big = join(context.scratch, `distinct-v6-${many}.log`);
  context.log(`logstats: ${many} distinct IPv6 clients in one file (memory)`);
  await writeDistinct(big, many, true);
  const run = await measure(context.crew[0]!, args(big), { treeRss: true, rss: true });
  if (run.code !== 0) notes.push(`The 20 M IPv6 run exited ${run.code}.`);
  const r = row(`crew, ${many} distinct IPv6 (RSS: all processes)`, big, [run], many);
  rows.push(r);
  ratios.push([
    '20 M distinct IPv6: peak RSS of all processes (MiB)',
    fixed(r.rssMiB ?? NaN, 0),
    '< 1024',
  ]);
  return ratios;
}

/**
 * Many servers rotate logs into many small files: 100,000 files of one line each (10,000
 * with --quick), from 50,000 clients, counted by crew and by the pipeline people use
 * (`find | xargs cat | awk | sort -u | wc -l`), in turns.
 */
async function benchManyFiles(
  context: BenchContext,
  runs: number,
  rows: Timing[],
): Promise<string[][]> {
  const count = context.quick ? 10_000 : 100_000;
  const clients = count / 2;
  const dir = join(context.scratch, `one-line-files-${count}`);
  const lineOf = (i: number): string => {
    const n = Math.imul((i % clients) + 1, 0x9e3779b1) >>> 0;
    const ip = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    return `${ip} - - [22/Mar/2021:10:00:00 +0000] "GET /${i} HTTP/1.1" 200 1 "-" "bench"\n`;
  };
  if (!existsSync(join(dir, `${count - 1}.log`))) {
    context.log(`logstats: writing ${count} one-line files`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `${i}.log`), lineOf(i));
  }
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += lineOf(i).length;
  const pipeline = `find '${dir}' -type f -print0 | xargs -0 cat | awk '{print $1}' | sort -u | wc -l`;
  const crewArgs = [...context.crew.slice(1), 'logstats', dir, '--json', '-w', '2'];
  context.log(`logstats: ${count} one-line files, crew and the pipeline in turns`);
  const [crew, piped] = await inTurns(
    [
      () => measure(context.crew[0]!, crewArgs, { treeRss: true }),
      () => measure('bash', ['-c', pipeline], { treeRss: true }),
    ],
    runs,
  );
  const row = (name: string, s: Measured[], ip: number): Timing => ({
    name,
    ms: median(s.map((m) => m.wallMs)),
    mb: bytes / 1e6,
    lines: count,
    rssMiB: kib(s.at(-1)!.treeRssKiB),
    exact: ip === clients ? 'ip yes' : 'ip NO',
  });
  const c = row(
    `crew, ${count} one-line files (RSS: all processes)`,
    crew!,
    readAll(crew!.at(-1)!.stdout).ip,
  );
  const p = row(
    'the pipeline (find, xargs cat, awk, sort -u), the same files',
    piped!,
    Number(piped!.at(-1)!.stdout.trim()),
  );
  rows.push(c, p);
  return [[`the pipeline vs crew, ${count} one-line files (time)`, ratio(p.ms, c.ms), '>= 1x']];
}

/** `count` lines, each from its own client (the multipliers are odd: bijections mod 2^32). */
async function writeDistinct(path: string, count: number, ipv6: boolean): Promise<void> {
  if (existsSync(path)) return;
  const out = createWriteStream(path);
  let batch = '';
  for (let i = 0; i < count; i++) {
    const n = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    const m = Math.imul(i + 7, 0x85ebca6b) >>> 0;
    const client = ipv6
      ? `2a01:4f8:${hex(n >>> 16)}:${hex(n & 0xffff)}:${hex(m >>> 16)}:${hex(m & 0xffff)}:0:1`
      : `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    batch += `${client} - - [22/Mar/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "bench"\n`;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}

/** Runs each job once per round, round after round; the first round is a warm-up. */
async function inTurns(jobs: (() => Promise<Measured>)[], rounds: number): Promise<Measured[][]> {
  const samples = jobs.map((): Measured[] => []);
  for (let round = 0; round <= rounds; round++) {
    for (const [i, job] of jobs.entries()) {
      const result = await job();
      if (round > 0) samples[i]!.push(result);
    }
  }
  return samples;
}

/** Where crew's panels differ from the reference, in a few words ('yes' when nowhere). */
function comparePanels(stdout: string, ref: Reference): string {
  const panels = (JSON.parse(stdout) as { all: { panels: CrewPanels } }).all.panels;
  const counts = (list: Listed[]) => Object.fromEntries(list.map((l) => [l.key, l.requests]));
  const differs: string[] = [];
  const same = (name: string, ours: unknown, theirs: unknown) => {
    if (JSON.stringify(sorted(ours)) !== JSON.stringify(sorted(theirs))) differs.push(name);
  };
  same('status', counts(panels.status.codes), ref.status);
  same(
    'paths',
    Object.fromEntries(panels.paths.map((p) => [p.key, [p.requests, p.bytes, p.clients]])),
    ref.paths,
  );
  same('not-found', counts(panels.not_found), ref.not_found);
  same('hours', counts(panels.hours), ref.hours);
  same('bytes', panels.bytes, ref.bytes);
  same('agents', counts(panels.agents), ref.agents);
  same('referrers', counts(panels.referrers), ref.referrers);
  return differs.length === 0 ? 'panels yes' : `NO: ${differs.join(', ')}`;
}

function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function readAll(stdout: string): { ip: number } {
  try {
    return (JSON.parse(stdout) as { all: { ip: number } }).all;
  } catch {
    return { ip: -1 };
  }
}

function timing(name: string, ms: number, mb: number, file: OneFile, exact: string): Timing {
  return { name, ms, mb, lines: file.lines, rssMiB: undefined, exact };
}

const hex = (n: number) => n.toString(16);
const kib = (value: number | undefined) => (value === undefined ? undefined : value / 1024);
const ratio = (a: number, b: number) => `${fixed(a / b, 2)}x`;
