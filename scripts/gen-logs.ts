/**
 * Writes realistic combined-format access logs, one file per day, from a fixed seed, and
 * `expected.json` beside them with the exact counts crew must report (the generator knows
 * the client of every line it wrote).
 *
 *   node scripts/gen-logs.ts --out DIR [--files 8] [--lines 500000] [--ips 2000000] [--seed 1]
 *
 * Most lines are plain `IP - - [...]`; some carry an auth user, an X-Forwarded-For list,
 * an IPv6 client (in mixed spellings), and a few are garbage, so every rule gets exercised.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    files: { type: 'string', default: '8' },
    lines: { type: 'string', default: '500000' },
    ips: { type: 'string', default: '2000000' },
    seed: { type: 'string', default: '1' },
    crlf: { type: 'boolean', default: false },
  },
});
if (!values.out) {
  process.stderr.write('usage: node scripts/gen-logs.ts --out DIR [--files N] [--lines N]\n');
  process.exit(2);
}
const out = values.out;
const fileCount = Number(values.files);
const linesPerFile = Number(values.lines);
const ipPool = Number(values.ips);
const eol = values.crlf ? '\r\n' : '\n';

// mulberry32: tiny, fast, and the same sequence on every machine.
let state = Number(values.seed) >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

// Client addresses: a pool drawn once, visited with a skew so a few clients are busy.
const pool = new Uint32Array(ipPool);
for (let i = 0; i < ipPool; i++) pool[i] = (1 + Math.floor(random() * 0xdfffffff)) >>> 0;
const v4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

const paths = ['/', '/index.html', '/api/items', '/img/logo.png', '/search?q=crew', '/login'];
const agents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'curl/8.10.1',
];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface Counts {
  file: string;
  total: number;
  ip: number;
  malformed: number;
}
const allClients = new Set<string>();
const files: Counts[] = [];
await mkdir(out, { recursive: true });

for (let f = 0; f < fileCount; f++) {
  const day = new Date(Date.UTC(2021, 2, 22 + f));
  const name = `${day.toISOString().slice(0, 10).replaceAll('-', '')}.log`;
  const clients = new Set<string>();
  let malformed = 0;
  const stream = createWriteStream(join(out, name));
  let batch = '';
  for (let i = 0; i < linesPerFile; i++) {
    const r = random();
    const n = pool[Math.floor(ipPool * r * r * r)]!;
    let client = v4(n);
    let field = client;
    let user = '-';
    const kind = random();
    if (kind < 0.03) {
      field = `${client}, 10.${Math.floor(random() * 256)}.0.${Math.floor(random() * 256)}`;
    } else if (kind < 0.04) {
      const tail = (n & 0xffff).toString(16);
      client = `2001:db8::${tail}`;
      field = random() < 0.5 ? client : `2001:DB8:0:0:0:0:0:${tail.toUpperCase()}`;
    } else if (kind < 0.05) {
      user = pick(['frank', 'alice', 'bob']);
    } else if (kind < 0.051) {
      batch += `garbage ${Math.floor(random() * 1e9)} no client here${eol}`;
      malformed++;
      continue;
    }
    clients.add(client);
    const hour = String(Math.floor((i / linesPerFile) * 24)).padStart(2, '0');
    const stamp = `${String(day.getUTCDate()).padStart(2, '0')}/${months[day.getUTCMonth()]}/${day.getUTCFullYear()}:${hour}:${String(i % 60).padStart(2, '0')}:00 +0800`;
    const status = random() < 0.9 ? 200 : pick([301, 304, 404, 500]);
    batch += `${field} - ${user} [${stamp}] "GET ${pick(paths)} HTTP/1.1" ${status} ${Math.floor(random() * 50000)} "-" "${pick(agents)}"${eol}`;
    if (batch.length > 1 << 20) {
      if (!stream.write(batch)) await once(stream, 'drain');
      batch = '';
    }
  }
  stream.end(batch);
  await once(stream, 'finish');
  for (const c of clients) allClients.add(c);
  files.push({ file: name, total: linesPerFile, ip: clients.size, malformed });
  process.stderr.write(`gen-logs: ${name}: ${linesPerFile} lines, ${clients.size} clients\n`);
}

const all = {
  files: files.length,
  total: files.reduce((n, f) => n + f.total, 0),
  ip: allClients.size,
  malformed: files.reduce((n, f) => n + f.malformed, 0),
};
await writeFile(join(out, '.expected.json'), `${JSON.stringify({ files, all }, null, 2)}\n`);
process.stderr.write(`gen-logs: ${all.total} lines, ${all.ip} distinct clients in ${out}\n`);
