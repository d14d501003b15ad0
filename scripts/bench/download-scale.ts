/**
 * Long CSVs (issue 15): memory and rows/s for rows streamed on stdin that fail at once (a
 * closed port, --retries 0), the same with every row sharing one name, and the re-run of a
 * finished job (it must skip every row fast, and the manifest must not grow). Peak RSS is
 * of crew and all its workers, summed. These run the release, dist/crew (its V8 flags are
 * part of what is measured), where the other sections run node bin/crew.js.
 */
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { BenchContext } from './section.ts';
import { fixed, markdownTable, measure } from './measure.ts';

export interface ScaleRow {
  readonly what: string;
  readonly rows: number;
  readonly peakMiB: number;
  readonly ms: number;
  readonly manifestBefore?: number;
  readonly manifestAfter?: number;
}

/** Writes `rows` CSV lines to stdin in chunks, honouring back-pressure. */
const feedRows =
  (rows: number, url: (i: number) => string, name = (i: number) => `row ${i}`) =>
  async (stdin: Writable): Promise<void> => {
    for (let i = 0; i < rows; i += 1000) {
      let chunk = '';
      for (let j = i; j < Math.min(rows, i + 1000); j++) chunk += `${j},${name(j)},${url(j)}\n`;
      if (!stdin.write(chunk)) await once(stdin, 'drain');
    }
  };

/** The release binary; the bench's build made it. */
const release = (context: BenchContext): string => join(context.root, 'dist', 'crew');

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const manifestLines = async (path: string): Promise<number> =>
  (await readFile(path, 'utf8')).split('\n').filter(Boolean).length;

/**
 * Row `j`'s origin: one of 65,536 loopback addresses (127.0.0.0/8 is all loopback), all at
 * the closed port. crew gives up on an origin after 24 refused connections in a row
 * (hosts.ts), so with one origin this would measure that, not a request; at 15-16 rows an
 * origin, every row still connects, as in a list of many dead hosts.
 */
const deadOrigin = (j: number, port: number): string =>
  `http://127.${(j >>> 8) & 0xff}.${j & 0xff}.1:${port}`;

/**
 * Rows to closed ports: nothing is fetched, so this is crew's per-row cost and memory. The
 * issue's own workload is one dead host (every row a distinct URL to one closed port):
 * crew gives up on it after 24 refusals and fails the rest unsent. Rows spread over 65,536
 * dead hosts still make a connection each; a bare undici loop (undici-floor.ts, one thread)
 * on the same rows shows what one connection refused costs under crew.
 */
export async function failingRows(context: BenchContext, dir: string): Promise<ScaleRow[]> {
  const port = await closedPort();
  const results: ScaleRow[] = [];
  const big = context.quick ? 100_000 : 1_000_000;
  const manyHosts = (j: number): string => `${deadOrigin(j, port)}/img/${j}.png`;
  const oneHost = (j: number): string => `http://127.0.0.1:${port}/img/${j}.png`;
  const runs: [string, number, (j: number) => string, ((i: number) => string) | undefined][] = [
    ['rows to one dead host', big, oneHost, undefined],
    ['rows to 65,536 dead hosts', big / 10, manyHosts, undefined],
    ['rows to 65,536 dead hosts', big, manyHosts, undefined],
    // Every row named alike: the names become same, same-2 ... same-N, at the same cost.
    ['the same, every row named "same"', big, manyHosts, () => 'same'],
  ];
  for (const [what, rows, url, name] of runs) {
    context.log(`download: ${rows} ${what}${name ? ', one shared name' : ''}`);
    await rm(join(dir, 'fail-out'), { recursive: true, force: true });
    const run = await measure(
      release(context),
      ['download-csv', '-', '-o', 'fail-out', '--retries', '0', '--quiet', '--json'],
      { cwd: dir, treeRss: true, feed: feedRows(rows, url, name) },
    );
    if (run.code !== 1) context.log(`download: expected exit 1, got ${run.code}: ${run.stderr}`);
    results.push({ what, rows, peakMiB: (run.treeRssKiB ?? NaN) / 1024, ms: run.wallMs });
  }
  await rm(join(dir, 'fail-out'), { recursive: true, force: true });

  const floorRows = big / 10;
  const pairs = join(dir, 'dead-pairs.txt');
  await writeFile(
    pairs,
    Array.from({ length: floorRows }, (_, j) => `img${j},${manyHosts(j)}\n`).join(''),
  );
  context.log(`download: ${floorRows} rows to 65,536 dead hosts, bare undici loop`);
  const floor = await measure(
    process.execPath,
    [
      join(context.root, 'scripts', 'bench', 'undici-floor.ts'),
      pairs,
      join(dir, 'floor-out'),
      '16',
    ],
    { treeRss: true },
  );
  if (floor.code !== 1) context.log(`download: floor expected exit 1, got ${floor.code}`);
  results.push({
    what: 'bare undici loop (floor), 65,536 dead hosts',
    rows: floorRows,
    peakMiB: (floor.treeRssKiB ?? NaN) / 1024,
    ms: floor.wallMs,
  });
  await rm(join(dir, 'floor-out'), { recursive: true, force: true });
  await rm(pairs, { force: true });
  return results;
}

/** A job that finished (tiny PNGs from a local server), then the same CSV again. */
export async function rerun(context: BenchContext, dir: string): Promise<ScaleRow> {
  const rows = context.quick ? 100_000 : 1_000_000;
  const body = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const server = createHttpServer((_, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const argv = ['download-csv', '-', '-o', 'rerun-out', '--quiet', '--json'];
  const feed = feedRows(rows, (j) => `${base}/img/${j}.png`);
  await rm(join(dir, 'rerun-out'), { recursive: true, force: true });
  try {
    context.log(`download: a ${rows}-row job, first run`);
    const first = await measure(release(context), argv, { cwd: dir, feed });
    if (first.code !== 0) context.log(`download: first run exit ${first.code}: ${first.stderr}`);
    const manifest = join(dir, 'rerun-out', 'crew-manifest.jsonl');
    const before = await manifestLines(manifest);
    context.log(`download: the ${rows}-row job again`);
    const again = await measure(release(context), argv, { cwd: dir, feed, treeRss: true });
    if (again.code !== 0) context.log(`download: re-run exit ${again.code}: ${again.stderr}`);
    return {
      what: 're-run of a finished job',
      rows,
      peakMiB: (again.treeRssKiB ?? NaN) / 1024,
      ms: again.wallMs,
      manifestBefore: before,
      manifestAfter: await manifestLines(manifest),
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(join(dir, 'rerun-out'), { recursive: true, force: true });
  }
}

/** Both runs, as a markdown table. */
export async function benchScale(
  context: BenchContext,
  dir: string,
): Promise<{ markdown: string; rows: ScaleRow[] }> {
  const rows = [...(await failingRows(context, dir)), await rerun(context, dir)];
  const markdown = [
    'Long CSVs streamed on stdin to the release binary (dist/crew), default options. Peak RSS of crew and all its workers summed (sampled from /proc every 20 ms); rows/s over the whole command.',
    '',
    markdownTable(
      ['run', 'rows', 'peak RSS MiB', 'rows/s', 'manifest lines before → after'],
      rows.map((r) => [
        r.what,
        String(r.rows),
        fixed(r.peakMiB, 0),
        fixed(r.rows / (r.ms / 1000), 0),
        r.manifestBefore === undefined ? '' : `${r.manifestBefore} → ${r.manifestAfter}`,
      ]),
    ),
    '',
    markdownTable(['target (issue 15)', 'measured', 'target'], scaleTargets(rows)),
  ].join('\n');
  return { markdown, rows };
}

/** The targets, from the rows above (in the order failingRows and rerun give them). */
function scaleTargets(rows: readonly ScaleRow[]): string[][] {
  const [oneHost, small, big, shared, floor, again] = rows as [
    ScaleRow,
    ScaleRow,
    ScaleRow,
    ScaleRow,
    ScaleRow,
    ScaleRow,
  ];
  const perSecond = (r: ScaleRow): string => fixed(r.rows / (r.ms / 1000), 0);
  return [
    [
      `${oneHost.rows} rows to one dead host: peak RSS`,
      `${fixed(oneHost.peakMiB, 0)} MiB`,
      '< 200 MiB',
    ],
    [
      `${big.rows} rows to 65,536 dead hosts: peak RSS`,
      `${fixed(big.peakMiB, 0)} MiB`,
      '< 200 MiB',
    ],
    [
      `the same vs ${small.rows} rows: peak RSS`,
      `${fixed(big.peakMiB / small.peakMiB, 2)}x`,
      '<= 1.2x',
    ],
    [`${oneHost.rows} rows to one dead host: rows/s`, perSecond(oneHost), '>= 20000'],
    [
      `${big.rows} rows to 65,536 dead hosts: rows/s`,
      `${perSecond(big)} (bare undici: ${perSecond(floor)})`,
      '>= 20000',
    ],
    ['one shared name vs distinct names: time', `${fixed(shared.ms / big.ms, 2)}x`, '<= 1.3x'],
    [
      `re-run of ${again.rows} finished rows: peak RSS`,
      `${fixed(again.peakMiB, 0)} MiB`,
      '< 200 MiB',
    ],
    [`re-run: rows/s`, perSecond(again), '>= 50000'],
    [
      're-run: manifest lines',
      `${again.manifestBefore ?? '?'} → ${again.manifestAfter ?? '?'}`,
      'does not grow',
    ],
  ];
}
