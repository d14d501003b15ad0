/**
 * `--by day|hour` across files and byte ranges, and JSON-lines logs, against counts the test
 * works out itself from the lines it writes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';

interface Group {
  key: string;
  total: number;
  ip: number;
  malformed: number;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-by-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const MONTHS = ['Jan', 'Feb', 'Mar'];
const clf = (ip: string, day: number, hour: number, offset = '+0800') =>
  `${ip} - - [${String(day).padStart(2, '0')}/${MONTHS[2]}/2021:${String(hour).padStart(2, '0')}:30:00 ${offset}] "GET /${'p'.repeat(40)} HTTP/1.1" 200 512`;

/** Expected groups from [key, ip] pairs (malformed lines given apart). */
function expected(entries: [string, string | null][]): Group[] {
  const groups = new Map<string, { total: number; ips: Set<string>; malformed: number }>();
  for (const [key, ip] of entries) {
    const g = groups.get(key) ?? { total: 0, ips: new Set<string>(), malformed: 0 };
    g.total++;
    if (ip === null) g.malformed++;
    else g.ips.add(ip);
    groups.set(key, g);
  }
  return [...groups]
    .sort(([a], [b]) => (a === 'unknown' ? 1 : b === 'unknown' ? -1 : a < b ? -1 : 1))
    .map(([key, g]) => ({ key, total: g.total, ip: g.ips.size, malformed: g.malformed }));
}

describe('logstats --by', () => {
  it('counts each day across files and ranges exactly: a day is the union of every part', async () => {
    const logs = join(dir, 'rotated');
    await mkdir(logs);
    const entries: [string, string | null][] = [];
    // Two files rotated by size: days 21-22 in one, 22-23 in the other; ~230 KB each, so
    // --split-size 64K cuts each into ranges, and day 22's clients come from both files.
    for (const [file, days] of [
      ['access.log.1', [21, 22]],
      ['access.log', [22, 23]],
    ] as const) {
      const lines: string[] = [];
      for (const day of days) {
        for (let i = 0; i < 1000; i++) {
          const ip = `10.${day}.${i % 7}.${(i * 37) % 251}`;
          lines.push(clf(ip, day, i % 24));
          entries.push([`2021-03-${day}`, ip]);
        }
      }
      lines.push('garbage line without a time');
      entries.push(['unknown', null]);
      lines.push(clf('not-an-ip', 23, 1));
      entries.push(['2021-03-23', null]);
      await writeFile(join(logs, file), `${lines.join('\n')}\n`);
    }
    const want = expected(entries);
    for (const runtime of ['process', 'inline']) {
      const run = await runCrew(
        ['logstats', logs, '--by', 'day', '--split-size', '64K', '--runtime', runtime, '--json'],
        {},
      );
      expect(run.code).toBe(0);
      const doc = JSON.parse(run.stdout) as { groups: Group[]; files: { ranges: number }[] };
      expect(doc.files.every((f) => f.ranges > 1)).toBe(true);
      expect(doc.groups).toEqual(want);
    }
    const text = await runCrew(['logstats', logs, '--by', 'day'], {});
    expect(text.stdout).toMatch(/^day +total +ip +malformed$/m);
    expect(text.stdout).toMatch(/^2021-03-22 +2,000 /m);
    expect(text.stdout).toMatch(/^unknown +2 +0 +2$/m);
  });

  it('groups by hour in the timestamp’s own offset, or in UTC with --utc', async () => {
    const path = join(dir, 'offsets.log');
    await writeFile(
      path,
      [
        clf('1.1.1.1', 22, 1, '+0800'), // 2021-03-21 17:00 UTC
        clf('1.1.1.2', 22, 1, '-0500'), // 2021-03-22 06:00 UTC
        clf('1.1.1.3', 21, 23, '-0130'), // 2021-03-22 00:30 UTC
      ].join('\n'),
    );
    const own = await runCrew(['logstats', path, '--by', 'hour', '--json'], {});
    expect((JSON.parse(own.stdout) as { groups: Group[] }).groups.map((g) => g.key)).toEqual([
      '2021-03-21 23:00',
      '2021-03-22 01:00',
    ]);
    const utc = await runCrew(['logstats', path, '--by', 'day', '--utc', '--json'], {});
    expect((JSON.parse(utc.stdout) as { groups: Group[] }).groups).toEqual([
      { key: '2021-03-21', total: 1, ip: 1, malformed: 0 },
      { key: '2021-03-22', total: 2, ip: 2, malformed: 0 },
    ]);
  });

  it.each([
    [['--utc'], /--utc needs --by/],
    [['--by', 'week'], /Invalid values/],
    [['--format', 'xml'], /Invalid values/],
    [['--ip-field', 'a..b'], /--ip-field must be a field name or a dotted path/],
  ])('rejects %j as a usage error', async (args, message) => {
    const run = await runCrew(['logstats', dir, ...args], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('logstats on JSON-lines logs', () => {
  const caddy = (ip: string, ts: number) =>
    JSON.stringify({ level: 'info', ts, request: { remote_ip: '10.0.0.1', client_ip: ip } });
  const nginx = (ip: string, time: string) =>
    JSON.stringify({ time_iso8601: time, remote_addr: ip, request: 'GET / HTTP/1.1' });

  it('reads the client from the common fields, says which, and counts bad lines as malformed', async () => {
    const logs = join(dir, 'json');
    await mkdir(logs);
    await writeFile(
      join(logs, 'caddy.log'),
      [
        caddy('203.0.113.1', 1616407200), // 2021-03-22T10:00:00Z
        caddy('203.0.113.2', 1616407200),
        caddy('203.0.113.1', 1616493600), // a day later
        '{"ts": 1616407200, "request": {', // cut short
        caddy('not an ip', 1616407200),
      ].join('\n'),
    );
    await writeFile(
      join(logs, 'nginx.log'),
      [
        nginx('198.51.100.7, 10.0.0.1', '2021-03-22T08:00:00+08:00'), // X-Forwarded-For list
        nginx('2001:db8::1', '2021-03-22T23:00:00+08:00'),
        clf('192.0.2.1', 22, 9), // a common-log line in the same file: auto is per line
      ].join('\n'),
    );
    const run = await runCrew(['logstats', logs, '--json', '--by', 'day'], {});
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      files: { file: string; total: number; ip: number; malformed: number }[];
      groups: Group[];
    };
    expect(doc.files).toMatchObject([
      { file: 'caddy.log', total: 5, ip: 2, malformed: 2 },
      { file: 'nginx.log', total: 3, ip: 3, malformed: 0 },
    ]);
    expect(doc.groups).toEqual([
      { key: '2021-03-22', total: 6, ip: 5, malformed: 1 },
      { key: '2021-03-23', total: 1, ip: 1, malformed: 0 },
      { key: 'unknown', total: 1, ip: 0, malformed: 1 },
    ]);
    expect(run.stderr).toBe(
      'crew: JSON lines: client IPs from "remote_addr", "request.client_ip"\n',
    );
    // Without --by, JSON lines take the same rule on the fast path's fallback.
    const plain = await runCrew(['logstats', logs, '--json'], {});
    expect((JSON.parse(plain.stdout) as typeof doc).files).toEqual(
      doc.files.map((f) => expect.objectContaining(f) as unknown),
    );
  });

  it('takes --ip-field and --time-field; --format json makes other lines malformed', async () => {
    const path = join(dir, 'traefik.log');
    await writeFile(
      path,
      [
        JSON.stringify({
          ClientHost: '1.2.3.4',
          StartUTC: '2021-03-22T10:00:00Z',
          peer: '9.9.9.9',
        }),
        JSON.stringify({
          ClientHost: '1.2.3.5',
          StartUTC: '2021-03-22T11:00:00Z',
          peer: '9.9.9.9',
        }),
        clf('5.6.7.8', 22, 1),
      ].join('\n'),
    );
    const peer = await runCrew(
      ['logstats', path, '--ip-field', 'peer', '--by', 'day', '--time-field', 'StartUTC', '--json'],
      {},
    );
    expect(JSON.parse(peer.stdout)).toMatchObject({
      all: { total: 3, ip: 2, malformed: 0 },
      groups: [{ key: '2021-03-22', total: 3, ip: 2, malformed: 0 }],
    });
    const json = await runCrew(['logstats', path, '--format', 'json', '--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ all: { total: 3, ip: 2, malformed: 1 } });
    const combined = await runCrew(['logstats', path, '--format', 'combined', '--json'], {});
    expect(JSON.parse(combined.stdout)).toMatchObject({ all: { total: 3, ip: 1, malformed: 2 } });
  });
});
