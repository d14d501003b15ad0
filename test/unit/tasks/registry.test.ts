import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CA_TOO_BIG } from '../../../src/download/ca.ts';
import type { FetchInput, FetchOptions } from '../../../src/download/fetch.ts';
import type { ResizeOptions } from '../../../src/download/resize-plan.ts';
import type { LineRules } from '../../../src/logstats/formats/index.ts';
import type { FilterRules } from '../../../src/logstats/line-filter.ts';
import type { ScanRange } from '../../../src/logstats/split.ts';
import { acceptTask, taskNamed } from '../../../src/tasks/registry.ts';
import { makePrivateCa } from '../../helpers/certificates.ts';
import type { WorkerScope } from '../../../src/tasks/scope.ts';
import { resizeOptions } from '../../helpers/resize-options.ts';

// Real folders: a worker allowed to write in `allowed` only, with a run's temp folder in it,
// another outside it, and a link inside it that leads outside.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'crew-accept-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
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
const resize: ResizeOptions = resizeOptions({ maxAspectRatio: 1.5, jobs: 2 });
const filter: FilterRules = {
  since: { seconds: -86_400, instant: true },
  until: { seconds: 1_796_083_200, instant: false },
  excludeIps: ['10.0.0.0/8', '2001:db8::1'],
};
const range: ScanRange = { file: 0, path: '/logs/a.log', start: 0, end: 100, gzip: false };
const combined: LineRules = {
  format: 'combined',
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
};
const download: Omit<FetchInput, 'options'> = {
  url: 'https://e.com/a.png',
  tempFolder: temp,
  headers: { 'user-agent': 'x' },
  visited: [],
};

describe('acceptTask', () => {
  it.each([
    ['sumRange', { start: 0n, end: 10n }],
    ['logstatsRange', { range, top: true }],
    ['logstatsFiles', { files: [range, { ...range, file: 1, path: '/logs/b.log' }], top: 10 }],
    ['logstatsFiles', { files: [range], top: 0, rules: { ...combined, by: 'day' } }],
    ['logstatsRange', { range, top: false, rules: { ...combined, filter } }],
    ['logstatsFiles', { files: [range], top: 0, rules: { ...combined, filter } }],
    [
      'logstatsRange',
      {
        range,
        top: false,
        rules: {
          ...combined,
          filter: { ...filter, statuses: ['4xx', '500'], ignoreCrawlers: true },
          panels: ['status', 'not-found'],
        },
      },
    ],
    ['logstatsRange', { range, top: false, rules: { ...combined, format: 'w3c' } }],
    [
      'logstatsRange',
      {
        range,
        top: false,
        rules: {
          ...combined,
          format: 'auto',
          logFormat: { pattern: '%h [%d %t] "%r" %s', dateFormat: '%F', timeFormat: '%T' },
        },
      },
    ],
    [
      'logstatsFiles',
      {
        files: [range],
        top: 0,
        rules: { ...combined, logFormat: { pattern: '$remote_addr [$time_local] "$request"' } },
      },
    ],
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

  it('reads a batch of files only when every one of them is inside an allowed folder', () => {
    const reading = { writable: [], readable: [allowed] };
    const input = (...paths: string[]) => ({
      files: paths.map((path, file) => ({ ...range, file, path })),
      top: 0,
    });
    const inside = join(allowed, 'a.log');
    expect(acceptTask('logstatsFiles', input(inside, inside), reading)).toBeUndefined();
    expect(
      acceptTask('logstatsFiles', input(inside, join(root, 'elsewhere', 'a.log')), reading),
    ).toBe('"files.1.path" is not inside a folder this worker may read (crew worker --allow-read)');
    expect(
      acceptTask('logstatsFiles', input(join(allowed, 'link', 'a.log'), inside), reading),
    ).toBe('"files.0.path" is not inside a folder this worker may read (crew worker --allow-read)');
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
      'logstatsFiles',
      { files: [range, { ...range, path: 'b.log' }], top: 0 },
      '"files.1.path" must be an absolute path',
    ],
    ['logstatsFiles', { files: [range], top: 10_001 }, '"top" must be at most 10000'],
    [
      'logstatsRange',
      {
        range,
        top: false,
        rules: { ...combined, filter: { ...filter, excludeIps: ['10.1.0.0/8'] } },
      },
      '"rules.filter.excludeIps.0" must be an IPv4 or IPv6 address or CIDR block (192.0.2.7, 10.0.0.0/8, 2001:db8::/32): it has bits set past its /8',
    ],
    [
      'logstatsFiles',
      {
        files: [range],
        top: 0,
        rules: { ...combined, filter: { ...filter, excludeIps: '10.0.0.0/8' } },
      },
      '"rules.filter.excludeIps" must be a list',
    ],
    [
      'logstatsRange',
      {
        range,
        top: false,
        rules: { ...combined, filter: { ...filter, since: { seconds: 1.5, instant: true } } },
      },
      '"rules.filter.since.seconds" must be an integer',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, filter: { ...filter, until: { seconds: 1 } } } },
      '"rules.filter.until": missing field "instant"',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, filter: { ...filter, status: [404] } } },
      '"rules.filter": unexpected field "status"',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, filter: { ...filter, statuses: ['4XX'] } } },
      '"rules.filter.statuses.0" must be one of status codes (404) and classes (4xx), 100 to 599, comma-separated',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, filter: { ...filter, statuses: [404] } } },
      '"rules.filter.statuses.0" must be a string',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, panels: ['status', 'secrets'] } },
      '"rules.panels.1" must be one of status, paths, not-found, referrers, agents, bytes, hours',
    ],
    ['logstatsFiles', { files: [range], top: true }, '"top" must be a whole number'],
    ['logstatsFiles', { files: range, top: 0 }, '"files" must be a list'],
    [
      'logstatsFiles',
      { files: Array.from({ length: 1001 }, () => range), top: 0 },
      '"files" must hold at most 1000 items',
    ],
    [
      'logstatsFiles',
      { files: [range], top: 0, rules: { ...combined, format: 'xml' } },
      '"rules.format" must be one of auto, alb, cloudfront, combined, json, vhost_combined, w3c',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, logFormat: { pattern: '%h%^ x' } } },
      '"rules.logFormat" must be a log format crew reads: %h and %^ have nothing between them: crew cannot tell where one ends',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, logFormat: { pattern: '%s %b' } } },
      '"rules.logFormat" must be a log format crew reads: it names no client: %h',
    ],
    [
      'logstatsRange',
      {
        range,
        top: false,
        rules: { ...combined, logFormat: { pattern: '%h [%d]', dateFormat: '%Q' } },
      },
      '"rules.logFormat" must be a log format crew reads: --date-format "%Q": %Q is not one crew reads (it takes strptime conversions %Y %y %m %d %e %b %h %H %M %S %z %f %s %T %F %D %R %% and literal text)',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, logFormat: { pattern: 'x'.repeat(5000) } } },
      '"rules.logFormat" must be a log format crew reads: formats are at most 4096 characters',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, logFormat: { pattern: '%h', extra: 1 } } },
      '"rules.logFormat": unexpected field "extra"',
    ],
    [
      'logstatsRange',
      { range, top: false, rules: { ...combined, logFormat: { pattern: 7 } } },
      '"rules.logFormat.pattern" must be a string',
    ],
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
      // No worker names a file (the run that keeps the manifest does): a row that asks is forged.
      {
        ...download,
        place: { folder: allowed, stem: 'authorized_keys', ext: null },
        options: fetchOptions,
      },
      'unexpected field "place"',
    ],
    [
      'downloadUrl',
      { ...download, bodyInMemory: true, options: fetchOptions },
      '"bodyInMemory" must be absent: a queue worker never returns a body',
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

  it('sends a queue worker a download without the ask for the body in memory', () => {
    const local: FetchInput = { ...download, bodyInMemory: true, options: fetchOptions };
    const sent = taskNamed('downloadUrl')!.portable(local);
    expect(sent).toEqual({ ...download, options: fetchOptions });
    expect(acceptTask('downloadUrl', sent, scope)).toBeUndefined();
  });
});
