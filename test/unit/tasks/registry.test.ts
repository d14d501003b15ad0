import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CA_TOO_BIG } from '../../../src/download/ca.ts';
import type { FetchInput, FetchOptions } from '../../../src/download/fetch.ts';
import type { ResizeOptions } from '../../../src/download/resize-plan.ts';
import type { ScanRange } from '../../../src/logstats/split.ts';
import { acceptTask } from '../../../src/tasks/registry.ts';
import { makePrivateCa } from '../../helpers/certificates.ts';
import type { WorkerScope } from '../../../src/tasks/scope.ts';

// Real folders: a worker allowed to write in `allowed` only, with a run's temp folder in it,
// another outside it, and a link inside it that leads outside.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'crew-accept-')));
const allowed = join(root, 'allowed');
const temp = join(allowed, 'out', '.crew-aabbccdd');
const outside = join(root, 'elsewhere', '.crew-aabbccdd');
for (const folder of [temp, outside]) mkdirSync(folder, { recursive: true });
symlinkSync(join(root, 'elsewhere'), join(allowed, 'link'));
writeFileSync(join(root, 'elsewhere', 'a.log'), '');
writeFileSync(join(allowed, 'a.log'), '');
const scope: WorkerScope = { writable: [allowed], readable: undefined };
// A real CA certificate: what --cacert hands a worker is the PEM text itself.
makePrivateCa(root);
const caPem = readFileSync(join(root, 'ca.crt'), 'utf8');

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
  http: 'auto',
};
// The image step's options, as `--resize-mode border` makes them.
const resize: ResizeOptions = {
  mode: 'border',
  width: 256,
  height: 256,
  onlyIfBigger: false,
  format: 'jpg',
  quality: 95,
  skipReencode: false,
  keepMetadata: false,
  minImageSize: 0,
  maxImageArea: 0,
  maxAspectRatio: 1.5,
  jobs: 2,
};
const range: ScanRange = { file: 0, path: '/logs/a.log', start: 0, end: 100, gzip: false };
const download: Omit<FetchInput, 'options'> = {
  url: 'https://e.com/a.png',
  tempFolder: temp,
  place: null,
  headers: { 'user-agent': 'x' },
  visited: [],
};

describe('acceptTask', () => {
  it.each([
    ['sumRange', { start: 0n, end: 10n }],
    ['logstatsRange', { range, top: true }],
    ['downloadUrl', { ...download, options: fetchOptions }],
    ['downloadUrl', { ...download, options: { ...fetchOptions, resize } }],
    ['downloadUrl', { ...download, options: { ...fetchOptions, ca: caPem } }],
    ['downloadUrl', { ...download, options: { ...fetchOptions, rateLimit: 512 * 1024 } }],
    [
      'downloadUrl',
      {
        ...download,
        options: { ...fetchOptions, resize: { ...resize, format: 'png', quality: 9 } },
      },
    ],
  ])('runs a well-formed %s', (name, input) => {
    expect(acceptTask(name, input, scope)).toBeUndefined();
  });

  it('writes only inside the folders its operator allowed, links resolved', () => {
    const input = (tempFolder: string) => ({ ...download, tempFolder, options: fetchOptions });
    const refused =
      '"tempFolder" is not inside a folder this worker may write in (crew worker --allow-dir)';
    expect(acceptTask('downloadUrl', input(outside), scope)).toBe(refused);
    expect(acceptTask('downloadUrl', input(join(allowed, 'link', '.crew-aabbccdd')), scope)).toBe(
      refused,
    );
    expect(acceptTask('downloadUrl', input(join(allowed, '.crew-00000000')), scope)).toBe(refused);
    expect(acceptTask('downloadUrl', input(temp), { ...scope, writable: [] })).toBe(refused);
  });

  it('reads only inside the folders its operator allowed, when it named any', () => {
    const reading = { writable: [], readable: [allowed] };
    const input = (path: string) => ({ range: { ...range, path }, top: false });
    expect(acceptTask('logstatsRange', input(join(allowed, 'a.log')), reading)).toBeUndefined();
    const refused =
      '"range.path" is not inside a folder this worker may read (crew worker --allow-read)';
    expect(acceptTask('logstatsRange', input(join(root, 'elsewhere', 'a.log')), reading)).toBe(
      refused,
    );
    expect(acceptTask('logstatsRange', input(join(allowed, 'link', 'a.log')), reading)).toBe(
      refused,
    );
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
    ...['/etc/cron.d', '.crew-aabbccdd', `${temp}/..`, `${allowed}/out`].map(
      (tempFolder): [string, unknown, string] => [
        'downloadUrl',
        { ...download, tempFolder, options: fetchOptions },
        '"tempFolder" must be the absolute path of a crew temp folder',
      ],
    ),
    [
      'downloadUrl',
      { ...download, place: { folder: allowed, stem: 'authorized_keys', ext: null } },
      '"place" must be null: a queue worker never names a file',
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
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, http: 'h3' } },
      '"options.http" must be one of auto, 1.1, 2',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, ca: '/etc/ssl/ca.pem' } },
      '"options.ca": holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, ca: caPem.repeat(200) } },
      `"options.ca": ${CA_TOO_BIG}`,
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, rateLimit: 0 } },
      '"options.rateLimit" must be a whole number from 1 to 9007199254740991',
    ],
    [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, ca: 1 } },
      '"options.ca" must be a string',
    ],
    ...(
      [
        [
          { mode: 'stretch' },
          '"options.resize.mode" must be one of no, keep_ratio, keep_ratio_largest, center_crop, border',
        ],
        [{ width: 0 }, '"options.resize.width" must be a whole number from 1 to 16384'],
        [{ height: 1e9 }, '"options.resize.height" must be a whole number from 1 to 16384'],
        [{ format: 'tiff' }, '"options.resize.format" must be one of jpg, png, webp'],
        [
          { format: 'png', quality: 95 },
          '"options.resize.quality" must be a compression level from 0 to 9 for png',
        ],
        [
          { maxAspectRatio: Number.NaN },
          '"options.resize.maxAspectRatio" must be a number from 0 to 9007199254740991',
        ],
        [{ jobs: 1000 }, '"options.resize.jobs" must be a whole number from 1 to 64'],
        [{ path: '/etc' }, '"options.resize": unexpected field "path"'],
      ] as const
    ).map(([change, why]): [string, unknown, string] => [
      'downloadUrl',
      { ...download, options: { ...fetchOptions, resize: { ...resize, ...change } } },
      why,
    ]),
  ])('refuses %s: %s', (name, input, why) => {
    expect(acceptTask(name, input, scope)).toBe(why);
  });
});
