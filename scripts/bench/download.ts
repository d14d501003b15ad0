/**
 * The `download` section: a loopback server that answers each request after a fixed delay
 * (a stand-in for a distant image host) serves N small images; crew fetches them all from a
 * CSV next to `curl --parallel` and `aria2c -i` (when installed) with the same number of
 * requests in flight, and crew's --concurrency is swept to pick its default. Then the fast
 * server sets (download-fast.ts), the long CSVs (download-scale.ts), and the network sets
 * (network.ts: many hosts, HTTPS, 20 and 100 ms round trips).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BenchContext, BenchSection } from './section.ts';
import { benchFast } from './download-fast.ts';
import { benchScale } from './download-scale.ts';
import { benchNetwork } from './network.ts';
import { fixed, markdownTable, measure, median } from './measure.ts';

const has = (command: string): boolean => {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export async function benchDownload(context: BenchContext): Promise<BenchSection> {
  const count = context.quick ? 100 : 400;
  const delayMs = 50;
  const size = 32 * 1024;
  const runs = context.quick ? 1 : 3;
  // A PNG signature and then filler: crew checks the bytes are an image.
  const body = Buffer.alloc(size, 7);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(body);
  const server = createServer((_, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      res.end(body);
    }, delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = join(context.scratch, 'download');
  await mkdir(dir, { recursive: true });
  const urls = Array.from({ length: count }, (_, i) => `${base}/img/${i}.png`);
  await writeFile(join(dir, 'list.csv'), urls.map((u, i) => `${i},img${i},${u}`).join('\n'));
  await writeFile(
    join(dir, 'curl.cfg'),
    urls.map((u, i) => `url = "${u}"\noutput = "curl-out/img${i}.png"`).join('\n'),
  );
  await writeFile(join(dir, 'aria2.txt'), urls.map((u, i) => `${u}\n  out=img${i}.png`).join('\n'));

  const rows: { tool: string; inFlight: number; ms: number; ok: boolean }[] = [];
  const timed = async (tool: string, inFlight: number, argv: string[], outDir: string) => {
    context.log(`download: ${tool}`);
    const times: number[] = [];
    let ok = true;
    for (let i = 0; i < runs; i++) {
      await rm(join(dir, outDir), { recursive: true, force: true });
      const r = await measure(argv[0]!, argv.slice(1), { cwd: dir });
      ok &&= r.code === 0;
      times.push(r.wallMs);
    }
    rows.push({ tool, inFlight, ms: median(times), ok });
  };
  const crew = context.crew;
  const env = ['--quiet', '--per-host', '64'];
  for (const c of [2, 4, 8, 16]) {
    await timed(
      `crew download-csv -w 2 -c ${c}`,
      2 * c,
      [...crew, 'download-csv', 'list.csv', '-o', 'crew-out', '-w', '2', '-c', String(c), ...env],
      'crew-out',
    );
  }
  await timed(
    'crew download-csv (defaults)',
    16,
    [...crew, 'download-csv', 'list.csv', '-o', 'crew-out', '--quiet'],
    'crew-out',
  );
  await timed(
    'curl --parallel --parallel-max 16',
    16,
    ['curl', '--silent', '--parallel', '--parallel-max', '16', '--create-dirs', '-K', 'curl.cfg'],
    'curl-out',
  );
  let note = '';
  if (has('aria2c')) {
    await timed(
      'aria2c -j 16',
      16,
      ['aria2c', '-q', '-j', '16', '-x', '16', '-d', 'aria-out', '-i', 'aria2.txt'],
      'aria-out',
    );
  } else {
    note = 'aria2c is not installed here (`apt-get install aria2`), so it was skipped.';
  }
  server.closeAllConnections();
  server.close();

  const fast = await benchFast(context);
  const scale = await benchScale(context, dir);
  const network = await benchNetwork(context);

  const ideal = (count / 16) * delayMs;
  const markdown = [
    `${count} images of ${size / 1024} KiB from a 127.0.0.1 server that answers each request after ${delayMs} ms. Median of ${runs} runs; wall time of the whole command. With 16 in flight the latency floor is ${fixed(ideal, 0)} ms.`,
    '',
    markdownTable(
      ['tool', 'in flight', 'median ms', 'images/s', 'all ok'],
      rows.map((r) => [
        r.tool,
        String(r.inFlight),
        fixed(r.ms),
        fixed(count / (r.ms / 1000), 0),
        r.ok ? 'yes' : 'NO',
      ]),
    ),
    ...(note ? ['', note] : []),
    '',
    '### Fast server',
    '',
    fast.markdown,
    '',
    '### Long CSVs',
    '',
    scale.markdown,
    '',
    '### Over a network',
    '',
    network.markdown,
  ].join('\n');
  return {
    title: 'crew download-csv',
    markdown,
    data: { count, delayMs, size, rows, fast: fast.rows, scale: scale.rows, network: network.data },
  };
}
