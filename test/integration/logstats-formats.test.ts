/**
 * Every log format on generated files, spawned as a user runs crew: vhost_combined, ALB, W3C
 * (IIS, its columns changed mid-file as at a restart), CloudFront, and --log-format in
 * GoAccess's and nginx's notations. Awkward content: quotes and spaces inside the request
 * and the user agent, `-` for bytes, IPv6 in several spellings, CRLF, malformed lines. Each
 * file's counts, days, status codes and paths are checked against a reference the test
 * works out from what it wrote; the same with the file cut into byte ranges on threads and
 * inline (a split W3C file counts as the whole one); and the filters.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { seeded } from '../helpers/client-rule.ts';

/** What the test knows of one request it wrote. */
interface Request {
  /** The client as written, and as crew counts it. */
  readonly client: string;
  readonly canonical: string;
  /** Unix seconds. */
  readonly at: number;
  readonly status: number;
  /** As requested (with a query string sometimes); `path` is without it. */
  readonly target: string;
  readonly path: string;
  /** null: written `-`. */
  readonly sent: number | null;
  readonly referrer: string;
  readonly agent: string;
}

const next = seeded(4242);
const pick = <T>(items: readonly T[]): T => items[next(items.length)]!;

/** Spellings of clients, and who they are. */
const CLIENTS: readonly (readonly [string, string])[] = [
  ['203.0.113.9', '203.0.113.9'],
  ['198.51.100.20', '198.51.100.20'],
  ['10.1.2.3', '10.1.2.3'],
  ['10.200.0.1', '10.200.0.1'],
  ['2001:DB8::1', '2001:db8::1'],
  ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
  ['2001:db8::abcd', '2001:db8::abcd'],
  ['::ffff:192.0.2.1', '192.0.2.1'],
  ['192.0.2.1', '192.0.2.1'],
  ...Array.from({ length: 40 }, (_, i): [string, string] => [
    `192.0.2.${i + 10}`,
    `192.0.2.${i + 10}`,
  ]),
];
/** Targets of quoted requests: spaces and quotes inside. */
const TARGETS = ['/', '/index.html', '/a b"c', '/caf\u00e9', '/api/v1/items?x=1&y=2', '/%7Euser/'];
/** Targets a W3C log can hold (IIS encodes spaces; the query is a column of its own). */
const PLAIN_TARGETS = ['/', '/index.html', '/caf\u00e9', '/api/v1/items?x=1', '/%7Euser/'];
const STATUSES = [200, 200, 200, 206, 301, 304, 404, 404, 500];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) "quoted" it',
  'curl/8.5.0',
  '-',
  'Go-http-client/1.1',
];
const REFERRERS = ['-', 'https://www.example.com/from here', 'android-app://x'];

/** Three days around midnights, UTC. */
const START = Date.parse('2026-12-01T20:00:00Z') / 1000;

function requests(count: number, targets: readonly string[]): Request[] {
  return Array.from({ length: count }, () => {
    const [client, canonical] = pick(CLIENTS);
    const target = pick(targets);
    return {
      client,
      canonical,
      at: START + next(2 * 86_400),
      status: pick(STATUSES),
      target,
      path: target.split('?')[0]!,
      sent: next(5) === 0 ? null : next(100_000),
      referrer: pick(REFERRERS),
      agent: pick(AGENTS),
    };
  });
}

const two = (n: number): string => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const utc = (at: number): Date => new Date(at * 1000);
const isoDate = (at: number): string => utc(at).toISOString().slice(0, 10);
const isoTime = (at: number): string => utc(at).toISOString().slice(11, 19);

/** `10/Oct/2000:13:55:36 -0700` of an instant, in an offset of `minutes`. */
function clfTime(at: number, minutes: number): string {
  const d = utc(at + minutes * 60);
  const sign = minutes < 0 ? '-' : '+';
  const off = Math.abs(minutes);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${sign}${two(Math.floor(off / 60))}${two(off % 60)}`;
}

/** A quoted field as Apache escapes it. */
const quoted = (text: string): string =>
  `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const bytes = (r: Request): string => (r.sent === null ? '-' : String(r.sent));

interface Preset {
  readonly name: string;
  /** The options that name the format. */
  readonly args: readonly string[];
  readonly targets: readonly string[];
  /** The file's lines: requests as the format writes them, its headers, and junk. */
  write(requests: readonly Request[]): string[];
  /** Junk lines written (each counted malformed). */
  readonly junk: number;
}

const JUNK = ['junk \x1b[31m line', '- - - nothing here'];

const PRESETS: readonly Preset[] = [
  {
    name: 'vhost_combined',
    args: ['--format', 'vhost_combined'],
    targets: TARGETS,
    junk: 2,
    write: (rs) => [
      ...rs.map(
        (r, i) =>
          `www.example.com:${i % 2 ? 443 : 80} ${r.client} - - [${clfTime(r.at, pick([-480, 0, 330]))}] ${quoted(`GET ${r.target} HTTP/1.1`)} ${r.status} ${bytes(r)} ${quoted(r.referrer)} ${quoted(r.agent)}`,
      ),
      ...JUNK,
    ],
  },
  {
    name: 'alb',
    args: ['--format', 'alb'],
    targets: TARGETS,
    junk: 2,
    write: (rs) => [
      ...rs.map((r, i) => {
        const client = r.client.includes(':') ? (i % 2 ? `[${r.client}]` : r.client) : r.client;
        return `https ${new Date(r.at * 1000).toISOString().replace('.000Z', '.123456Z')} app/lb/50dc6c ${client}:${1024 + i} 10.0.0.1:80 0.000 0.001 0.000 ${r.status} ${r.status} 34 ${bytes(r)} ${quoted(`GET https://www.example.com:443${r.target} HTTP/1.1`)} ${quoted(r.agent)} ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:x "Root=1-5" "-" "-" 0 2026-12-01T00:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1`;
      }),
      ...JUNK,
    ],
  },
  {
    name: 'w3c',
    args: ['--format', 'w3c'],
    targets: PLAIN_TARGETS,
    junk: 2,
    write: (rs) => {
      const half = Math.floor(rs.length / 2);
      const iis = (r: Request): string => {
        const [stem, query = '-'] = r.target.split('?');
        return `${isoDate(r.at)} ${isoTime(r.at)} 10.0.0.5 GET ${stem} ${query} 443 - ${r.client} ${r.agent.replaceAll(' ', '+')} ${r.referrer.replaceAll(' ', '+')} ${r.status} 0 0 15 ${bytes(r)}`;
      };
      return [
        '#Software: Microsoft Internet Information Services 10.0',
        '#Version: 1.0',
        '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken sc-bytes',
        ...rs.slice(0, half).map(iis),
        ...JUNK,
        // A restart that moves the client to the front.
        '#Software: Microsoft Internet Information Services 10.0',
        '#Fields: c-ip date time cs-uri-stem sc-status sc-bytes',
        ...rs
          .slice(half)
          .map(
            (r) =>
              `${r.client} ${isoDate(r.at)} ${isoTime(r.at)} ${r.target.split('?')[0]} ${r.status} ${bytes(r)}`,
          ),
      ];
    },
  },
  {
    name: 'cloudfront',
    args: ['--format', 'cloudfront'],
    targets: TARGETS,
    junk: 2,
    write: (rs) => {
      const encode = (text: string): string => encodeURIComponent(text).replaceAll('%2F', '/');
      return [
        '#Version: 1.0',
        '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query',
        ...rs.map((r) => {
          const [stem, query = '-'] = r.target.split('?');
          return [
            isoDate(r.at),
            isoTime(r.at),
            'LAX1',
            bytes(r),
            r.client,
            'GET',
            'd1.cloudfront.net',
            encode(stem!),
            r.status,
            encode(r.referrer),
            encode(r.agent),
            query,
          ].join('\t');
        }),
        ...JUNK,
      ];
    },
  },
  {
    name: 'GoAccess --log-format',
    args: [
      '--log-format',
      '%d %t %^ %h "%r" %s %b "%R" "%u"',
      '--date-format',
      '%Y-%m-%d',
      '--time-format',
      '%T',
    ],
    targets: TARGETS,
    junk: 2,
    write: (rs) => [
      ...rs.map(
        (r) =>
          `${isoDate(r.at)} ${isoTime(r.at)} www.example.com ${r.client} ${quoted(`GET ${r.target} HTTP/1.1`)} ${r.status} ${bytes(r)} ${quoted(r.referrer)} ${quoted(r.agent)}`,
      ),
      ...JUNK,
    ],
  },
  {
    name: 'nginx --log-format',
    args: [
      '--log-format',
      '$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time',
    ],
    targets: TARGETS,
    junk: 2,
    write: (rs) => [
      ...rs.map((r) => {
        const local = new Date((r.at + 3600) * 1000).toISOString().slice(0, 19);
        return `${r.client} - - [${local}+01:00] ${quoted(`GET ${r.target} HTTP/1.1`)} ${r.status} ${bytes(r)} ${quoted(r.referrer)} ${quoted(r.agent)} 0.004`;
      }),
      ...JUNK,
    ],
  },
];

/** What crew should say of requests: counts, days in UTC, status codes, paths. */
function reference(rs: readonly Request[], junk: number) {
  const days = new Map<string, Request[]>();
  for (const r of rs) days.set(isoDate(r.at), [...(days.get(isoDate(r.at)) ?? []), r]);
  const codes = new Map<string, number>();
  for (const r of rs) codes.set(String(r.status), (codes.get(String(r.status)) ?? 0) + 1);
  const paths = new Map<string, { requests: number; bytes: number }>();
  for (const r of rs) {
    const row = paths.get(r.path) ?? { requests: 0, bytes: 0 };
    row.requests++;
    row.bytes += r.sent ?? 0;
    paths.set(r.path, row);
  }
  return {
    total: rs.length + junk,
    ip: new Set(rs.map((r) => r.canonical)).size,
    malformed: junk,
    days: [...days]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, dayRs]) => ({
        key,
        total: dayRs.length,
        ip: new Set(dayRs.map((r) => r.canonical)).size,
      })),
    codes: Object.fromEntries([...codes].sort(([a], [b]) => (a < b ? -1 : 1))),
    paths: Object.fromEntries([...paths].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

interface Json {
  all: {
    total: number;
    ip: number;
    malformed: number;
    filtered?: number;
    panels?: Record<string, unknown>;
  };
  groups?: { key: string; total: number; ip: number; malformed: number }[];
  files: { ranges: number }[];
  misread?: { lines: number; examples: string[] };
  [key: string]: unknown;
}

/** The run's JSON without what differs between runtimes and splits. */
function comparable(json: Json): unknown {
  const { ms: _ms, workers: _workers, runtime: _runtime, files, ...rest } = json;
  return { ...rest, files: files.map(({ ranges: _ranges, ...file }) => file) };
}

let dir: string;
const written = new Map<string, { path: string; requests: Request[]; junk: number }>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-formats-'));
  for (const [i, preset] of PRESETS.entries()) {
    const rs = requests(3000, preset.targets);
    const path = join(dir, `${i}.log`);
    // CRLF line ends in every other file.
    await writeFile(path, `${preset.write(rs).join(i % 2 ? '\r\n' : '\n')}\n`);
    written.set(preset.name, { path, requests: rs, junk: preset.junk });
  }
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const PANELS = [
  '--by',
  'day',
  '--utc',
  '--panels',
  'status,paths',
  '--panel-rows',
  '10000',
  '--json',
];

async function crewJson(args: readonly string[]): Promise<Json> {
  const run = await runCrew(['logstats', ...args]);
  expect([run.code, run.stderr.includes('Error')]).toEqual([0, false]);
  return JSON.parse(run.stdout) as Json;
}

describe.each(PRESETS)('crew logstats on $name logs', (preset) => {
  it('counts requests, clients, days, status codes and paths as written, split or whole', async () => {
    const { path, requests: rs, junk } = written.get(preset.name)!;
    const want = reference(rs, junk);
    const whole = await crewJson([path, ...preset.args, ...PANELS]);
    const panels = whole.all.panels as {
      status: { codes: { key: string; requests: number }[] };
      paths: { key: string; requests: number; bytes: number }[];
    };
    expect({
      total: whole.all.total,
      ip: whole.all.ip,
      malformed: whole.all.malformed,
      days: whole
        .groups!.filter((g) => g.key !== 'unknown')
        .map(({ key, total, ip }) => ({ key, total, ip })),
      codes: Object.fromEntries(
        panels.status.codes
          .map((c): [string, number] => [c.key, c.requests])
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
      paths: Object.fromEntries(
        panels.paths
          .map((p): [string, object] => [p.key, { requests: p.requests, bytes: p.bytes }])
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    }).toEqual(want);
    // Auto recognises vhost_combined and ALB lines as such.
    if (preset.name === 'vhost_combined' || preset.name === 'alb') {
      expect(comparable(await crewJson([path, ...PANELS]))).toEqual(comparable(whole));
    }
    // Cut into byte ranges, on threads and inline: the same counts.
    for (const runtime of ['thread', 'inline']) {
      const split = await crewJson([
        path,
        ...preset.args,
        ...PANELS,
        '--runtime',
        runtime,
        '--workers',
        '2',
        '--split-size',
        '64K',
      ]);
      expect(split.files[0]!.ranges).toBeGreaterThan(3);
      expect(comparable(split)).toEqual(comparable(whole));
    }
  });

  it('reads stdin and a .gz as it reads the file', async () => {
    const { path } = written.get(preset.name)!;
    const whole = await crewJson([path, ...preset.args, ...PANELS]);
    const text = await readFile(path);
    const gz = `${path}.gz`;
    await writeFile(gz, gzipSync(text));
    const zipped = await crewJson([gz, ...preset.args, ...PANELS]);
    const run = await runCrew(['logstats', '-', ...preset.args, ...PANELS], { input: text });
    expect(run.code).toBe(0);
    const piped = JSON.parse(run.stdout) as Json;
    for (const other of [zipped, piped]) {
      expect([other.all, other.groups]).toEqual([whole.all, whole.groups]);
    }
  });

  it('filters by time, client and status', async () => {
    const { path, requests: rs } = written.get(preset.name)!;
    const json = await crewJson([
      path,
      ...preset.args,
      '--json',
      '--since',
      '2026-12-02T00:00:00Z',
      '--until',
      '2026-12-02T23:59:59Z',
      '--exclude-ip',
      '10.0.0.0/8',
      '--exclude-ip',
      '2001:db8::/112',
      '--status',
      '2xx,404',
      '--split-size',
      '64K',
    ]);
    const since = Date.parse('2026-12-02T00:00:00Z') / 1000;
    const kept = rs.filter(
      (r) =>
        r.at >= since &&
        r.at < since + 86_400 &&
        !r.canonical.startsWith('10.') &&
        !r.canonical.startsWith('2001:db8::') &&
        ((r.status >= 200 && r.status < 300) || r.status === 404),
    );
    // Junk lines have no time: malformed, whether they are in the window cannot be told.
    expect([json.all.total - json.all.malformed, json.all.ip, json.all.filtered]).toEqual([
      kept.length,
      new Set(kept.map((r) => r.canonical)).size,
      rs.length - kept.length,
    ]);
  });
});

describe('--log-format on lines it does not fit', () => {
  it('counts them malformed and says why for the first three, escaped, once', async () => {
    const { path } = written.get('vhost_combined')!;
    const run = await runCrew(['logstats', path, '--log-format', '%h %^[%d:%t %^] "%r" %s %b']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /--log-format could not read 3,002 lines \(counted malformed\), e\.g\.:/,
    );
    const examples = run.stderr.split('\n').filter((line) => line.startsWith('crew:   '));
    expect(examples).toHaveLength(3);
    expect(examples[0]).toMatch(
      /^crew: {3}%h "www\.example\.com:(80|443)" is not an IP address: "www/,
    );
    expect(run.stderr).not.toContain('\x1b');
  });

  it('refuses a format it cannot read, saying what it expected', async () => {
    const run = await runCrew(['logstats', dir, '--log-format', '%h %Y "%r"']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--log-format "%h %Y "%r"": %Y is not a specifier crew reads');
  });
});
