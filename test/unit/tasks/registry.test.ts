import { describe, expect, it } from 'vitest';
import type { FetchInput, FetchOptions } from '../../../src/download/fetch.ts';
import type { ScanRange } from '../../../src/logstats/split.ts';
import { acceptTask } from '../../../src/tasks/registry.ts';

// Typed: a field added to an input type must be added here (and to its check) to compile.
const fetchOptions: FetchOptions = {
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
};
const range: ScanRange = { file: 0, path: '/logs/a.log', start: 0, end: 100, gzip: false };
const download: Omit<FetchInput, 'options'> = {
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
    ['sumRange', { start: 0, end: 10 }, '"start" must be a BigInt'],
    [
      'sumRange',
      { start: 5n, end: 1n },
      'start must not pass end, and at most 9007199254740992 numbers',
    ],
    [
      'sumRange',
      { start: 2n ** 100n, end: 2n ** 100n + 10n },
      'start and end must lie within 64-bit integers',
    ],
    [
      'sumRange',
      { start: 2n ** 63n - 2n, end: 2n ** 63n },
      'start and end must lie within 64-bit integers',
    ],
    ['sumRange', { start: 0n, end: 1n, code: 'x' }, 'unexpected field "code"'],
    [
      'logstatsRange',
      { range: { ...range, path: 'a.log' }, top: false },
      '"range.path" must be an absolute path',
    ],
    [
      'logstatsRange',
      { range: { ...range, start: -1 }, top: false },
      '"range.start" must be a whole number',
    ],
    [
      'logstatsRange',
      { range: { ...range, start: 200 }, top: false },
      '"range": start must not pass end',
    ],
    ['logstatsRange', { range, top: 'yes' }, '"top" must be a boolean'],
    ['logstatsRange', { range }, 'missing field "top"'],
    [
      'downloadUrl',
      { ...download, url: 'file:///etc/passwd', options: fetchOptions },
      '"url" must be an http(s) URL',
    ],
    [
      'downloadUrl',
      { ...download, tempPath: '/etc/cron.d/job', options: fetchOptions },
      '"tempPath" must be an absolute path to a crew temp file',
    ],
    [
      'downloadUrl',
      { ...download, tempPath: '.crew-ab-1.part', options: fetchOptions },
      '"tempPath" must be an absolute path to a crew temp file',
    ],
    ...['../cat', 'a/b', 'a\\b', '.crew-lock', '', 'nul\u0000'].map(
      (stem): [string, unknown, string] => [
        'downloadUrl',
        { ...download, stem, options: fetchOptions },
        '"stem" must be one safe file name',
      ],
    ),
    [
      'downloadUrl',
      { ...download, stem: 'crew-manifest.jsonl', options: fetchOptions },
      'the stem must not name the manifest',
    ],
    [
      'downloadUrl',
      { ...download, stem: 'crew-manifest', ext: 'jsonl', options: fetchOptions },
      'the stem must not name the manifest',
    ],
    [
      'downloadUrl',
      { ...download, ext: '../x', options: fetchOptions },
      '"ext" must be null or letters and digits',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, retries: 1.5 } },
      '"options.retries" must be a whole number',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, headers: { a: 1 } } },
      '"options.headers" must hold only strings',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, stacks: 'no' } },
      '"options.stacks" must be a boolean',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, proxy: 'x' } },
      '"options": unexpected field "proxy"',
    ],
  ])('refuses %s: %s', (name, input, why) => {
    expect(acceptTask(name, input)).toBe(why);
  });
});
