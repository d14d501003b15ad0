import { describe, expect, it } from 'vitest';
import { acceptTask } from '../../../src/tasks/accept.ts';

const fetchOptions = {
  retries: 3,
  timeoutMs: 30_000,
  maxTimeMs: 120_000,
  maxBytes: 1_000_000,
  perHost: 8,
  headers: { 'user-agent': 'x' },
  locationTrusted: false,
  stacks: false,
  anyType: false,
  backoffMs: 500,
  http: 'auto',
};
const range = { file: 0, path: '/logs/a.log', start: 0, end: 100, gzip: false };
const download = {
  url: 'https://e.com/a.png',
  tempPath: '/out/.crew-ab12-3.part',
  stem: 'cat',
  ext: null,
  headers: { 'user-agent': 'x' },
  visited: [],
};

describe('acceptTask', () => {
  it.each([
    ['sumRange', { start: 0n, end: 10n }],
    ['logstatsRange', { range, top: true }],
    ['downloadUrl', { ...download, options: fetchOptions }],
  ])('runs a well-formed %s', (name, input) => {
    expect(acceptTask(name, input)).toBeUndefined();
  });

  it.each([
    ['evil', {}, 'no crew task is named "evil"'],
    ['constructor', {}, 'no crew task is named "constructor"'],
    ['toString', {}, 'no crew task is named "toString"'],
    ['sumRange', null, 'the input must be an object'],
    ['sumRange', [1], 'the input must be an object'],
    ['sumRange', { start: 0, end: 10 }, 'start and end must be BigInts with start <= end'],
    ['sumRange', { start: 5n, end: 1n }, 'start and end must be BigInts with start <= end'],
    ['sumRange', { start: 0n, end: 1n, code: 'x' }, 'unexpected field "code"'],
    ['logstatsRange', { range: { ...range, path: 'a.log' }, top: false }, 'path must be absolute'],
    [
      'logstatsRange',
      { range: { ...range, start: -1 }, top: false },
      'file, start and end must be whole numbers',
    ],
    ['logstatsRange', { range: { ...range, start: 200 }, top: false }, 'start must not pass end'],
    ['logstatsRange', { range, top: 'yes' }, 'top and gzip must be booleans'],
    ['logstatsRange', { range }, 'missing field "top"'],
    [
      'downloadUrl',
      { ...download, url: 'file:///etc/passwd', options: fetchOptions },
      'url must be http(s)',
    ],
    [
      'downloadUrl',
      { ...download, tempPath: '/etc/cron.d/job', options: fetchOptions },
      'tempPath must be an absolute path to a crew temp file',
    ],
    [
      'downloadUrl',
      { ...download, tempPath: '.crew-ab-1.part', options: fetchOptions },
      'tempPath must be an absolute path to a crew temp file',
    ],
    ...['../cat', 'a/b', 'a\\b', '.crew-lock', '', 'nul\u0000', 'crew-manifest.jsonl'].map(
      (stem): [string, unknown, string] => [
        'downloadUrl',
        { ...download, stem, options: fetchOptions },
        'stem must be one safe file name',
      ],
    ),
    [
      'downloadUrl',
      { ...download, stem: 'crew-manifest', ext: 'jsonl', options: fetchOptions },
      'stem must be one safe file name',
    ],
    [
      'downloadUrl',
      { ...download, ext: '../x', options: fetchOptions },
      'ext must be null or letters and digits',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, retries: 1.5 } },
      'fetch options must be whole numbers',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, headers: { a: 1 } } },
      'anyType, locationTrusted and stacks must be booleans, headers and visited strings',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, stacks: 'no' } },
      'anyType, locationTrusted and stacks must be booleans, headers and visited strings',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, proxy: 'x' } },
      'unexpected field "proxy"',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, http: 'h3' } },
      'http must be auto, 1.1 or 2',
    ],
  ])('refuses %s: %s', (name, input, why) => {
    expect(acceptTask(name, input)).toBe(why);
  });
});
