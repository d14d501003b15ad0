/**
 * The `binary` section: cold start of the single binary next to `node -e 0` on the same
 * embedded Node, and the Node CLI (`node bin/crew.js`) for comparison. Start-up is what a
 * user pays on every short command. `--baseline=OTHER/dist/crew` runs another build's binary
 * beside this one, each run of a command followed by the same run of the other's.
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
  const baseline = context.options.get('baseline');
  const rows: { name: string; ms: number }[] = [];
  for (const [name, command, args] of cases) {
    // The binary's commands, and the baseline's the same way, taken in turns.
    const twins: [string, string][] = [[name, command]];
    if (baseline !== undefined && command === binary) twins.push([`baseline ${name}`, baseline]);
    context.log(`binary: ${name}`);
    // Warm the page cache and crew's cache.
    for (const [, program] of twins) await measure(program, args, { cwd: context.root });
    const times = twins.map((): number[] => []);
    for (let i = 0; i < runs; i++) {
      for (const [t, [label, program]] of twins.entries()) {
        const r = await measure(program, args, { cwd: context.root });
        if (r.code !== 0) throw new Error(`${label} failed: ${r.stderr}`);
        times[t]!.push(r.wallMs);
      }
    }
    twins.forEach(([label], t) => rows.push({ name: label, ms: median(times[t]!) }));
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
    `Target: dist/crew --version at most 1.5x node -e 0; measured ${fixed(rows.find((r) => r.name === 'dist/crew --version')!.ms / base, 2)}x.`,
  ].join('\n');
  return { title: 'single binary start-up', markdown, data: { size, rows } };
}
