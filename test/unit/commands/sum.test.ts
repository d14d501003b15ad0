import { describe, expect, it } from 'vitest';
import { toSumConfig } from '../../../src/commands/sum/options.ts';
import {
  benchJson,
  checkSum,
  formatBench,
  formatSum,
  sumJson,
} from '../../../src/commands/sum/run.ts';
import type { BenchRow } from '../../../src/sum/bench.ts';
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

describe('bench report', () => {
  const row = (over: Partial<BenchRow>): BenchRow => ({
    runtime: 'inline',
    workers: 1,
    medianMs: 100,
    runsMs: [100],
    startupMs: 0.04,
    speedup: 1,
    efficiency: 1,
    ok: true,
    ...over,
  });
  const rows = [
    row({}),
    row({ runtime: 'thread', workers: 2, medianMs: 52.345, speedup: 1.9104, efficiency: 0.9552 }),
    row({ runtime: 'process', workers: 2, medianMs: 61, speedup: 1.6393, efficiency: 0.81966 }),
  ];
  const config = toSumConfig({ start: '-5', end: '1e6', bench: true, repeat: 3 });
  const bench = { kind: 'bench' as const, repeat: 3, rows };

  it('shows one line per runtime and workers, slowest with the full bar', () => {
    const lines = formatBench(config, bench).split('\n');
    expect(lines[0]).toBe('sum of [-5, 1000000): median of 3 runs after one warm-up');
    expect(lines[1]).toMatch(/^runtime\s+workers\s+median ms\s+start ms\s+speedup\s+efficiency/);
    expect(lines[2]).toMatch(/^inline\s+1\s+100\.0\s+0\.0\s+1\.00x\s+100%\s+ok\s+█{24}$/);
    expect(lines[3]).toMatch(/^thread\s+2\s+52\.3\s+0\.0\s+1\.91x\s+96%\s+ok\s+█{12}/);
    expect(lines[4]).toMatch(/^process\s+2\s+61\.0\s+0\.0\s+1\.64x\s+82%\s+ok\s+█{14}/);
    expect(lines).toHaveLength(5);
  });

  it('says MISMATCH for a row whose sums were wrong', () => {
    const bad = { ...bench, rows: [row({ ok: false })] };
    expect(formatBench(config, bad)).toMatch(/^inline\s.*\sMISMATCH\s/m);
  });

  it('gives the bounds as decimal strings and rounds the timings in JSON', () => {
    expect(benchJson(config, bench)).toEqual({
      start: '-5',
      end: '1000000',
      repeat: 3,
      rows: [
        { ...rows[0], medianMs: 100, startupMs: 0, speedup: 1, efficiency: 1 },
        { ...rows[1], medianMs: 52.3, startupMs: 0, speedup: 1.91, efficiency: 0.955 },
        { ...rows[2], medianMs: 61, startupMs: 0, speedup: 1.639, efficiency: 0.82 },
      ],
    });
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
