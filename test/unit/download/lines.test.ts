import { describe, expect, it } from 'vitest';
import type { FetchOutcome } from '../../../src/download/fetch.ts';
import {
  badRowLine,
  fetchFailedLine,
  okLine,
  skippedLine,
  writeFailedLine,
} from '../../../src/download/lines.ts';

const job = { row: 7, id: '42', name: 'cat', url: 'http://x.test/a' };
const fetched: Extract<FetchOutcome, { ok: true }> = {
  ok: true,
  status: 200,
  bytes: 67,
  sha256: 'ab12',
  contentType: 'image/png',
  ext: 'png',
  attempts: 2,
  finalUrl: 'http://x.test/b',
  temp: '/out/.crew-0123abcd/0123456789abcdef.part',
};

// The manifest is read by people and scripts: its lines, key order included, stay as they are.
describe('manifest lines', () => {
  it.each([
    [
      'skipped',
      skippedLine(job, { file: 'cat.png', bytes: 67 }),
      '{"file":"cat.png","http":null,"bytes":67,"sha256":null,"contentType":null,"attempts":0,"error":null,"ms":0,"row":7,"id":"42","name":"cat","url":"http://x.test/a","status":"skipped"}',
    ],
    [
      'a bad row',
      badRowLine({ row: 3, url: 'ftp://x.test/a', error: 'not an http(s) URL' }),
      '{"file":null,"http":null,"bytes":0,"sha256":null,"contentType":null,"attempts":0,"error":"not an http(s) URL","ms":0,"row":3,"id":"","name":"","url":"ftp://x.test/a","status":"failed"}',
    ],
    [
      'a failed fetch',
      fetchFailedLine(job, 12.3, { ok: false, status: 404, error: 'HTTP 404', attempts: 1 }),
      '{"file":null,"http":404,"bytes":0,"sha256":null,"contentType":null,"attempts":1,"error":"HTTP 404","ms":12.3,"row":7,"id":"42","name":"cat","url":"http://x.test/a","status":"failed"}',
    ],
    [
      'a failed fetch without a response',
      fetchFailedLine(job, 5, {
        ok: false,
        status: undefined,
        error: 'connection refused',
        attempts: 4,
      }),
      '{"file":null,"http":null,"bytes":0,"sha256":null,"contentType":null,"attempts":4,"error":"connection refused","ms":5,"row":7,"id":"42","name":"cat","url":"http://x.test/a","status":"failed"}',
    ],
    [
      'a failed write',
      writeFailedLine(job, 1.5, fetched, 'cat.png', new Error('EACCES: permission denied')),
      '{"file":null,"http":null,"bytes":0,"sha256":null,"contentType":null,"attempts":2,"error":"cannot write cat.png: EACCES: permission denied","ms":1.5,"row":7,"id":"42","name":"cat","url":"http://x.test/a","status":"failed"}',
    ],
    [
      'ok, fetched by this row',
      okLine(job, 20.1, fetched, 'cat.png', true),
      '{"row":7,"id":"42","name":"cat","url":"http://x.test/a","ms":20.1,"status":"ok","file":"cat.png","http":200,"bytes":67,"sha256":"ab12","contentType":"image/png","attempts":2,"error":null,"width":null,"height":null}',
    ],
    [
      'ok, a copy of another row’s fetch (no attempts, no content type)',
      okLine(job, 0.4, { ...fetched, contentType: '' }, 'cat-2.png', false),
      '{"row":7,"id":"42","name":"cat","url":"http://x.test/a","ms":0.4,"status":"ok","file":"cat-2.png","http":200,"bytes":67,"sha256":"ab12","contentType":null,"attempts":0,"error":null,"width":null,"height":null}',
    ],
  ])('%s', (_, line, json) => {
    expect(JSON.stringify(line)).toBe(json);
  });
});
