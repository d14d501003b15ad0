import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../../src/download/config.ts';
import { badRowLine, okLine, skippedLine } from '../../../src/download/lines.ts';
import { Tally } from '../../../src/download/report.ts';
import { Interrupted } from '../../../src/errors.ts';

const job = (row: number) => ({ row, id: '', name: `n${row}`, url: `http://x.test/${row}` });
const fetched = {
  ok: true as const,
  status: 200,
  bytes: 100,
  sha256: 'ab',
  contentType: 'image/png',
  ext: 'png',
  attempts: 1,
  finalUrl: '',
  temp: '/out/.crew-0123abcd/0123456789abcdef.part',
};
// No image step ran: nothing saved through it, nothing filtered.
const noImages = { images: 0, filtered: 0 };
const bad = (row: number) => badRowLine({ row, url: `u${row}`, error: 'no URL in this row' });

describe('Tally', () => {
  it('counts every finished row, bytes of the downloaded ones, and reports progress each time', () => {
    const progress: DownloadProgress[] = [];
    let fraction = 0.25;
    const tally = new Tally(
      performance.now(),
      () => fraction,
      (p) => progress.push(p),
    );
    for (let i = 0; i < 4; i++) tally.read();
    tally.finished(okLine(job(1), 1, fetched, 'a.png', true));
    tally.finished(skippedLine(job(2), { file: 'b.png', bytes: 50 }));
    fraction = 1;
    tally.finished(bad(3));
    expect(progress.map((p) => ({ ...p, elapsedMs: 0 }))).toEqual([
      { done: 1, read: 4, failed: 0, bytes: 100, fraction: 0.25, elapsedMs: 0, ...noImages },
      { done: 2, read: 4, failed: 0, bytes: 100, fraction: 0.25, elapsedMs: 0, ...noImages },
      { done: 3, read: 4, failed: 1, bytes: 100, fraction: 1, elapsedMs: 0, ...noImages },
    ]);
    expect(tally.result({ requests: 1, out: 'images', cleaned: 2 })).toMatchObject({
      total: 4,
      ok: 1,
      skipped: 1,
      failed: 1,
      bytes: 100,
      requests: 1,
      out: 'images',
      cleaned: 2,
      failures: [{ row: 3, url: 'u3', error: 'no URL in this row' }],
    });
  });

  it('lists only the first failures; the count has them all', () => {
    const tally = new Tally(performance.now(), () => undefined, undefined, 2);
    for (let row = 1; row <= 5; row++) {
      tally.read();
      tally.finished(bad(row));
    }
    const result = tally.result({ requests: 0, out: 'o', cleaned: 0 });
    expect(result.failed).toBe(5);
    expect(result.failures.map((f) => f.row)).toEqual([1, 2]);
  });

  it('says what an interrupted run did and how to finish it', () => {
    const tally = new Tally(performance.now(), () => undefined);
    for (let i = 0; i < 3; i++) tally.read();
    tally.finished(okLine(job(1), 1, fetched, 'a.png', true));
    tally.finished(bad(2));
    const error = tally.interrupted();
    expect(error).toBeInstanceOf(Interrupted);
    expect(error.message).toBe(
      'interrupted: 1 downloaded, 0 skipped, 1 failed of 3 rows read; run the same command again to finish',
    );
  });

  it('times the run from when it began', () => {
    const tally = new Tally(performance.now() - 5000, () => undefined);
    expect(tally.result({ requests: 0, out: 'o', cleaned: 0 }).ms).toBeGreaterThanOrEqual(5000);
  });
});
