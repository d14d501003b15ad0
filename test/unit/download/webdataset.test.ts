import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FetchOutcome } from '../../../src/download/fetch.ts';
import { okLine } from '../../../src/download/lines.ts';
import { MAX_QUEUED, type ManifestLine } from '../../../src/download/manifest.ts';
import type { Job } from '../../../src/download/rows.ts';
import { Webdataset } from '../../../src/download/webdataset.ts';

let out: string;
let temp: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'crew-webdataset-'));
  temp = join(out, '.crew-0123456789abcdef');
  mkdirSync(temp);
  return () => rmSync(out, { recursive: true, force: true });
});

/** Member names of a tar, as Python's tarfile reads them. */
const names = (path: string): string[] =>
  execFileSync(
    'python3',
    ['-c', 'import tarfile,sys\nfor m in tarfile.open(sys.argv[1], "r:"): print(m.name)', path],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n');

const outcomeOf = (
  body: Uint8Array,
): Extract<FetchOutcome, { ok: true }> & { body: Uint8Array } => ({
  ok: true,
  status: 200,
  bytes: body.length,
  sha256: createHash('sha256').update(body).digest('hex'),
  contentType: 'image/png',
  ext: 'png',
  attempts: 1,
  finalUrl: '',
  body,
});

describe('Webdataset', () => {
  it('hands a big shard to the manifest a slice at a time, and names its tar only once every line is written', () => {
    const rows = 2 * MAX_QUEUED + 10;
    const recorded: { line: ManifestLine; onWritten: (() => void) | undefined }[] = [];
    const done: number[] = [];
    const dataset = new Webdataset(
      {
        out,
        temp,
        shardSize: rows,
        force: false,
        ext: null,
        schema: () => ({ caption: false, columns: [] }),
      },
      {
        record: (line, onWritten) => recorded.push({ line, onWritten }),
        done: (line) => done.push(line.row),
        skipped: () => undefined,
      },
    );
    for (let row = 1; row <= rows; row++) {
      const job: Job = { row, url: `http://x.test/${row}`, name: String(row), id: String(row) };
      expect(dataset.read(job)).toEqual([job]);
      const outcome = outcomeOf(Buffer.from(`image ${row}`));
      dataset.add(job, outcome);
      dataset.finish({
        ...okLine(job, 1, outcome, dataset.fileOf(row), true),
        key: dataset.keyOf(row),
      });
    }
    expect(dataset.end()).toEqual([]);
    // Complete: its side files are in place, its tar still aside, no row done yet.
    expect(existsSync(join(out, '00000.parquet'))).toBe(true);
    expect(existsSync(join(out, '00000.tar'))).toBe(false);
    let written = 0;
    while (written < recorded.length) {
      // Only lines handed over wait; at most one slice is unwritten at a time.
      expect(recorded.length - written).toBeLessThanOrEqual(MAX_QUEUED);
      expect(done).toEqual([]);
      const slice = recorded.slice(written);
      expect(slice.slice(0, -1).every((r) => r.onWritten === undefined)).toBe(true);
      written = recorded.length;
      slice.at(-1)!.onWritten!(); // the manifest wrote this slice
    }
    expect(recorded.map((r) => r.line.row)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    expect(done).toHaveLength(rows);
    expect(readdirSync(temp)).toEqual([]);
    const members = names(join(out, '00000.tar'));
    expect(members).toHaveLength(2 * rows);
    expect(members.slice(0, 2)).toEqual([`${dataset.keyOf(1)}.png`, `${dataset.keyOf(1)}.json`]);
  });
});
