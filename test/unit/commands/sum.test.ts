import { describe, expect, it } from 'vitest';
import { toSumConfig } from '../../../src/commands/sum/options.ts';
import { checkSum, formatSum, sumJson } from '../../../src/commands/sum/run.ts';
import type { SumResult } from '../../../src/sum/run.ts';
import { exitCodeFor, ItemFailures, UsageError } from '../../../src/errors.ts';

const result = (over: Partial<SumResult> = {}): SumResult => ({
  range: { start: 0n, end: 10n },
  result: 45n,
  expected: 45n,
  ok: true,
  workers: 2,
  runtime: 'thread',
  chunks: 2,
  ms: 1.25,
  startupMs: 30,
  ...over,
});

describe('sum report', () => {
  it('shows result, check, workers, runtime, time and rate', () => {
    const text = formatSum(result());
    expect(text).toMatch(/^result\s+45$/m);
    expect(text).toMatch(/^check\s+ok \(closed form 45\)$/m);
    expect(text).toMatch(/^workers\s+2 × thread$/m);
    expect(text).toMatch(/^time\s+1\.3 ms \(\+ 30\.0 ms starting workers\)$/m);
    expect(text).toMatch(/^rate\s+8\.00 thousand additions\/s$/m);
  });

  it('gives decimal strings for every big number in JSON', () => {
    expect(sumJson(result())).toMatchObject({
      result: '45',
      expected: '45',
      start: '0',
      end: '10',
    });
  });

  it('turns a mismatch into failed items (exit 1) and says so', () => {
    const bad = result({ result: 44n, ok: false });
    expect(formatSum(bad)).toContain('MISMATCH: the closed form gives 45');
    expect(() => checkSum(bad)).toThrow(ItemFailures);
    expect(exitCodeFor(new ItemFailures(1))).toBe(1);
    expect(() => checkSum(result())).not.toThrow();
  });
});

describe('toSumConfig', () => {
  it.each([
    [{}, 0n, 100_000_000n],
    [{ n: '1e9' }, 0n, 1_000_000_000n],
    [{ end: '5' }, 0n, 5n],
    [{ start: '-5', end: '5' }, -5n, 5n],
    [{ start: '3', end: '3' }, 3n, 3n],
  ])('%j -> [%s, %s)', (args, start, end) => {
    expect(toSumConfig(args).range).toEqual({ start, end });
  });

  it('times 5 runs per configuration with --bench unless --repeat says otherwise', () => {
    expect(toSumConfig({}).bench).toBeUndefined();
    expect(toSumConfig({ bench: true }).bench).toEqual({ repeat: 5 });
    expect(toSumConfig({ bench: true, repeat: 2 }).bench).toEqual({ repeat: 2 });
  });

  it.each([{ start: '1' }, { n: '-1' }, { n: '1', end: '2' }, { bench: true, repeat: 0 }])(
    '%j is a usage error',
    (args) => {
      expect(() => toSumConfig(args)).toThrow(UsageError);
    },
  );
});
