/**
 * `--since`, `--until` and `--exclude-ip` on generated logs: lines around midnight in offsets
 * from -10:00 to +14:00, IPv6 in several spellings, IPv4-mapped clients, JSON lines, lines
 * without a time or a client; a big file cut into ranges, small files counted many to a task,
 * a .gz, and stdin. The counts are checked against a reference the test works out itself
 * from what it wrote, in every runtime.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../helpers/cli.ts';
import { seeded } from '../helpers/client-rule.ts';

/** What the test knows of a line it wrote. */
interface Written {
  readonly text: string;
  /** Its client (`v4:<n>`, `v6:<n>`), or null when the line has none. */
  readonly client: string | null;
  /** IPv4 as a number, IPv6 as a bigint: for the reference's exclusion check. */
  readonly address: number | bigint | null;
  /** Its time in UTC and as written (in its own offset), in seconds; null without one. */
  readonly instant: number | null;
  readonly wall: number | null;
}

interface Counts {
  total: number;
  ip: number;
  malformed: number;
  filtered: number;
}

interface Doc {
  files: (Counts & { file: string; ranges: number })[];
  all: Counts & { files: number };
  groups?: { key: string; total: number; ip: number; malformed: number }[];
}

// The same logs on every run.
const next = seeded(35);
const random = (): number => next(1 << 24) / (1 << 24);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (n: number): number => Math.floor(random() * n);

const MIDNIGHT = Date.parse('2026-12-01T00:00:00Z') / 1000;
const OFFSETS = [-600, -300, -90, 0, 330, 345, 840];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

function clfTime(wall: number, offset: number): string {
  const d = new Date(wall * 1000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`
  );
}

function isoTime(wall: number, offset: number): string {
  const text = new Date(wall * 1000).toISOString().slice(0, 19);
  if (offset === 0) return `${text}Z`;
  const abs = Math.abs(offset);
  return `${text}${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** An IPv6 address in one of the spellings logs hold, and its value. */
function ipv6(prefix: bigint): { text: string; value: bigint } {
  const value = prefix | BigInt(int(40));
  const pieces = Array.from({ length: 8 }, (_, i) =>
    Number((value >> BigInt((7 - i) * 16)) & 0xffffn),
  );
  const short = new URL(`http://[${pieces.map((p) => p.toString(16)).join(':')}]/`).hostname;
  const spellings = [
    short.slice(1, -1),
    pieces.map((p) => p.toString(16).padStart(4, '0').toUpperCase()).join(':'),
    pieces.map((p) => p.toString(16)).join(':'),
  ];
  return { text: pick(spellings), value };
}

const DB8 = 0x20010db8n << 96n;
const DB9 = 0x20010db9n << 96n;

/** One line: a time within six hours of midnight, in some offset; a client of some kind. */
function line(): Written {
  const instant = MIDNIGHT - 6 * 3600 + int(30 * 3600);
  const offset = pick(OFFSETS);
  const wall = instant + offset * 60;
  const kind = random();
  let clientText: string;
  let client: string | null;
  let address: number | bigint | null;
  if (kind < 0.35) {
    address = (10 << 24) + int(3) * 65536 + int(200);
    clientText = v4Text(address);
  } else if (kind < 0.55) {
    address = pick([0xc0000200, 0xc6336400]) + int(20); // 192.0.2.x, 198.51.100.x
    clientText = v4Text(address);
  } else if (kind < 0.6) {
    address = (10 << 24) + int(200);
    clientText = `::ffff:${v4Text(address)}`; // an IPv4 client on a dual-stack socket
  } else if (kind < 0.75) {
    const v6 = ipv6(DB8);
    address = v6.value;
    clientText = v6.text;
  } else if (kind < 0.9) {
    const v6 = ipv6(DB9);
    address = v6.value;
    clientText = v6.text;
  } else {
    address = null;
    clientText = 'bogus-host';
  }
  client =
    address === null ? null : typeof address === 'number' ? `v4:${address}` : `v6:${address}`;
  const shape = random();
  if (shape < 0.05) {
    // No time at all: with a time filter, it cannot be placed.
    return {
      text: `${clientText} - - "GET / HTTP/1.1" 200 1`,
      client,
      address,
      instant: null,
      wall: null,
    };
  }
  if (shape < 0.15) {
    const time = random() < 0.5 ? `"time":"${isoTime(wall, offset)}"` : `"ts":${instant}`;
    // Unix seconds have no offset of their own: as written is UTC.
    const asWritten = time.startsWith('"ts"') ? instant : wall;
    return {
      text: `{"remote_addr":"${clientText}",${time},"status":200}`,
      client,
      address,
      instant,
      wall: asWritten,
    };
  }
  const ua = pick(['curl/8.10.1', 'Mozilla/5.0 (X11; Linux x86_64) "quoted"']);
  client = address === null ? null : client;
  return {
    text: `${clientText} - - [${clfTime(wall, offset)}] "GET /p?q=${int(1000)} HTTP/1.1" 200 ${int(9999)} "-" "${ua}"`,
    client,
    address,
    instant,
    wall,
  };
}

const v4Text = (n: number): string =>
  `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** The reference's filters: the window in seconds, each end as written or as an instant. */
interface Reference {
  readonly since?: { seconds: number; instant: boolean };
  readonly until?: { seconds: number; instant: boolean };
  readonly excluded?: (address: number | bigint) => boolean;
}

/** What each line comes to under `ref`: counted (and its client), malformed, or filtered. */
function verdict(l: Written, ref: Reference): 'filtered' | 'malformed' | 'counted' {
  if (ref.since || ref.until) {
    if (l.instant === null || l.wall === null) return 'malformed';
    const value = (end: { instant: boolean }) => (end.instant ? l.instant! : l.wall!);
    if (ref.since && value(ref.since) < ref.since.seconds) return 'filtered';
    if (ref.until && value(ref.until) > ref.until.seconds) return 'filtered';
  }
  if (l.address === null) return 'malformed';
  return ref.excluded?.(l.address) ? 'filtered' : 'counted';
}

function countsOf(lines: readonly Written[], ref: Reference): Counts {
  const ips = new Set<string>();
  const counts = { total: 0, ip: 0, malformed: 0, filtered: 0 };
  for (const l of lines) {
    const v = verdict(l, ref);
    if (v === 'filtered') counts.filtered++;
    else counts.total++;
    if (v === 'malformed') counts.malformed++;
    if (v === 'counted') ips.add(l.client!);
  }
  return { ...counts, ip: ips.size };
}

let dir: string;
const files = new Map<string, Written[]>();
const blockList = (): string => join(dir, 'blocked.txt');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-filters-'));
  const logs = join(dir, 'logs');
  await mkdir(logs);
  // One file big enough for --split-size 64K to cut, 40 small ones (counted many to a task),
  // and a .gz.
  files.set('big.log', Array.from({ length: 4000 }, line));
  for (let i = 0; i < 40; i++) files.set(`small-${two(i)}.log`, Array.from({ length: 15 }, line));
  files.set('zipped.log.gz', Array.from({ length: 500 }, line));
  for (const [name, lines] of files) {
    const text = `${lines.map((l) => l.text).join('\n')}\n`;
    await writeFile(join(logs, name), name.endsWith('.gz') ? gzipSync(text) : text);
  }
  await writeFile(blockList(), '# lab\n2001:db9::/120\n\n198.51.100.0/28\r\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const all = (): Written[] => [...files.values()].flat();

async function run(args: readonly string[]): Promise<Doc> {
  const result = await runCrew(['logstats', join(dir, 'logs'), '--json', ...args], {});
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Doc;
}

/** crew's numbers for each file and for all, as the reference's. */
function expectCounts(doc: Doc, ref: Reference): void {
  const byFile = Object.fromEntries(
    doc.files.map((f) => [
      basename(f.file),
      { total: f.total, ip: f.ip, malformed: f.malformed, filtered: f.filtered },
    ]),
  );
  const want = Object.fromEntries([...files].map(([name, lines]) => [name, countsOf(lines, ref)]));
  expect(byFile).toEqual(want);
  const { total, ip, malformed, filtered } = doc.all;
  expect({ total, ip, malformed, filtered }).toEqual(countsOf(all(), ref));
}

const day = (date: string, instant: boolean): Reference => {
  const first = Date.parse(`${date}T00:00:00Z`) / 1000;
  return { since: { seconds: first, instant }, until: { seconds: first + 86_399, instant } };
};

const excluded = (address: number | bigint): boolean =>
  typeof address === 'number'
    ? address >>> 24 === 10 || (address >= 0xc6336400 && address <= 0xc633640f)
    : address >> 96n === 0x20010db8n || (address >= DB9 && address <= DB9 + 255n);

describe('logstats filters', () => {
  it.each(['process', 'thread', 'inline'])(
    'counts one day as written, around midnight in every offset (%s)',
    async (runtime) => {
      const doc = await run([
        ...['--since', '2026-12-01', '--until', '2026-12-01'],
        ...['--split-size', '64K', '--runtime', runtime],
      ]);
      expect(doc.files.find((f) => f.file.endsWith('big.log'))!.ranges).toBeGreaterThan(1);
      expectCounts(doc, day('2026-12-01', false));
    },
  );

  it('counts one day in UTC with --utc, as with bounds that carry an offset', async () => {
    const want = day('2026-12-01', true);
    // The logs are such that a day in UTC and a day as written differ.
    expect(countsOf(all(), want)).not.toEqual(countsOf(all(), day('2026-12-01', false)));
    expectCounts(await run(['--since', '2026-12-01', '--until', '2026-12-01', '--utc']), want);
    expectCounts(
      await run([
        ...['--since', '2026-12-01T02:00:00+02:00', '--until', '2026-12-01T18:59:59-05:00'],
        ...['--split-size', '64K'],
      ]),
      want,
    );
  });

  it('takes one end alone, to the second', async () => {
    const since = Date.parse('2026-12-01T00:30:00Z') / 1000;
    expectCounts(await run(['--since', '2026-12-01T00:30']), {
      since: { seconds: since, instant: false },
    });
    expectCounts(await run(['--until', '2026-11-30 22:15:09Z', '--runtime', 'thread']), {
      until: { seconds: Date.parse('2026-11-30T22:15:09Z') / 1000, instant: true },
    });
  });

  it('counts a span back from now: every line with a time is in 100 years', async () => {
    expectCounts(await run(['--since', '36500d']), {
      since: { seconds: MIDNIGHT - 86_400 * 36_500, instant: true },
    });
  });

  it.each(['process', 'inline'])(
    'leaves out clients by address and block, IPv4 and IPv6, repeated and from @file (%s)',
    async (runtime) => {
      const doc = await run([
        ...['--exclude-ip', '10.0.0.0/8', '--exclude-ip', '2001:DB8::/32'],
        ...['--exclude-ip', `@${blockList()}`, '--split-size', '64K', '--runtime', runtime],
      ]);
      expectCounts(doc, { excluded });
    },
  );

  it('filters time and clients together, and groups what is left by day', async () => {
    const ref: Reference = { ...day('2026-12-01', false), excluded };
    ref.since!.seconds -= 3 * 3600; // from 21:00 the day before, as written
    const doc = await run([
      ...['--since', '2026-11-30T21:00', '--until', '2026-12-01', '--by', 'day'],
      ...['--exclude-ip', '10.0.0.0/8', '--exclude-ip', '2001:db8::/32'],
      ...['--exclude-ip', `@${blockList()}`, '--split-size', '64K'],
    ]);
    expectCounts(doc, ref);
    // Each day's rows: the lines counted, under the day they were written; no time, `unknown`.
    const groups = new Map<string, { total: number; ips: Set<string>; malformed: number }>();
    for (const l of all()) {
      const v = verdict(l, ref);
      if (v === 'filtered') continue;
      const key = l.wall === null ? 'unknown' : new Date(l.wall * 1000).toISOString().slice(0, 10);
      const g = groups.get(key) ?? { total: 0, ips: new Set<string>(), malformed: 0 };
      g.total++;
      if (v === 'malformed') g.malformed++;
      else g.ips.add(l.client!);
      groups.set(key, g);
    }
    expect(doc.groups).toEqual(
      [...groups]
        .sort(([a], [b]) => (a === 'unknown' ? 1 : b === 'unknown' ? -1 : a < b ? -1 : 1))
        .map(([key, g]) => ({ key, total: g.total, ip: g.ips.size, malformed: g.malformed })),
    );
  });

  it('filters stdin as it filters files, and shows what it left out in the table', async () => {
    const lines = files.get('big.log')!;
    const input = `${lines.map((l) => l.text).join('\n')}\n`;
    const args = ['logstats', '-', '--since', '2026-12-01', '--exclude-ip', '10.0.0.0/8'];
    const ref: Reference = {
      since: day('2026-12-01', false).since!,
      excluded: (a) => typeof a === 'number' && a >>> 24 === 10,
    };
    const json = await runCrew([...args, '--json'], { input });
    expect(json.code).toBe(0);
    const { total, ip, malformed, filtered } = (JSON.parse(json.stdout) as Doc).all;
    const want = countsOf(lines, ref);
    expect({ total, ip, malformed, filtered }).toEqual(want);
    const text = await runCrew(args, { input, env: { NO_COLOR: '1' } });
    expect(text.stdout).toMatch(/^file +total +ip +malformed +filtered$/m);
    expect(text.stdout).toMatch(
      new RegExp(
        `^all \\(1 file\\) +${want.total.toLocaleString('en-US')} +${want.ip.toLocaleString('en-US')} +${want.malformed} +${want.filtered.toLocaleString('en-US')}$`,
        'm',
      ),
    );
  });

  it('adds no filtered count when no filter is given', async () => {
    const doc = await run([]);
    expect(doc.all).not.toHaveProperty('filtered');
    expect(doc.files[0]).not.toHaveProperty('filtered');
  });

  it.each([
    [
      ['--since', 'yesterday'],
      /--since must be a date \(2026-12-01\), a date and time .* or a span back from now \(90s, 30m, 12h, 7d, 2w\); got "yesterday"/,
    ],
    [['--until', '2026-02-30'], /--until must be a date/],
    [
      ['--since', '2026-12-02', '--until', '2026-12-01'],
      /--since "2026-12-02" is after --until "2026-12-01"/,
    ],
    [
      ['--exclude-ip', '10.0.0.0/33'],
      /--exclude-ip "10.0.0.0\/33": an IPv4 prefix is at most \/32; expected an IPv4 or IPv6 address or CIDR block/,
    ],
    [['--exclude-ip', 'example.com'], /--exclude-ip "example.com": not an IP address/],
    [
      ['--exclude-ip', '@/nonexistent/list.txt'],
      /--exclude-ip @\/nonexistent\/list.txt: cannot read it/,
    ],
    [['--exclude-ip'], /Not enough arguments following: exclude-ip/],
  ])('refuses %j as a usage error (exit 2)', async (args, message) => {
    const result = await runCrew(['logstats', dir, ...args, '--json'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
