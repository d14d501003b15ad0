import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  decodeJob,
  decodeOutcomes,
  encodeJob,
  encodeOutcomes,
  MAX_ANSWER_TEXT,
  MAX_BATCH,
  MAX_FAILURE_TEXT,
  MAX_JOB_TEXT,
} from '../../../../src/pool/queue/wire.ts';

describe('the queue wire format', () => {
  it('fails the biggest answers of a job, each with its size, until the rest fit', () => {
    const outcomes = [
      { ok: true as const, value: new Uint32Array(10) },
      { ok: true as const, value: new Uint32Array(3000) },
      { ok: false as const, error: 'no such file' },
      { ok: true as const, value: new Uint32Array(2000) },
    ];
    const whole = encodeOutcomes(outcomes).outcomes.length;
    // Room for all but the biggest answer.
    const max = whole - 4000;
    const output = encodeOutcomes(outcomes, max);
    expect(output.outcomes.length).toBeLessThanOrEqual(max);
    const back = decodeOutcomes(output, 4, max);
    expect(back[0]).toEqual(outcomes[0]);
    expect(back[1]!.ok).toBe(false);
    expect(!back[1]!.ok && back[1]!.error).toMatch(
      /^its answer \(\d+ bytes\) is bigger than a coordinator reads/,
    );
    expect(back.slice(2)).toEqual(outcomes.slice(2));
    // With room for none of the big ones, both fail; what is small stays.
    const tight = decodeOutcomes(encodeOutcomes(outcomes, 1000), 4, 1000);
    expect(tight.map((o) => o.ok)).toEqual([true, false, false, false]);
  });

  it('keeps BigInts and typed arrays through JSON', () => {
    const tasks = [{ name: 'sumRange', input: { start: 2n ** 60n, end: 2n ** 60n + 5n } }];
    const job = JSON.parse(JSON.stringify(encodeJob('run-1', '1.2.3', tasks))) as unknown;
    expect(decodeJob(job)).toEqual({ run: 'run-1', version: '1.2.3', tasks });
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

  const packed = (value: unknown): string => serialize(value).toString('base64');
  it.each([
    ['no run', { version: 'v', tasks: '' }],
    ['no version', { run: 'r', tasks: packed([]) }],
    ['tasks not text', { run: 'r', version: 'v', tasks: 5 }],
    ['not a list', { run: 'r', version: 'v', tasks: packed({ name: 'x' }) }],
    ['a task without a name', { run: 'r', version: 'v', tasks: packed([{ input: 1 }]) }],
    ['bytes that are not V8 data', { run: 'r', version: 'v', tasks: 'AAAA' }],
    ['null', null],
  ])('refuses a job with %s', (_, data) => {
    expect(() => decodeJob(data)).toThrow('not a crew job');
  });

  it('refuses, before decoding, a job too big for a worker, and one of too many tasks', () => {
    const huge = { run: 'r', version: 'v', tasks: 'A'.repeat(MAX_JOB_TEXT + 4) };
    expect(() => decodeJob(huge)).toThrow(`bytes of tasks (at most ${MAX_JOB_TEXT})`);
    const many = Array.from({ length: MAX_BATCH + 1 }, () => ({ name: 'sumRange', input: {} }));
    expect(() => decodeJob(encodeJob('r', 'v', many))).toThrow(
      `${MAX_BATCH + 1} tasks (at most ${MAX_BATCH})`,
    );
    expect(decodeJob(encodeJob('r', 'v', many.slice(1))).tasks).toHaveLength(MAX_BATCH);
  });

  it('refuses an answer with the wrong number of outcomes', () => {
    expect(() => decodeOutcomes(encodeOutcomes([]), 1)).toThrow('cannot read');
    expect(() => decodeOutcomes({ outcomes: 5 }, 0)).toThrow('cannot read');
  });

  it('refuses, before decoding, an answer over the most it reads', () => {
    // Not V8 data at all: it is refused for its size before it is ever decoded.
    const huge = { outcomes: 'A'.repeat(MAX_ANSWER_TEXT + 1) };
    expect(() => decodeOutcomes(huge, 1)).toThrow(`(at most ${MAX_ANSWER_TEXT})`);
    expect(() => decodeOutcomes({ outcomes: 'A'.repeat(101) }, 1, 100)).toThrow(
      'an answer of 101 bytes (at most 100)',
    );
  });

  it.each([
    ['an outcome that is not an object', [7]],
    ['ok that is not a boolean', [{ ok: 1, value: 1 }]],
    ['a field more', [{ ok: true, value: 1, code: 'x' }]],
    ['a failure whose reason is no string', [{ ok: false, error: { message: 'x' } }]],
    ['bytes that are not V8 data', 'AAAA'],
  ])('refuses an answer with %s', (_, outcomes) => {
    const output = typeof outcomes === 'string' ? { outcomes } : { outcomes: packed(outcomes) };
    expect(() => decodeOutcomes(output, 1)).toThrow('cannot read');
  });

  it("cuts a failure's reason", () => {
    const [outcome] = decodeOutcomes(encodeOutcomes([{ ok: false, error: 'x'.repeat(10_000) }]), 1);
    expect(outcome).toEqual({ ok: false, error: 'x'.repeat(MAX_FAILURE_TEXT) });
  });
});
