/**
 * The download half of `npm run demo`: serves samples/images/ from a server on 127.0.0.1
 * (one path says `X-Robots-Tag: noai`, one is gone), points the bundled list
 * samples/images/list.tsv at it, and runs the built crew on it as a user would, into a
 * webdataset of shards of 4 rows, so a fresh clone shows the main job with no internet.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const images = join(root, 'samples', 'images');
const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
const served = new Set(
  readdirSync(images).filter((name) => name in TYPES || extname(name) in TYPES),
);

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  const optedOut = path.startsWith('/opted-out/');
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (!served.has(name)) return void res.writeHead(404).end('not found');
  res.writeHead(200, {
    'content-type': TYPES[extname(name)]!,
    ...(optedOut ? { 'x-robots-tag': 'noai, noimageai' } : {}),
  });
  res.end(readFileSync(join(images, name)));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const work = mkdtempSync(join(tmpdir(), 'crew-demo-'));
const list = join(work, 'list.tsv');
writeFileSync(
  list,
  readFileSync(join(images, 'list.tsv'), 'utf8').replaceAll('http://images.invalid', base),
);
const out = join(work, 'dataset');
const args = [
  'download',
  list,
  '-o',
  out,
  '--output-format',
  'webdataset',
  '--shard-size',
  '4',
  '--save-columns',
  'license',
];
process.stdout.write(
  `\n$ crew ${args.join(' ')}   (samples/images/list.tsv, served from ${base})\n`,
);
// Not spawnSync: the server answers in this process while crew runs.
const crew = spawn(process.execPath, [join(root, 'bin', 'crew.js'), ...args], {
  stdio: 'inherit',
  env: { ...process.env, NO_PROXY: '*', HTTP_PROXY: '', http_proxy: '' },
});
const [code] = (await once(crew, 'exit')) as [number | null];
server.close();
process.stdout.write(`\n$ ls ${out}\n${readdirSync(out).sort().join('  ')}\n`);
const tar = spawnSync('tar', ['tvf', join(out, '00000.tar')], { encoding: 'utf8' });
if (tar.status === 0) process.stdout.write(`\n$ tar tvf ${join(out, '00000.tar')}\n${tar.stdout}`);
// Exit 1 is expected: one link of the list is gone, and crew says so.
process.exitCode = code === 0 || code === 1 ? 0 : (code ?? 1);
