/**
 * The fast-server download sets (issue 15): a real nginx on 127.0.0.1 serves 3000 x 20 KB
 * and 100 x 2 MB images; crew with default options runs side by side with curl --parallel,
 * aria2c, the tutorial's Python, a bare undici loop (the floor of crew's own stack) and raw
 * sockets (Node's own floor, under any HTTP library), in turns within one run. Every tool's
 * files are checked byte for byte, and crew's manifest.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './section.ts';
import { fixed, markdownTable, measure, median } from './measure.ts';
import { nginxMissing, startNginx } from './nginx.ts';

interface FastSet {
  readonly label: string;
  readonly count: number;
  readonly size: number;
}

interface Tool {
  readonly name: string;
  readonly argv: (dir: string) => string[];
  /** The directory it writes, relative to the set's directory. */
  readonly out: string;
  /** Where image `i` ends up, relative to `out`. */
  readonly file: (i: number) => string;
}

export interface FastRow {
  readonly set: string;
  readonly tool: string;
  readonly ms: number;
  readonly ok: boolean;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const has = (command: string): boolean => {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasRequests = (): boolean => {
  try {
    execFileSync('python3', ['-c', 'import requests'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The tools side by side, each with 16 requests in flight (the tutorial: its 10 threads). */
function tools(context: BenchContext, notes: string[]): Tool[] {
  const crew = context.crew;
  const list: Tool[] = [
    {
      name: 'crew (defaults)',
      argv: () => [...crew, 'download-csv', 'list.csv', '-o', 'crew-out', '--quiet'],
      out: 'crew-out',
      file: (i) => `img${i}.png`,
    },
    {
      name: 'bare undici loop (floor)',
      argv: () => [process.execPath, join(here, 'undici-floor.ts'), 'pairs.txt', 'floor-out', '16'],
      out: 'floor-out',
      file: (i) => `img${i}.png`,
    },
    {
      // Under any HTTP library: how much of the gap to curl is Node and how much undici.
      name: 'Node raw sockets + SHA-256 (no HTTP library)',
      argv: () => [process.execPath, join(here, 'raw-floor.ts'), 'pairs.txt', 'raw-out', '16'],
      out: 'raw-out',
      file: (i) => `img${i}.png`,
    },
  ];
  list.push({
    name: 'curl --parallel --parallel-max 16',
    argv: () => [
      'curl',
      '-s',
      '--parallel',
      '--parallel-max',
      '16',
      '--create-dirs',
      '-K',
      'curl.cfg',
    ],
    out: 'curl-out',
    file: (i) => `img${i}.png`,
  });
  if (has('aria2c')) {
    list.push({
      name: 'aria2c -j16 --file-allocation=none',
      argv: () => [
        'aria2c',
        '-q',
        '-j16',
        '--file-allocation=none',
        '-d',
        'aria-out',
        '-i',
        'aria2.txt',
      ],
      out: 'aria-out',
      file: (i) => `img${i}.png`,
    });
  } else notes.push('aria2c is not installed (`apt-get install -y aria2`): skipped.');
  if (hasRequests()) {
    list.push({
      name: 'tutorial (ThreadPoolExecutor(10) + requests)',
      argv: () => ['python3', join(here, 'tutorial_download.py'), 'pairs.txt', 'py-out'],
      out: 'py-out',
      file: (i) => `img${i}.png`,
    });
  } else notes.push('python3 with requests is not available: the tutorial was skipped.');
  return list;
}

/** Writes the set's images (a PNG signature, then random bytes) and every tool's list. */
async function prepare(dir: string, www: string, base: string, set: FastSet): Promise<string[]> {
  await mkdir(join(www, set.label), { recursive: true });
  const hashes: string[] = [];
  for (let i = 0; i < set.count; i++) {
    const body = randomBytes(set.size);
    Buffer.from('89504e470d0a1a0a', 'hex').copy(body);
    hashes.push(createHash('sha256').update(body).digest('hex'));
    await writeFile(join(www, set.label, `${i}.png`), body);
  }
  const urls = hashes.map((_, i) => `${base}/${set.label}/${i}.png`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'list.csv'), urls.map((u, i) => `${i},img${i},${u}\n`).join(''));
  await writeFile(join(dir, 'pairs.txt'), urls.map((u, i) => `img${i},${u}\n`).join(''));
  await writeFile(
    join(dir, 'curl.cfg'),
    urls.map((u, i) => `url = "${u}"\noutput = "curl-out/img${i}.png"\n`).join(''),
  );
  await writeFile(join(dir, 'aria2.txt'), urls.map((u, i) => `${u}\n  out=img${i}.png\n`).join(''));
  return hashes;
}

/** Every file there with the right bytes; for crew, every row `ok` in its manifest too. */
async function verify(dir: string, tool: Tool, hashes: readonly string[]): Promise<boolean> {
  for (let i = 0; i < hashes.length; i++) {
    try {
      const body = await readFile(join(dir, tool.out, tool.file(i)));
      if (createHash('sha256').update(body).digest('hex') !== hashes[i]) return false;
    } catch {
      return false;
    }
  }
  if (tool.out !== 'crew-out') return true;
  const lines = (await readFile(join(dir, 'crew-out', 'crew-manifest.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { row: number; status: string; sha256: string });
  const ok = new Set(lines.filter((l) => l.status === 'ok').map((l) => l.sha256));
  return lines.length === hashes.length && hashes.every((h) => ok.has(h));
}

/** Runs every tool on every set, in turns, `runs` times; medians of wall time. */
export async function benchFast(
  context: BenchContext,
): Promise<{ markdown: string; rows: FastRow[] }> {
  const missing = nginxMissing();
  if (missing) {
    context.log(`download: ${missing}; fast-server sets skipped`);
    return { markdown: `Fast-server sets skipped: ${missing}.`, rows: [] };
  }
  const sets: FastSet[] = context.quick
    ? [
        { label: 'small', count: 300, size: 20 * 1024 },
        { label: 'big', count: 20, size: 2 * 1024 * 1024 },
      ]
    : [
        { label: 'small', count: 3000, size: 20 * 1024 },
        { label: 'big', count: 100, size: 2 * 1024 * 1024 },
      ];
  const runs = context.quick ? 1 : 3;
  const root = join(context.scratch, 'fast');
  const www = join(root, 'www');
  await rm(root, { recursive: true, force: true });
  const notes: string[] = [];
  const list = tools(context, notes);
  const nginx = await startNginx(www, context.scratch);
  const rows: FastRow[] = [];
  try {
    for (const set of sets) {
      const dir = join(root, set.label);
      const hashes = await prepare(dir, www, nginx.base, set);
      const times = new Map<string, number[]>(list.map((t) => [t.name, []]));
      const ok = new Map<string, boolean>(list.map((t) => [t.name, true]));
      for (let run = 0; run < runs; run++) {
        for (const tool of list) {
          context.log(`download: ${set.count} x ${set.size / 1024} KiB, ${tool.name}`);
          await rm(join(dir, tool.out), { recursive: true, force: true });
          const argv = tool.argv(dir);
          const r = await measure(argv[0]!, argv.slice(1), { cwd: dir });
          times.get(tool.name)!.push(r.wallMs);
          const good = r.code === 0 && (await verify(dir, tool, hashes));
          context.log(
            `download:   ${fixed(r.wallMs, 0)} ms${good ? '' : ', FAILED or wrong files'}`,
          );
          ok.set(tool.name, ok.get(tool.name)! && good);
        }
      }
      for (const tool of list) {
        rows.push({
          set: `${set.count} x ${fixed(set.size / 1024, 0)} KiB`,
          tool: tool.name,
          ms: median(times.get(tool.name)!),
          ok: ok.get(tool.name)!,
        });
      }
      await rm(join(www, set.label), { recursive: true, force: true });
    }
  } finally {
    await nginx.stop();
  }
  return { markdown: fastMarkdown(rows, runs, notes), rows };
}

function fastMarkdown(rows: readonly FastRow[], runs: number, notes: readonly string[]): string {
  const crewMs = new Map(rows.filter((r) => r.tool.startsWith('crew')).map((r) => [r.set, r.ms]));
  return [
    `nginx on 127.0.0.1 (worker_processes 2, sendfile on). Wall time of the whole command, median of ${runs} runs taken in turns; "crew ÷ tool" is crew's time over the tool's (under 1: crew is faster). Files checked by SHA-256; crew's manifest checked row by row.`,
    '',
    markdownTable(
      ['set', 'tool', 'median ms', 'files/s', 'crew ÷ tool', 'all files right'],
      rows.map((r) => [
        r.set,
        r.tool,
        fixed(r.ms, 0),
        fixed(Number(r.set.split(' ')[0]) / (r.ms / 1000), 0),
        fixed((crewMs.get(r.set) ?? NaN) / r.ms, 2),
        r.ok ? 'yes' : 'NO',
      ]),
    ),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}
