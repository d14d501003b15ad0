/**
 * The `dataset` section (issue 33): what building an image dataset costs over plain files.
 *   1. The same list from a loopback server into files and into webdataset shards: rows/s
 *      and the peak RSS of crew and its workers (a shard's tar is streamed, not held, so
 *      the peaks should match).
 *   2. The same rows as CSV and as parquet, at a closed port (nothing fetched: crew's per-row
 *      cost, where reading shows most), and `--dry-run` on each (the reading alone): time
 *      and peak RSS.
 *   3. A million rows as CSV and as parquet fetched from the loopback server into shards, as
 *      a dataset builder runs them: what reading the list costs of a run that fetches it, and
 *      whether parquet stays under the memory ceiling a CSV of the same rows has.
 * Runs the release, dist/crew (its V8 flags are part of what is measured), alternating the
 * two sides of each comparison so a noisy machine hurts both alike.
 */
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median } from './measure.ts';

interface Timed {
  readonly what: string;
  readonly rows: number;
  readonly ms: number;
  readonly peakMiB: number;
}

export async function benchDataset(context: BenchContext): Promise<BenchSection> {
  const dir = join(context.scratch, 'dataset');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const shards = await filesAgainstShards(context, dir);
  const input = await csvAgainstParquet(context, dir);
  const fetched = await parquetFetched(context, dir);
  await rm(dir, { recursive: true, force: true });
  const row = (t: Timed): string[] => [
    t.what,
    String(t.rows),
    fixed(t.ms / 1000, 2),
    String(Math.round(t.rows / (t.ms / 1000))),
    fixed(t.peakMiB, 0),
  ];
  const ratio = (a: Timed | undefined, b: Timed | undefined, key: 'ms' | 'peakMiB'): string =>
    a && b ? fixed(a[key] / b[key], 2) : 'n/a';
  const [files, web] = shards;
  const [csv, parquet, csvDry, parquetDry] = input;
  const [csvFetched, parquetFetchedRun, fetchedDry] = fetched;
  const under = (t: Timed | undefined): string =>
    t ? (t.peakMiB < CEILING_MIB ? 'under' : 'over') : 'n/a';
  const markdown = [
    markdownTable(
      ['run (median)', 'rows', 's', 'rows/s', 'peak MiB'],
      [...shards, ...input, ...fetched].map(row),
    ),
    '',
    `webdataset / files: time x${ratio(web, files, 'ms')}, peak RSS x${ratio(web, files, 'peakMiB')} (goal: within 1.10).`,
    `parquet / CSV: time x${ratio(parquet, csv, 'ms')}, peak RSS x${ratio(parquet, csv, 'peakMiB')}; ` +
      `reading the parquet alone (--dry-run) is ${parquet && parquetDry ? fixed((100 * parquetDry.ms) / parquet.ms, 0) : 'n/a'}% ` +
      `of a run whose rows all fail at once (the CSV: ${csv && csvDry ? fixed((100 * csvDry.ms) / csv.ms, 0) : 'n/a'}%).`,
    `Fetched into shards: reading the parquet (--dry-run) is ` +
      `${parquetFetchedRun && fetchedDry ? fixed((100 * fetchedDry.ms) / parquetFetchedRun.ms, 1) : 'n/a'}% ` +
      `of the run that fetches its rows (goal: < 10%); peak RSS parquet ${under(parquetFetchedRun)}, ` +
      `CSV ${under(csvFetched)} the ${CEILING_MIB} MiB ceiling (parquet / CSV x${ratio(parquetFetchedRun, csvFetched, 'peakMiB')}).`,
  ].join('\n');
  return {
    title: 'Datasets: webdataset shards, parquet input',
    markdown,
    data: { shards, input, fetched },
  };
}

/** What a million rows of a CSV may cost in memory (BENCHMARKS.md, the download section). */
const CEILING_MIB = 200;

/** The same list into files and into webdataset shards, from a fast loopback server. */
async function filesAgainstShards(context: BenchContext, dir: string): Promise<Timed[]> {
  const rows = context.quick ? 20_000 : 100_000;
  const runs = context.quick ? 1 : 3;
  const { server, base } = await imageServer();
  const list = join(dir, 'list.csv');
  await writeFile(
    list,
    Array.from({ length: rows }, (_, i) => `${i},caption ${i},${base}/img/${i}.png\n`).join(''),
  );
  const sides: [string, string[]][] = [
    ['files (flat)', []],
    ['webdataset, shards of 10,000', ['--output-format', 'webdataset', '--caption-column', '2']],
  ];
  const times = sides.map(() => [] as { ms: number; peak: number }[]);
  try {
    for (let i = 0; i < runs; i++) {
      for (const [s, [what, extra]] of sides.entries()) {
        context.log(`dataset: ${rows} rows, ${what} (${i + 1}/${runs})`);
        times[s]!.push(await timedRun(context, dir, what, list, extra));
      }
    }
  } finally {
    server.close();
    await rm(join(dir, 'out'), { recursive: true, force: true });
  }
  return mediansOf(sides, times, rows);
}

/** The same rows as CSV and parquet, to a closed port: full runs, then --dry-run. */
async function csvAgainstParquet(context: BenchContext, dir: string): Promise<Timed[]> {
  const rows = context.quick ? 100_000 : 1_000_000;
  const runs = context.quick ? 1 : 3;
  const port = await closedPort();
  context.log(`dataset: writing ${rows} rows as CSV and parquet`);
  const { csv, parquet } = await writeLists(dir, 'rows', rows, `http://127.0.0.1:${port}`);
  const sides: [string, string, string[]][] = [
    ['CSV, rows to a closed port', csv, ['--retries', '0']],
    ['parquet, rows to a closed port', parquet, ['--retries', '0']],
    ['CSV, --dry-run', csv, ['--dry-run']],
    ['parquet, --dry-run', parquet, ['--dry-run']],
  ];
  const times = sides.map(() => [] as { ms: number; peak: number }[]);
  for (let i = 0; i < runs; i++) {
    for (const [s, [what, file, extra]] of sides.entries()) {
      context.log(`dataset: ${rows} rows, ${what} (${i + 1}/${runs})`);
      // Exit 1: every row failed, as these rows must.
      times[s]!.push(await timedRun(context, dir, what, file, extra, [0, 1]));
    }
  }
  await rm(join(dir, 'out'), { recursive: true, force: true });
  return mediansOf(sides, times, rows);
}

/**
 * A million rows as CSV and as parquet, fetched from a loopback server into webdataset shards
 * (once each: a run is minutes), and the parquet's `--dry-run` (median of 3): the share of a
 * real run that reading the list costs, and both runs' peaks against the 200 MiB ceiling.
 */
async function parquetFetched(context: BenchContext, dir: string): Promise<Timed[]> {
  const rows = context.quick ? 100_000 : 1_000_000;
  const { server, base } = await imageServer();
  try {
    context.log(`dataset: writing ${rows} rows to fetch as CSV and parquet`);
    const { csv, parquet } = await writeLists(dir, 'fetched', rows, base);
    const sides: [string, string, string[], number][] = [
      ['CSV, fetched into shards', csv, FETCH, 1],
      ['parquet, fetched into shards', parquet, FETCH, 1],
      ['parquet of those rows, --dry-run', parquet, ['--dry-run'], context.quick ? 1 : 3],
    ];
    const times = sides.map(() => [] as { ms: number; peak: number }[]);
    for (const [s, [what, file, extra, runs]] of sides.entries()) {
      for (let i = 0; i < runs; i++) {
        context.log(`dataset: ${rows} rows, ${what} (${i + 1}/${runs})`);
        times[s]!.push(await timedRun(context, dir, what, file, extra));
      }
    }
    return mediansOf(sides, times, rows);
  } finally {
    server.close();
    await rm(join(dir, 'out'), { recursive: true, force: true });
  }
}

const FETCH = ['--output-format', 'webdataset', '--caption-column', 'caption'];

/** `rows` rows of `url,caption` under `base`, written as `<name>.csv` and `<name>.parquet`. */
async function writeLists(
  dir: string,
  name: string,
  rows: number,
  base: string,
): Promise<{ csv: string; parquet: string }> {
  const urls = Array.from({ length: rows }, (_, i) => `${base}/img/${i}.jpg`);
  const captions = Array.from({ length: rows }, (_, i) => `a caption for row ${i} with words`);
  const csv = join(dir, `${name}.csv`);
  const parquet = join(dir, `${name}.parquet`);
  await writeFile(csv, `url,caption\n${urls.map((u, i) => `${u},${captions[i]!}\n`).join('')}`);
  await writeFile(
    parquet,
    new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'url', data: urls, type: 'STRING' },
          { name: 'caption', data: captions, type: 'STRING' },
        ],
      }),
    ),
  );
  return { csv, parquet };
}

/** One run of the release on `list` into a fresh `<dir>/out`: its time and peak RSS. */
async function timedRun(
  context: BenchContext,
  dir: string,
  what: string,
  list: string,
  extra: readonly string[],
  expected: readonly number[] = [0],
): Promise<{ ms: number; peak: number }> {
  await rm(join(dir, 'out'), { recursive: true, force: true });
  const run = await measure(
    release(context),
    ['download', list, '-o', join(dir, 'out'), '--quiet', '--json', ...extra],
    { treeRss: true },
  );
  if (!expected.includes(run.code ?? -1)) {
    context.log(`dataset: ${what} exited ${run.code}: ${run.stderr}`);
  }
  return { ms: run.wallMs, peak: (run.treeRssKiB ?? NaN) / 1024 };
}

/** Each side's median time and peak over its runs. */
function mediansOf(
  sides: readonly (readonly [string, ...unknown[]])[],
  times: readonly { ms: number; peak: number }[][],
  rows: number,
): Timed[] {
  return sides.map(([what], s) => ({
    what,
    rows,
    ms: median(times[s]!.map((t) => t.ms)),
    peakMiB: median(times[s]!.map((t) => t.peak)),
  }));
}

/** A loopback server answering every path with a tiny PNG that ends in the path. */
async function imageServer(): Promise<{ server: Server; base: string }> {
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const server = createServer((req, res) => {
    const body = Buffer.concat([png, Buffer.from(req.url ?? '')]);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The release binary; the bench's build made it. */
const release = (context: BenchContext): string => join(context.root, 'dist', 'crew');

async function closedPort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
