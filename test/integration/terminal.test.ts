import { describe, expect, it } from 'vitest';
import { collect, spawnCrewOnTerminal } from '../helpers/cli.ts';

// Progress shows only on a terminal, so only a real pseudo-terminal exercises it.
describe('crew on a terminal', () => {
  it.each([
    ['reports no width (script, some container ttys)', 0],
    ['is 80 columns wide', 80],
  ])('finishes and prints its report when the terminal %s', async (_name, columns) => {
    for (const args of [
      ['logstats', 'samples/logs'],
      ['sum', '1e6', '-w', '1'],
    ]) {
      const run = await collect(spawnCrewOnTerminal(args, columns), { timeoutMs: 30_000 });
      expect({ args, code: run.code, signal: run.signal }).toEqual({ args, code: 0, signal: null });
      expect(run.stdout).toMatch(args[0] === 'sum' ? /499999500000/ : /all \(3 files\)\s+1,500/);
    }
  });
});
