import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePanels, toLogstatsConfig } from '../../../src/commands/logstats/options.ts';
import { progressText } from '../../../src/commands/logstats/run.ts';
import { UsageError } from '../../../src/errors.ts';
import { PANEL_NAMES } from '../../../src/logstats/panels.ts';

const dir = mkdtempSync(join(tmpdir(), 'crew-filters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const list = join(dir, 'blocked.txt');
writeFileSync(list, '# office and VPN\n10.0.0.0/8\n\n  2001:DB8::/32  # lab\r\n192.0.2.7\n');
const badList = join(dir, 'bad.txt');
writeFileSync(badList, '10.0.0.0/8\n\nfe80::1%eth0\n');

describe('toLogstatsConfig', () => {
  it('starts from the defaults written in its options', () => {
    expect(toLogstatsConfig({ paths: ['logs'] })).toMatchObject({
      paths: ['logs'],
      recursive: false,
      top: 0,
      splitBytes: undefined,
      runtime: 'process',
      rules: { by: undefined, utc: false, format: 'auto' },
    });
  });

  it.each([
    [{ utc: true }, '--utc needs --by day or --by hour, --since, --until or --panels hours'],
    [{ timeField: 'ts' }, '--time-field needs --by day or --by hour'],
    [{ top: -1 }, '--top must be a whole number from 0 to 10000; got "-1"'],
    [{ splitSize: '1K' }, '--split-size must be at least 64K; got "1K"'],
    [{ ipField: 'a..b' }, '--ip-field must be a field name or a dotted path'],
    [{ html: ' ' }, '--html needs a file name for the report'],
  ])('refuses %j', (args, message) => {
    expect(() => toLogstatsConfig({ paths: ['logs'], ...args })).toThrow(message);
  });

  it('refuses --ip-field and --time-field where lines have no named fields', () => {
    expect(() => toLogstatsConfig({ paths: ['logs'], ipField: 'ip', format: 'w3c' })).toThrow(
      '--ip-field names a field of JSON lines: it needs --format json or auto, not --format w3c',
    );
    expect(() =>
      toLogstatsConfig({ paths: ['logs'], timeField: 't', by: 'day', logFormat: '%h %^' }),
    ).toThrow(
      '--time-field names a field of JSON lines: it needs --format json or auto, not --log-format',
    );
  });

  it('takes --utc and --time-field with --by', () => {
    const config = toLogstatsConfig({ paths: ['logs'], by: 'hour', utc: true, timeField: 'ts' });
    expect(config.rules).toMatchObject({ by: 'hour', utc: true, timeField: 'ts' });
  });

  it('keeps --html as given, and has none unless asked', () => {
    expect(toLogstatsConfig({ paths: ['logs'], html: 'out/r.html' }).html).toBe('out/r.html');
    expect(toLogstatsConfig({ paths: ['logs'] })).not.toHaveProperty('html');
  });
});

describe('toLogstatsConfig: filters', () => {
  it('has no filter unless one is given', () => {
    expect(toLogstatsConfig({ paths: ['logs'] }).rules.filter).toBeUndefined();
  });

  it('takes dates, times and spans, the same for every worker', () => {
    const before = Math.floor(Date.now() / 1000);
    const { filter } = toLogstatsConfig({
      paths: ['logs'],
      since: '7d',
      until: '2030-01-01',
    }).rules;
    expect(filter?.until).toEqual({
      seconds: Date.parse('2030-01-01T23:59:59Z') / 1000,
      instant: false,
    });
    const since = filter?.since;
    expect(since?.instant).toBe(true);
    expect(since!.seconds - (before - 7 * 86_400)).toBeGreaterThanOrEqual(0);
    expect(since!.seconds - (before - 7 * 86_400)).toBeLessThan(5);
  });

  it('reads dates in UTC with --utc, without --by', () => {
    const { rules } = toLogstatsConfig({ paths: ['logs'], since: '2026-12-01', utc: true });
    expect(rules.filter?.since).toEqual({
      seconds: Date.parse('2026-12-01T00:00:00Z') / 1000,
      instant: true,
    });
  });

  it('takes addresses and blocks, repeated and from @file, canonical and once each', () => {
    const { filter } = toLogstatsConfig({
      paths: ['logs'],
      excludeIp: ['192.0.2.7', `@${list}`, '2001:db8:0::/32', '::ffff:198.51.100.0/120'],
    }).rules;
    expect(filter).toEqual({
      since: undefined,
      until: undefined,
      excludeIps: ['192.0.2.7', '10.0.0.0/8', '2001:db8::/32', '198.51.100.0/24'],
    });
  });

  it.each([
    [{ since: 'yesterday' }, '--since must be a date (2026-12-01), a date and time'],
    [{ until: '2026-02-30' }, '--until must be a date (2026-12-01),'],
    [
      { since: '2026-12-02', until: '2026-12-01' },
      '--since "2026-12-02" is after --until "2026-12-01"',
    ],
    [
      { excludeIp: ['10.0.0.0/33'] },
      '--exclude-ip "10.0.0.0/33": an IPv4 prefix is at most /32; expected an IPv4 or IPv6 address or CIDR block',
    ],
    [{ excludeIp: ['10.1.0.0/8'] }, '--exclude-ip "10.1.0.0/8": it has bits set past its /8'],
    [{ excludeIp: ['example.com'] }, '--exclude-ip "example.com": not an IP address'],
    [{ excludeIp: ['@'] }, '--exclude-ip @ needs a file name after the @'],
    [{ excludeIp: ['@/dev/zero'] }, '--exclude-ip @/dev/zero: more than 16 MiB'],
    [{ excludeIp: [`@${dir}`] }, `--exclude-ip @${dir}: cannot read it`],
    [
      { excludeIp: [`@${join(dir, 'missing.txt')}`] },
      `--exclude-ip @${join(dir, 'missing.txt')}: cannot read it`,
    ],
    [
      { excludeIp: [`@${badList}`] },
      `--exclude-ip @${badList}, line 3: "fe80::1%eth0": not an IP address`,
    ],
  ])('refuses %j as a usage error', (args, message) => {
    const config = () => toLogstatsConfig({ paths: ['logs'], ...args });
    expect(config).toThrow(UsageError);
    expect(config).toThrow(message);
  });
});

describe('progressText', () => {
  const at = { files: 0, totalFiles: 8, bytes: 0, totalBytes: 800e6 };
  it.each([
    ['nothing yet', at, 0, 'counting: 0 of 8 files, 0 of 800 MB (0 MB/s)'],
    [
      'a quarter through: the rate and when it ends',
      { ...at, files: 2, bytes: 200e6 },
      2000,
      'counting: 2 of 8 files, 200 of 800 MB (100 MB/s), ETA 6 s',
    ],
    [
      'every byte read: no ETA',
      { ...at, files: 8, bytes: 800e6 },
      4000,
      'counting: 8 of 8 files, 800 of 800 MB (200 MB/s)',
    ],
    [
      'stdin only: nothing to measure against',
      { files: 0, totalFiles: 1, bytes: 0, totalBytes: 0 },
      1000,
      'counting: 0 of 1 files, 0 of 0 MB (0 MB/s)',
    ],
  ])('%s', (_, progress, elapsedMs, text) => {
    expect(progressText(progress, elapsedMs)).toBe(text);
  });
});

describe('toLogstatsConfig: panels', () => {
  it('has none unless asked, and 10 rows a list', () => {
    const config = toLogstatsConfig({ paths: ['logs'] });
    expect(config.rules.panels).toBeUndefined();
    expect(config.panelRows).toBe(10);
  });

  it.each([
    ['status', ['status']],
    ['hours, Paths,status,paths', ['status', 'paths', 'hours']],
    ['all', ['status', 'paths', 'not-found', 'referrers', 'agents', 'bytes', 'hours']],
    ['not-found,all', ['status', 'paths', 'not-found', 'referrers', 'agents', 'bytes', 'hours']],
  ])('reads --panels %j', (text, want) => {
    expect(parsePanels(text)).toEqual(want);
  });

  it.each(['', 'status,', 'path', 'status;paths'])('refuses --panels %j', (text) => {
    expect(() => parsePanels(text)).toThrow(UsageError);
  });

  it('takes --status and --ignore-crawlers as filters, and --utc for the hours panel', () => {
    const config = toLogstatsConfig({
      paths: ['logs'],
      status: '5xx,404',
      ignoreCrawlers: true,
      panels: 'hours',
      utc: true,
      panelRows: 3,
    });
    expect(config.rules.filter).toMatchObject({ statuses: ['5xx', '404'], ignoreCrawlers: true });
    expect(config.rules).toMatchObject({ panels: ['hours'], utc: true });
    expect(config.panelRows).toBe(3);
  });

  it('takes panels and the filters that read requests with --queue (answers are checked)', () => {
    const queue = 'postgres://127.0.0.1:9/crew';
    const args = { panels: 'all', status: '4xx', ignoreCrawlers: true };
    const config = toLogstatsConfig({ paths: ['logs'], queue, ...args });
    expect(config.rules.panels?.length).toBe(PANEL_NAMES.length);
    expect(config.rules.filter).toMatchObject({ statuses: ['4xx'], ignoreCrawlers: true });
  });
});

describe('toLogstatsConfig: --log-format', () => {
  it('carries a format and its time formats with the rules', () => {
    const { rules } = toLogstatsConfig({
      paths: ['logs'],
      logFormat: '%d %t %h "%r"',
      dateFormat: '%F',
      timeFormat: '%T',
    });
    expect(rules).toMatchObject({
      format: 'auto',
      logFormat: { pattern: '%d %t %h "%r"', dateFormat: '%F', timeFormat: '%T' },
    });
    const nginx = toLogstatsConfig({ paths: ['logs'], logFormat: '$remote_addr [$time_local]' });
    expect(nginx.rules.logFormat).toEqual({ pattern: '$remote_addr [$time_local]' });
  });

  it.each([
    ['COMBINED', 'combined'],
    ['vcombined', 'vhost_combined'],
    ['W3C', 'w3c'],
    ['CLOUDFRONT', 'cloudfront'],
    ['AWSALB', 'alb'],
    ['CADDY', 'json'],
  ])("takes GoAccess's name %s as the preset %s", (name, format) => {
    const { rules } = toLogstatsConfig({ paths: ['logs'], logFormat: name });
    expect([rules.format, rules.logFormat]).toEqual([format, undefined]);
  });

  it.each([
    [{ logFormat: '%h %Q' }, '--log-format "%h %Q": %Q is not a specifier crew reads (it takes'],
    [{ logFormat: '%s' }, '--log-format "%s": it names no client: %h'],
    [{ logFormat: '\x1b[2J%s' }, '--log-format "\\x1b[2J%s": it names no client'],
    [
      { logFormat: '%h', format: 'json' as const },
      '--format and --log-format both name the format',
    ],
    [{ dateFormat: '%F' }, '--date-format goes with a --log-format that has GoAccess specifiers'],
    [{ logFormat: 'COMBINED', timeFormat: '%T' }, '--time-format goes with a --log-format'],
    [{ logFormat: '%h [%x]', datetimeFormat: '%Q' }, '--datetime-format "%Q": %Q is not one'],
  ])('refuses %j as a usage error', (args, message) => {
    const config = () => toLogstatsConfig({ paths: ['logs'], ...args });
    expect(config).toThrow(UsageError);
    expect(config).toThrow(message);
  });
});
