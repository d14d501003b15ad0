/**
 * The `resize` section: 1,000 JPEGs of 1600x1200 (made here with sharp, kept between runs)
 * served from 127.0.0.1, each resized to 256x256 with `border` and encoded as jpg q95. crew's
 * whole download-and-resize run beside: the floor (a plain loop of sharp over the same files
 * on disk, resize-floor.ts: the faster of as many images side by side as the cores and twice
 * that; libvips' threads inside one image, once); `vipsthumbnail` and ImageMagick's `convert`
 * over the files with `xargs -P 2` (installed with apt when missing). Images/s per core is set
 * beside img2dataset's published figures. `--rounds=N` (default 3).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median } from './measure.ts';
import { nginxMissing, startNginx } from './nginx.ts';
import { ensureTools, runs, type AptTool } from './apt.ts';

const SIZE = 256;
const QUALITY = 95;

/** img2dataset's own figures (its README and dataset examples): images/s on 16 cores. */
const IMG2DATASET = [
  ['laion400m, 256x256 border jpg q95, one 16-core 2 Gbps machine', 1300],
  ['cc3m ("a lot of high resolution images"), 16 cores, 2 Gbps', 850],
] as const;

interface Tool {
  readonly name: string;
  /** Timed once, not in every round: a variant, or a tool far slower than the rest. */
  readonly side?: true;
  readonly run: () => ReturnType<typeof measure>;
  readonly out: string;
}

interface Row {
  readonly name: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly ok: boolean;
  readonly runs: number;
}

export async function benchResize(context: BenchContext): Promise<BenchSection> {
  const count = context.quick ? 100 : 1000;
  const rounds = Number(context.options.get('rounds') ?? (context.quick ? 1 : 3));
  const dir = join(context.scratch, 'resize');
  const src = join(dir, `src-${count}`);
  await makeImages(src, count, context.log);
  // nginx's absence is said by serve(), which then serves the files itself.
  ensureTools([NGINX], 'resize', context.log);
  const missing = ensureTools(OTHERS, 'resize', context.log);
  const served = await serve(src, context);
  const names = Array.from({ length: count }, (_, i) => imageName(i));
  await writeFile(
    join(dir, 'list.csv'),
    `name,url\n${names.map((n) => `${n.replace('.jpg', '')},${served.base}/${n}`).join('\n')}\n`,
  );
  const tools = toolsFor(context, dir, src);
  let rows: Row[];
  try {
    rows = await timeTools(tools, rounds, count, context.log);
  } finally {
    await served.stop();
  }
  const markdown = report(rows, count, rounds, [...missing, served.note]);
  return { title: 'crew download-csv --resize-mode', markdown, data: { count, rows } };
}

/**
 * Rounds of every tool in turn after a warm-up round (a busy spell on this shared machine
 * hits them all alike); a `side` tool (a variant, or one far off the others) runs once, in
 * the last round. The median of each.
 */
async function timeTools(
  tools: readonly Tool[],
  rounds: number,
  count: number,
  log: (line: string) => void,
): Promise<Row[]> {
  const times = new Map<string, Row[]>();
  for (let round = 0; round <= rounds; round++) {
    for (const tool of tools.filter((t) => !t.side || round === rounds)) {
      log(`resize: ${tool.name}${round === 0 ? ' (warm-up)' : ''}`);
      await rm(tool.out, { recursive: true, force: true });
      await mkdir(tool.out, { recursive: true });
      const r = await tool.run();
      const ok = r.code === 0 && (await outputsRight(tool.out, count));
      if (round === 0) continue;
      const rows = times.get(tool.name) ?? [];
      rows.push({ name: tool.name, wallMs: r.wallMs, cpuMs: r.cpuMs ?? NaN, ok, runs: 1 });
      times.set(tool.name, rows);
    }
  }
  return tools.map((tool) => {
    const runs = times.get(tool.name)!;
    return {
      name: tool.name,
      wallMs: median(runs.map((r) => r.wallMs)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      ok: runs.every((r) => r.ok),
      runs: runs.length,
    };
  });
}

const imageName = (i: number): string => `${String(i).padStart(5, '0')}.jpg`;

/**
 * `count` JPEGs of 1600x1200 at q85 (~470 KB, like a web photo): four textured bases (soft
 * blobs under fine grain), each file a different brightness and contrast of one. Made once.
 */
async function makeImages(src: string, count: number, log: (line: string) => void) {
  if (existsSync(src) && (await readdir(src)).length === count) return;
  log(`resize: making ${count} JPEGs of 1600x1200 in ${src}`);
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  const [width, height] = [1600, 1200];
  const noise = (w: number, h: number, sigma: number) =>
    sharp({
      create: {
        width: w,
        height: h,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma },
      },
    });
  const bases: Buffer[] = [];
  for (let b = 0; b < 4; b++) {
    const coarse = await noise(40, 30, 60).png().toBuffer();
    const blobs = await sharp(coarse).resize(width, height, { kernel: 'cubic' }).png().toBuffer();
    const grain = await noise(width, height, 25).png().toBuffer();
    bases.push(
      await sharp(blobs)
        .composite([{ input: grain, blend: 'soft-light' }])
        .removeAlpha()
        .raw()
        .toBuffer(),
    );
  }
  for (let i = 0; i < count; i++) {
    await sharp(bases[i % 4], { raw: { width, height, channels: 3 } })
      .linear(1 + (i % 7) * 0.03, (i % 13) - 6)
      .jpeg({ quality: 85 })
      .toFile(join(src, imageName(i)));
  }
}

/** nginx serving the files when it is installed (it costs crew's cores least), else Node. */
async function serve(src: string, context: BenchContext) {
  if (nginxMissing() === undefined) {
    const nginx = await startNginx(src, join(context.scratch, 'resize'));
    return { ...nginx, note: 'Served by nginx (2 workers, sendfile) on 127.0.0.1.' };
  }
  const server = createServer((req, res) => {
    readFile(join(src, (req.url ?? '').replace(/[^0-9.a-z]/g, ''))).then(
      (body) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => Promise.resolve(void server.close()),
    note: 'Served by a Node server in the bench process (nginx is not installed: `apt-get install nginx-light`).',
  };
}

/** ImageMagick's convert: the real binary (not a wrapper ahead of it on PATH), if any. */
function imageMagick(): string | undefined {
  for (const candidate of ['/usr/bin/convert', 'convert']) {
    try {
      const version = execFileSync(candidate, ['-version'], { encoding: 'utf8' });
      if (version.includes('ImageMagick')) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** The tools the section compares crew with, installed with apt when missing. */
const NGINX: AptTool = { command: '/usr/sbin/nginx', package: 'nginx-light', check: ['-v'] };
const VIPSTHUMBNAIL: AptTool = {
  command: 'vipsthumbnail',
  package: 'libvips-tools',
  check: ['--vips-version'],
};
const OTHERS: readonly AptTool[] = [
  VIPSTHUMBNAIL,
  { command: '/usr/bin/convert', package: 'imagemagick', check: ['-version'] },
];

/** Every tool of the table, crew first. */
function toolsFor(context: BenchContext, dir: string, src: string): Tool[] {
  const out = (name: string) => join(dir, `out-${name.replace(/\W+/g, '-')}`);
  const cores = availableParallelism();
  const crew = (name: string, command: readonly string[], more: string[], side = false): Tool => ({
    name,
    out: out(name),
    ...(side ? { side } : {}),
    run: () =>
      measure(
        command[0]!,
        [
          ...[...command.slice(1), 'download-csv', join(dir, 'list.csv'), '-o', out(name)],
          ...['--quiet', '--resize-mode', 'border', '--image-size', String(SIZE)],
          ...['--encode-quality', String(QUALITY), ...more],
        ],
        { rss: true, env: { NO_PROXY: '*' } },
      ),
  });
  const tools: Tool[] = [
    crew(`crew (defaults: ${Math.max(1, cores - 1)} worker)`, context.crew, []),
  ];
  tools.push(crew(`crew -w ${cores}`, context.crew, ['-w', String(cores)], true));
  const binary = join(context.root, 'dist/crew');
  if (existsSync(binary)) tools.push(crew('dist/crew (the single binary)', [binary], []));
  const floor = (threads: number, atOnce: number, side = false): Tool => {
    const name = `floor: sharp loop on disk, ${atOnce} at once x ${threads} libvips thread${threads > 1 ? 's' : ''}`;
    const script = join(context.root, 'scripts/bench/resize-floor.ts');
    const args = [src, out(name), SIZE, QUALITY, threads, atOnce].map(String);
    return {
      name,
      out: out(name),
      ...(side ? { side } : {}),
      run: () => measure(process.execPath, [script, ...args], { rss: true }),
    };
  };
  // Images side by side, as many as the cores and twice that, every round: the floor is the
  // faster of the two; one image on every libvips thread once (it was the slowest).
  tools.push(floor(1, cores), floor(1, cores * 2), floor(cores, 1, true));
  return [...tools, ...otherTools(src, out)];
}

/**
 * vipsthumbnail and ImageMagick's convert over the files with `xargs -P 2`, those that run
 * (the section said which could not be had).
 */
function otherTools(src: string, out: (name: string) => string): Tool[] {
  const tools: Tool[] = [];
  const shell = (name: string, line: string, side = false): Tool => ({
    name,
    out: out(name),
    ...(side ? { side } : {}),
    run: () => measure(line.replaceAll('OUT', out(name)), [], { shell: true, cwd: src, rss: true }),
  });
  if (runs(VIPSTHUMBNAIL)) {
    // 100 files a process: one vipsthumbnail per file would time its start-up, not its work.
    // -s 256x256 fits the image inside the box (keep_ratio_largest): it cannot pad to border.
    const line = `ls | xargs -P 2 -n 100 vipsthumbnail -s ${SIZE}x${SIZE} -o 'OUT/%s.jpg[Q=${QUALITY}]'`;
    tools.push(shell('vipsthumbnail -s 256x256, xargs -P 2 -n 100', line));
  }
  const convert = imageMagick();
  if (convert) {
    // One convert a file, as a user would run it; far slower than the rest, so timed once.
    const pad = `-resize ${SIZE}x${SIZE} -background white -gravity center -extent ${SIZE}x${SIZE} -quality ${QUALITY}`;
    const hint = `-define jpeg:size=${SIZE * 2}x${SIZE * 2}`;
    tools.push(
      shell(
        'convert -resize (border), xargs -P 2',
        `ls | xargs -P 2 -I{} ${convert} {} ${pad} OUT/{}`,
        true,
      ),
    );
    tools.push(
      shell(
        `convert ${hint} -resize (border), xargs -P 2`,
        `ls | xargs -P 2 -I{} ${convert} ${hint} {} ${pad} OUT/{}`,
        true,
      ),
    );
  }
  return tools;
}

/** Every image is in `out`, and one of them is 256 on its longer side. */
async function outputsRight(out: string, count: number): Promise<boolean> {
  const images = (await readdir(out)).filter((f) => f.endsWith('.jpg'));
  if (images.length !== count) return false;
  const meta = await sharp(await readFile(join(out, images[0]!))).metadata();
  return Math.max(meta.width, meta.height) === SIZE;
}

function report(rows: readonly Row[], count: number, rounds: number, notes: string[]): string {
  const cores = availableParallelism();
  // The floor: the fastest sharp loop timed in every round.
  const floor = rows
    .filter((r) => r.name.startsWith('floor') && r.runs === rounds)
    .reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const best = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const crew = rows[0]!;
  const ratio = (r: Row | undefined, to: Row = crew) =>
    r ? `${fixed(r.wallMs / to.wallMs, 2)}x` : 'n/a';
  const perCore = count / (crew.wallMs / 1000) / cores;
  return [
    `${count} JPEGs of 1600x1200 (~470 KB) to ${SIZE}x${SIZE} \`border\`, jpg q${QUALITY}. Median of ${rounds} rounds after a warm-up round, each tool in turn (the rows of 1 run: once, in the last round); wall and CPU (user+sys) of the whole command. ${cores} cores, load average ${loadavg()
      .map((l) => fixed(l, 1))
      .join(' ')} at the end.`,
    '',
    markdownTable(
      ['tool', 'runs', 'wall s', 'images/s', 'per core', 'CPU s', 'images per CPU s', 'all ok'],
      rows.map((r) => [
        r.name,
        String(r.runs),
        fixed(r.wallMs / 1000, 2),
        fixed(count / (r.wallMs / 1000), 0),
        fixed(count / (r.wallMs / 1000) / cores, 0),
        fixed(r.cpuMs / 1000, 2),
        fixed(count / (r.cpuMs / 1000), 0),
        r.ok ? 'yes' : 'NO',
      ]),
    ),
    '',
    `crew's download-and-resize against the floor (the faster sharp loop, ${floor.name}): ${fixed(crew.wallMs / floor.wallMs, 2)}x its wall time (target at most 1.2x); the single binary ${ratio(best('dist/crew'), floor)}. vipsthumbnail took ${ratio(best('vipsthumbnail'))} crew's time (target at least 1x), convert ${ratio(best('convert -resize'))} (target more than 1x).`,
    '',
    `Per core: crew ${fixed(perCore, 0)} images/s, downloading included. img2dataset's published figures, over the internet with its own resizing (OpenCV): ${IMG2DATASET.map(([what, rate]) => `${rate} images/s on 16 cores = ${fixed(rate / 16, 0)} per core (${what})`).join('; ')}.`,
    ...notes.map((note) => `\n${note}`),
  ].join('\n');
}
