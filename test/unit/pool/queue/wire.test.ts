import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  decodeJob,
  decodeOutcomes,
  encodeJob,
  encodeOutcomes,
} from '../../../../src/pool/queue/wire.ts';

describe('the queue wire format', () => {
  it('keeps BigInts and typed arrays through JSON', () => {
    const tasks = [{ name: 'sumRange', input: { start: 2n ** 60n, end: 2n ** 60n + 5n } }];
    const job = JSON.parse(JSON.stringify(encodeJob('run-1', tasks))) as unknown;
    expect(decodeJob(job)).toEqual({ run: 'run-1', tasks });
    const outcomes = [
      { ok: true as const, value: { ipv4: new Uint32Array([1, 2, 3]) } },
      { ok: false as const, error: 'no such file or directory' },
    ];
    const output = JSON.parse(JSON.stringify(encodeOutcomes(outcomes))) as unknown;
    expect(decodeOutcomes(output, 2)).toEqual(outcomes);
  });

  it('sends an IPv4 set as 4 bytes an address (plus base64), not as JSON numbers', () => {
    const ipv4 = new Uint32Array(100_000).map((_, i) => 0x0a000000 + i * 7);
    const text = JSON.stringify(encodeOutcomes([{ ok: true, value: { ipv4 } }]));
    expect(text.length).toBeLessThan(100_000 * 4 * 1.34 + 200);
  });

  it.each([
    ['no run', { tasks: '' }],
    ['tasks not text', { run: 'r', tasks: 5 }],
    ['not a list', { run: 'r', tasks: serialize({ name: 'x' }).toString('base64') }],
    ['a task without a name', { run: 'r', tasks: serialize([{ input: 1 }]).toString('base64') }],
    ['null', null],
  ])('refuses a job with %s', (_, data) => {
    expect(() => decodeJob(data)).toThrow('not a crew job');
  });

  it('refuses an answer with the wrong number of outcomes', () => {
    expect(() => decodeOutcomes(encodeOutcomes([]), 1)).toThrow('cannot read');
    expect(() => decodeOutcomes({ outcomes: 5 }, 0)).toThrow('cannot read');
  });
});
