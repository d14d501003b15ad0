/**
 * `--panels` on generated logs with awkward content: quotes and spaces inside the request and
 * the user agent, `-` for bytes, IPv6 clients in several spellings, CRLF line ends, common
 * lines (no referrer or agent), nginx, Caddy and Traefik JSON lines, malformed lines. Every
 * panel is checked against a reference the test works out from what it wrote: for one file,
 * the same file cut into ranges over several workers, many files (per file and overall), per
 * day, in UTC, and under --status and --ignore-crawlers.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isbot } from 'isbot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/logstats/report/escape.ts';
import { runCrew } from '../helpers/cli.ts';
import { seeded } from '../helpers/client-rule.ts';

/** What the test knows of a line it wrote. */
interface Line {
  readonly text: string;
  /** Its client, canonical; null when the line has none (malformed). */
  readonly client: string | null;
  readonly status: number | null;
  /** Its path (target without the query); null without a request. */
  readonly path: string | null;
  readonly sent: number;
  /** Its referring site; null when the line has no referrer field (common format). */
  readonly site: string | null;
  /** Its user agent; null when the line has no agent field. */
  readonly agent: string | null;
  /** Its time as written and its instant, in seconds; null without one. */
  readonly wall: number | null;
  readonly instant: number | null;
}

const next = seeded(3535);
const int = (n: number): number => next(n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const two = (n: number): string => String(n).padStart(2, '0');

const START = Date.parse('2026-12-01T00:00:00Z') / 1000;
const OFFSETS = [-480, -90, 0, 60, 330, 840];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Paths with quotes, spaces, percent escapes and non-ASCII; some share their counts. */
const PATHS = [
  '/',
  '/index.html',
  '/a b"c',
  '/api/v1/items',
  '/caf\u00e9',
  '/%7Euser/',
  '/wp-login.php',
  '/robots.txt',
  '/static/app.js',
  '/x\\y',
  ...Array.from({ length: 25 }, (_, i) => `/page/${i}`),
];
const STATUSES = [200, 200, 200, 200, 206, 301, 304, 400, 403, 404, 404, 410, 500, 503];
/** Referrers as written, and the site the reference takes from them with URL. */
const REFERRERS = [
  '-',
  '',
  'https://Example.com/x?y=1',
  'http://user@ref.org:8080/p',
  'https://[2001:db8::9]:443/',
  'android-app://com.example.app/',
  'not a url',
  'https://www.search.test/?q=a "b" c',
];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'curl/8.10.1 "quoted" and spaced',
  '-',
];

function site(referrer: string): string {
  if (referrer === '-' || referrer === '') return 'direct';
  try {
    return new URL(referrer).hostname.toLowerCase() || referrer;
  } catch {
    return referrer;
  }
}

function clfTime(wall: number, offset: number): string {
  const d = new Date(wall * 1000);
  const abs = Math.abs(offset);
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ` +
    `${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}${two(abs % 60)}`
  );
}

function isoTime(wall: number, offset: number): string {
  const text = new Date(wall * 1000).toISOString().slice(0, 19);
  const abs = Math.abs(offset);
  return `${text}${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** A client in some spelling, and its canonical text. */
function client(): { text: string; key: string } {
  if (int(3) > 0) {
    const text = `198.51.100.${int(40)}`;
    return { text, key: text };
  }
  const last = int(30).toString(16);
  const key = `2001:db8::${last}`;
  return { text: pick([key, `2001:DB8:0:0:0:0:0:${last.toUpperCase()}`]), key };
}

/** Apache's escaping of a quoted field. */
const quoted = (text: string): string => `"${text.replace(/(["\\])/g, '\\$1')}"`;

/** One line in one of the formats; some malformed. */
function line(): Line {
  const instant = START + int(2 * 86_400);
  const offset = pick(OFFSETS);
  const wall = instant + offset * 60;
  const { text: clientText, key } = client();
  const status = pick(STATUSES);
  const path = pick(PATHS);
  const target = int(2) === 0 ? path : `${path}?q=${int(100)}&r="x y"`;
  const sentText = int(8) === 0 ? '-' : String(int(50_000));
  const sent = sentText === '-' ? 0 : Number(sentText);
  const referrer = pick(REFERRERS);
  const agent = pick(AGENTS);
  const base = { client: key, status, path, sent, wall, instant };
  const shape = int(20);
  if (shape < 9) {
    const request = `GET ${target} HTTP/1.1`;
    return {
      ...base,
      text:
        `${clientText} - - [${clfTime(wall, offset)}] ${quoted(request)} ${status} ${sentText} ` +
        `${quoted(referrer)} ${quoted(agent)}`,
      site: site(referrer),
      agent,
    };
  }
  if (shape < 11) {
    // Common: no referrer, no agent.
    return {
      ...base,
      text: `${clientText} - - [${clfTime(wall, offset)}] "HEAD ${target} HTTP/1.0" ${status} ${sentText}`,
      site: null,
      agent: null,
    };
  }
  if (shape < 14) {
    const doc = {
      remote_addr: clientText,
      time_iso8601: isoTime(wall, offset),
      request: `POST ${target} HTTP/2.0`,
      status: String(status),
      body_bytes_sent: sentText === '-' ? '0' : sentText,
      http_referer: referrer,
      http_user_agent: agent,
    };
    return { ...base, text: JSON.stringify(doc), site: site(referrer), agent };
  }
  if (shape < 16) {
    // Caddy: Unix seconds (so its hour as written is UTC's), headers as lists, none when absent.
    const headers: Record<string, string[]> = {};
    if (referrer !== '-' && referrer !== '') headers['Referer'] = [referrer];
    if (agent !== '-') headers['User-Agent'] = [agent];
    const doc = {
      ts: instant + 0.25,
      request: { remote_ip: clientText, uri: target, headers },
      status,
      size: sent,
    };
    return { ...base, wall: instant, text: JSON.stringify(doc), site: site(referrer), agent };
  }
  if (shape < 18) {
    const doc = {
      ClientHost: clientText,
      time: isoTime(wall, offset),
      RequestPath: target,
      DownstreamStatus: status,
      DownstreamContentSize: sent,
      request_Referer: referrer,
      'request_User-Agent': agent,
    };
    return { ...base, text: JSON.stringify(doc), site: site(referrer), agent };
  }
  if (shape < 19) {
    // No client: malformed, in no panel.
    return {
      ...base,
      client: null,
      text: `bogus-host - - [${clfTime(wall, offset)}] "GET ${target} HTTP/1.1" ${status} 1 "-" "-"`,
      site: 'direct',
      agent: '-',
    };
  }
  return {
    client: null,
    status: null,
    path: null,
    sent: 0,
    site: null,
    agent: null,
    wall: null,
    instant: null,
    text: 'junk that is no request at all',
  };
}

type Keyed = { key: string; requests: number };
type PathRow = Keyed & { bytes: number; clients: number };

interface Panels {
  status: { codes: Keyed[]; classes: Keyed[] };
  paths: PathRow[];
  paths_distinct: number;
  not_found: PathRow[];
  not_found_distinct: number;
  referrers: Keyed[];
  referrers_distinct: number;
  agents: (Keyed & { crawler: boolean })[];
  agents_distinct: number;
  crawlers: { requests: number; share: number };
  bytes: number;
  hours: Keyed[];
}

interface Row {
  total: number;
  ip: number;
  malformed: number;
  filtered?: number;
  panels: Panels;
}

interface Doc {
  files: (Row & { file: string; ranges: number })[];
  all: Row;
  groups?: (Row & { key: string })[];
}

/** The filters as the reference applies them. */
interface Filters {
  readonly statuses?: (status: number) => boolean;
  readonly ignoreCrawlers?: boolean;
}

const left = (l: Line, f: Filters): boolean =>
  (f.statuses !== undefined && (l.status === null || !f.statuses(l.status))) ||
  (f.ignoreCrawlers === true && l.agent !== null && isbot(l.agent));

const ROWS = 5;

/** The `rows` busiest of `map`, most requests first, ties by key. */
function busiest<V extends { requests: number }>(map: Map<string, V>, rows = ROWS): [string, V][] {
  return [...map]
    .sort(([ka, a], [kb, b]) => b.requests - a.requests || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .slice(0, rows);
}

function bump<V>(map: Map<string, V>, key: string, make: () => V, add: (v: V) => void): void {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  add(value);
}

/** The panels of `lines`, as crew should show them. */
function reference(lines: readonly Line[], f: Filters = {}, utc = false): Panels {
  const codes = new Map<number, number>();
  type P = { requests: number; bytes: number; clients: Set<string> };
  const paths = new Map<string, P>();
  const notFound = new Map<string, P>();
  const sites = new Map<string, { requests: number }>();
  const agents = new Map<string, { requests: number }>();
  const hours = new Array<number>(24).fill(0);
  let bytes = 0;
  for (const l of lines) {
    if (left(l, f) || l.client === null) continue;
    if (l.status !== null) codes.set(l.status, (codes.get(l.status) ?? 0) + 1);
    const addPath = (map: Map<string, P>): void =>
      bump(
        map,
        l.path!,
        () => ({ requests: 0, bytes: 0, clients: new Set<string>() }),
        (p) => {
          p.requests++;
          p.bytes += l.sent;
          p.clients.add(l.client!);
        },
      );
    if (l.path !== null) addPath(paths);
    if (l.path !== null && l.status! >= 400 && l.status! < 500) addPath(notFound);
    if (l.site !== null)
      bump(
        sites,
        l.site,
        () => ({ requests: 0 }),
        (s) => s.requests++,
      );
    if (l.agent !== null)
      bump(
        agents,
        l.agent,
        () => ({ requests: 0 }),
        (a) => a.requests++,
      );
    bytes += l.sent;
    const at = utc ? l.instant : l.wall;
    if (at !== null) hours[Math.floor((at % 86_400) / 3600)]!++;
  }
  const classes = new Map<string, number>();
  const sorted = [...codes].sort(([a], [b]) => a - b);
  for (const [code, n] of sorted) {
    classes.set(
      `${Math.floor(code / 100)}xx`,
      (classes.get(`${Math.floor(code / 100)}xx`) ?? 0) + n,
    );
  }
  const pathRows = (map: Map<string, P>): PathRow[] =>
    busiest(map).map(([key, p]) => ({
      key,
      requests: p.requests,
      bytes: p.bytes,
      clients: p.clients.size,
    }));
  const agentTotal = [...agents.values()].reduce((n, a) => n + a.requests, 0);
  const crawlers = [...agents]
    .filter(([agent]) => isbot(agent))
    .reduce((n, [, a]) => n + a.requests, 0);
  return {
    status: {
      codes: sorted.map(([code, requests]) => ({ key: String(code), requests })),
      classes: [...classes].map(([key, requests]) => ({ key, requests })),
    },
    paths: pathRows(paths),
    paths_distinct: paths.size,
    not_found: pathRows(notFound),
    not_found_distinct: notFound.size,
    referrers: busiest(sites).map(([key, s]) => ({ key, requests: s.requests })),
    referrers_distinct: sites.size,
    agents: busiest(agents).map(([key, a]) => ({ key, requests: a.requests, crawler: isbot(key) })),
    agents_distinct: agents.size,
    crawlers: { requests: crawlers, share: agentTotal === 0 ? 0 : crawlers / agentTotal },
    bytes,
    hours: hours.map((requests, hour) => ({ key: two(hour), requests })),
  };
}

let dir: string;
const files = new Map<string, Line[]>();
const text = (lines: readonly Line[]): string =>
  // Every seventh line ends in CRLF.
  lines.map((l, i) => `${l.text}${i % 7 === 3 ? '\r' : ''}\n`).join('');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-panels-'));
  await mkdir(join(dir, 'logs'));
  // One file big enough for --split-size 64K to cut into many ranges, and small ones that
  // are counted many to a task.
  files.set('big.log', Array.from({ length: 4000 }, line));
  for (let i = 0; i < 12; i++) files.set(`small-${two(i)}.log`, Array.from({ length: 40 }, line));
  for (const [name, lines] of files) await writeFile(join(dir, 'logs', name), text(lines));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const all = (): Line[] => [...files.values()].flat();

async function run(paths: readonly string[], args: readonly string[]): Promise<Doc> {
  const result = await runCrew(
    ['logstats', ...paths, '--json', '--panels', 'all', '--panel-rows', String(ROWS), ...args],
    { timeoutMs: 120_000 },
  );
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Doc;
}

const big = (): string => join(dir, 'logs', 'big.log');

describe('logstats --panels', () => {
  it('counts every panel of one file exactly, whole and cut into ranges on 3 workers', async () => {
    const want = reference(files.get('big.log')!);
    // The logs are such that the lists are cut, and have something in each row.
    expect(want.paths_distinct).toBeGreaterThan(ROWS);
    expect(want.crawlers.requests).toBeGreaterThan(0);
    const whole = await run([big()], ['--workers', '1']);
    expect(whole.files[0]!.panels).toEqual(want);
    expect(whole.all.panels).toEqual(want);
    const cut = await run([big()], ['--split-size', '64K', '--workers', '3']);
    expect(cut.files[0]!.ranges).toBeGreaterThan(4);
    expect(cut.all.panels).toEqual(want);
    expect(cut.files[0]!.panels).toEqual(want);
  });

  it.each(['process', 'thread'])(
    'counts each file and all files exactly, small files many to a task (%s)',
    async (runtime) => {
      const doc = await run(
        [join(dir, 'logs')],
        ['--split-size', '64K', '--workers', '2', '--runtime', runtime],
      );
      const byFile = Object.fromEntries(doc.files.map((f) => [basename(f.file), f.panels]));
      expect(byFile).toEqual(
        Object.fromEntries([...files].map(([name, lines]) => [name, reference(lines)])),
      );
      expect(doc.all.panels).toEqual(reference(all()));
    },
  );

  it('counts a .gz and stdin as it counts the plain file', async () => {
    const lines = files.get('big.log')!;
    const gz = join(dir, 'big.log.gz');
    await writeFile(gz, gzipSync(text(lines)));
    expect((await run([gz], [])).all.panels).toEqual(reference(lines));
    const result = await runCrew(
      ['logstats', '-', '--json', '--panels', 'all', '--panel-rows', String(ROWS)],
      { input: text(lines) },
    );
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Doc).all.panels).toEqual(reference(lines));
  });

  it('counts each day on its own with --by day, and hours in UTC with --utc', async () => {
    const doc = await run([join(dir, 'logs')], ['--by', 'day', '--utc', '--split-size', '64K']);
    expect(doc.all.panels).toEqual(reference(all(), {}, true));
    const days = new Map<string, Line[]>();
    for (const l of all()) {
      const key =
        l.instant === null ? 'unknown' : new Date(l.instant * 1000).toISOString().slice(0, 10);
      bump(
        days,
        key,
        () => [],
        (lines) => lines.push(l),
      );
    }
    expect(doc.groups!.map((g) => g.key)).toEqual([...days.keys()].sort());
    for (const group of doc.groups!) {
      expect(group.panels).toEqual(reference(days.get(group.key)!, {}, true));
    }
  });

  it('counts only the status codes asked for; the rest are filtered', async () => {
    const statuses = (s: number): boolean => (s >= 400 && s < 500) || s === 500;
    const filters = { statuses };
    const doc = await run([join(dir, 'logs')], ['--status', '4xx,500', '--split-size', '64K']);
    expect(doc.all.panels).toEqual(reference(all(), filters));
    const filtered = all().filter((l) => left(l, filters)).length;
    expect(doc.all.filtered).toBe(filtered);
    expect(doc.all.total).toBe(all().length - filtered);
    expect(doc.all.malformed).toBe(
      all().filter((l) => !left(l, filters) && l.client === null).length,
    );
  });

  it('leaves out crawlers with --ignore-crawlers', async () => {
    const filters = { ignoreCrawlers: true };
    const doc = await run([big()], ['--ignore-crawlers']);
    const lines = files.get('big.log')!;
    expect(doc.all.panels).toEqual(reference(lines, filters));
    expect(doc.all.panels.crawlers.requests).toBe(0);
    expect(doc.all.filtered).toBe(lines.filter((l) => left(l, filters)).length);
  });

  it('shows the overall panels in the table, hostile keys escaped', async () => {
    const file = join(dir, 'hostile.log');
    await writeFile(
      file,
      '192.0.2.1 - - [01/Dec/2026:10:00:00 +0000] "GET /\x1b[2J\x07evil HTTP/1.1" 404 5 "-" "agent\x1b]0;title\x07"\n',
    );
    const result = await runCrew(['logstats', file, '--panels', 'paths,agents,not-found']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\x1b');
    expect(result.stdout).toContain('/\\x1b[2J\\x07evil');
    expect(result.stdout).toMatch(/user agents: all files, crawlers \d+ \(\d+\.\d%\)/);
  });
});

describe('logstats --panels with --html', () => {
  it('writes every panel row of --json into the page, as text', async () => {
    const report = join(dir, 'report.html');
    const doc = await run([big()], ['--html', report]);
    const html = await readFile(report, 'utf8');
    const { panels } = doc.all;
    const keys = [
      ...panels.paths,
      ...panels.not_found,
      ...panels.referrers,
      ...panels.agents,
      ...panels.status.codes,
    ].map((row) => row.key);
    expect(keys.length).toBeGreaterThan(4 * ROWS);
    for (const key of keys) expect(html).toContain(`>${escapeHtml(key)}<`);
  });
});

describe('logstats --panels: bad values', () => {
  it.each([
    [['--panels', 'paths,nope'], /--panels takes status, paths, not-found, .* or all/],
    [['--panels', ''], /--panels/],
    [['--panel-rows', '0'], /--panel-rows must be a whole number from 1/],
    [['--status', '99x'], /--status must be status codes \(404\) and classes \(4xx\)/],
    [['--status', '4xx,,500'], /--status must be .*an empty item/],
    [['--status', '600'], /--status must be/],
  ])('refuses %j (exit 2)', async (args, message) => {
    const result = await runCrew(['logstats', big(), ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
