/**
 * The `binary` section: cold start of the single binary next to `node -e 0` on the same
 * embedded Node, and the Node CLI (`node bin/crew.js`) for comparison. Start-up is what a
 * user pays on every short command.
 */
import { existsSync, statSync } from 'node:fs';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median } from './measure.ts';

export async function benchBinary(context: BenchContext): Promise<BenchSection> {
  const binary = join(context.root, 'dist/crew');
  if (!existsSync(binary)) throw new Error('dist/crew is missing: run npm run build first');
  const node = realpathSync(process.execPath);
  const runs = context.quick ? 5 : 21;
  const cases: [string, string, string[]][] = [
    ['node -e 0 (the same Node 24)', node, ['-e', '0']],
    ['dist/crew --version', binary, ['--version']],
    ['node bin/crew.js --version', node, [join(context.root, 'bin/crew.js'), '--version']],
    ['dist/crew sum 1 (parser, pool, one task)', binary, ['sum', '1', '-w', '1']],
    ['dist/crew logstats samples/logs -w 1', binary, ['logstats', 'samples/logs', '-w', '1']],
  ];
  const rows: { name: string; ms: number }[] = [];
  for (const [name, command, args] of cases) {
    context.log(`binary: ${name}`);
    await measure(command, args, { cwd: context.root }); // warm the page cache and crew's cache
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await measure(command, args, { cwd: context.root });
      if (r.code !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      times.push(r.wallMs);
    }
    rows.push({ name, ms: median(times) });
  }
  const base = rows[0]!.ms;
  const size = statSync(binary).size;
  const markdown = [
    `Median wall time of ${runs} runs after one warm-up. dist/crew is ${fixed(size / 2 ** 20, 1)} MiB.`,
    '',
    markdownTable(
      ['command', 'median ms', 'vs node -e 0'],
      rows.map((r) => [r.name, fixed(r.ms), `${fixed(r.ms / base, 2)}x`]),
    ),
    '',
    `Target: dist/crew --version at most 1.5x node -e 0; measured ${fixed(rows[1]!.ms / base, 2)}x.`,
  ].join('\n');
  return { title: 'single binary start-up', markdown, data: { size, rows } };
}
