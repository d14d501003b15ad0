/**
 * `npm run bench [-- [--quick] [--name=value ...] [section ...]]`: runs the benchmark sections
 * side by side on this machine, prints markdown, and writes the numbers to
 * bench-results/bench.json. `--name=value` options go to the sections (network.ts has some).
 * Speed lives here, never in timed tests: compare ratios measured in the same run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRunner, BenchSection } from './bench/section.ts';
import { benchBinary } from './bench/binary.ts';
import { benchDataset } from './bench/dataset.ts';
import { benchDownload } from './bench/download.ts';
import { benchNetwork } from './bench/network.ts';
import { benchLogstats } from './bench/logstats.ts';
import { benchSum } from './bench/sum.ts';
import { benchQueue } from './bench/queue.ts';
import { benchResize } from './bench/resize.ts';

const sections: Record<string, BenchRunner> = {
  sum: benchSum,
  logstats: benchLogstats,
  download: benchDownload,
  network: benchNetwork,
  dataset: benchDataset,
  binary: benchBinary,
  queue: benchQueue,
  resize: benchResize,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const options = new Map(
  args
    .filter((a) => a.startsWith('--') && a.includes('='))
    .map((a) => [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] as const),
);
const chosen = args.filter((a) => !a.startsWith('--'));
const unknown = chosen.filter((name) => !(name in sections));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: no section ${unknown.join(', ')}; have ${Object.keys(sections).join(', ')}\n`,
  );
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = join(root, 'bench-results');
await mkdir(scratch, { recursive: true });
const context = {
  crew: [process.execPath, join(root, 'bin/crew.js')],
  root,
  scratch,
  quick,
  options,
  log: (line: string) => process.stderr.write(`${line}\n`),
};

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const results: BenchSection[] = [];
// `download` runs the network sets too; `network` alone runs just them.
const everything = Object.keys(sections).filter((name) => name !== 'network');
for (const name of chosen.length > 0 ? chosen : everything) {
  const section = await sections[name]!(context);
  results.push(section);
  process.stdout.write(`## ${section.title}\n\n${section.markdown}\n\n`);
}
process.stdout.write(`Machine: ${machine}\n`);
await writeFile(
  join(scratch, 'bench.json'),
  `${JSON.stringify({ machine, date: new Date().toISOString(), quick, sections: results }, null, 2)}\n`,
);
process.stderr.write(`bench: wrote ${join(scratch, 'bench.json')}\n`);
