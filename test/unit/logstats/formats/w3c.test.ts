import { describe, expect, it } from 'vitest';
import {
  CLOUDFRONT_FIELDS,
  cloudfront,
  urlDecoded,
} from '../../../../src/logstats/formats/cloudfront.ts';
import { fieldMap, parseFieldsLine } from '../../../../src/logstats/formats/w3c-fields.ts';
import { w3c } from '../../../../src/logstats/formats/w3c.ts';
import { readLine, requestOf, rules } from './reader.ts';

const IIS_FIELDS =
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const iis = (
  client: string,
  more: Partial<Record<'date' | 'time' | 'stem' | 'agent' | 'referrer' | 'status', string>> = {},
) =>
  [
    more.date ?? '2024-01-15',
    more.time ?? '23:45:07',
    '10.0.0.5',
    'GET',
    more.stem ?? '/index.html',
    'a=1',
    '443',
    '-',
    client,
    more.agent ?? 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)',
    more.referrer ?? 'https://Www.Example.com/from',
    more.status ?? '200',
    '0',
    '0',
    '15',
  ].join(' ');

describe('W3C extended logs (IIS)', () => {
  it('reads lines by the #Fields: line before them; directives and blanks are blank', () => {
    const reader = w3c.reader(rules());
    expect(readLine(reader, iis('1.2.3.4')).client).toBe('malformed'); // no header yet
    expect(readLine(reader, '#Software: Microsoft Internet Information Services 10.0').client).toBe(
      'blank',
    );
    expect(readLine(reader, IIS_FIELDS).client).toBe('blank');
    expect(readLine(reader, iis('1.2.3.4')).client).toBe('1.2.3.4');
    expect(readLine(reader, `${iis('2001:DB8::7')}\r`).client).toBe('2001:db8::7');
    expect(readLine(reader, iis('-')).client).toBe('malformed');
    expect(readLine(reader, iis('1.2.3.4').split(' ').slice(0, 8).join(' ')).client).toBe(
      'malformed',
    );
    expect(readLine(reader, '').client).toBe('blank');
    // A restart with other columns: the client moves.
    expect(readLine(reader, '#Fields: c-ip date time').client).toBe('blank');
    expect(readLine(reader, '5.6.7.8 2024-01-16 00:00:00').client).toBe('5.6.7.8');
    expect(readLine(reader, '#Fields: date time').client).toBe('blank');
    expect(readLine(reader, '2024-01-16 00:00:00').client).toBe('malformed');
  });

  it('reads time in UTC, status, path, bytes, referrer and agent (+ is a space)', () => {
    const reader = w3c.reader(rules({ by: 'hour', panels: ['paths', 'hours'] }));
    readLine(reader, `${IIS_FIELDS} sc-bytes`);
    const { out } = readLine(reader, `${iis('1.2.3.4', { stem: '/a%20b' })} 5120`);
    expect(requestOf(out)).toEqual({
      status: 200,
      target: '/a%20b',
      sent: 5120,
      referrer: 'https://Www.Example.com/from',
      agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
      hour: 23,
    });
    expect([out.key, out.offsetMinutes]).toEqual(['2024-01-15 23:00', 0]);
    const none = readLine(
      reader,
      `${iis('1.2.3.4', { stem: '-', agent: '-', referrer: '-', status: '-', time: 'x' })} -`,
    );
    expect(requestOf(none.out)).toEqual({
      status: -1,
      target: undefined,
      sent: 0,
      referrer: '-',
      agent: '-',
      hour: -1,
    });
    expect(none.out.key).toBe('unknown');
  });

  it('has no referrer or agent when the fields name none', () => {
    const reader = w3c.reader(rules({ panels: ['agents'] }));
    readLine(reader, '#Fields: date time c-ip sc-status');
    const { out, client } = readLine(reader, '2024-01-15 10:00:00 1.2.3.4 404');
    expect([client, out.status, out.agent, out.referrer]).toEqual([
      '1.2.3.4',
      404,
      undefined,
      undefined,
    ]);
  });

  it.each([
    ['#Fields: date  time\tc-ip ', ['date', 'time', 'c-ip']],
    ['#Fields:', []],
    ['#Field: date', undefined],
    ['#fields: date', undefined],
  ])('reads the names of %j', (line, names) => {
    expect(parseFieldsLine(line)).toEqual(names);
  });

  it('maps the columns it reads, whatever their case, and cuts no further than the last', () => {
    const map = fieldMap(['Date', 'TIME', 'x', 'C-IP', 'y']);
    expect(map.at).toMatchObject({ date: 0, time: 1, client: 3, status: -1, agent: -1 });
    expect(map.cut).toBe(4);
  });
});

describe('CloudFront logs', () => {
  const values: Record<string, string> = {
    date: '2019-12-04',
    time: '21:02:31',
    'x-edge-location': 'LAX1',
    'sc-bytes': '392',
    'c-ip': '192.0.2.100',
    'cs-method': 'GET',
    'cs(Host)': 'd111111abcdef8.cloudfront.net',
    'cs-uri-stem': '/caf%C3%A9%20menu.html',
    'sc-status': '200',
    'cs(Referer)': '-',
    'cs(User-Agent)': 'Mozilla/5.0%20(X11;%20%22Linux%22)',
  };
  const line = (given: Record<string, string> = {}) =>
    CLOUDFRONT_FIELDS.map((name) => given[name] ?? values[name] ?? '-').join('\t');

  it('reads tab-separated columns, by CloudFront documented fields before any header', () => {
    const reader = cloudfront.reader(rules({ panels: ['paths', 'agents'], by: 'day' }));
    expect(readLine(reader, '#Version: 1.0').client).toBe('blank');
    const { client, out } = readLine(reader, line());
    expect(client).toBe('192.0.2.100');
    expect(requestOf(out)).toEqual({
      status: 200,
      target: '/café menu.html',
      sent: 392,
      referrer: '-',
      agent: 'Mozilla/5.0 (X11; "Linux")',
      hour: -1,
    });
    expect(out.key).toBe('2019-12-04');
    expect(readLine(reader, line({ 'c-ip': '2600:1f18::1' })).client).toBe('2600:1f18::1');
    // A space is no separator in CloudFront's logs.
    expect(readLine(reader, line().replaceAll('\t', ' ')).client).toBe('malformed');
  });

  it('follows a #Fields: line of its own', () => {
    const reader = cloudfront.reader(rules());
    readLine(reader, '#Fields: c-ip date time');
    expect(readLine(reader, '198.51.100.1\t2019-12-04\t21:02:31').client).toBe('198.51.100.1');
  });

  it.each([
    ['a%20b', 'a b'],
    ['%E2%82%AC', '\u20ac'],
    ['100%', '100%'],
    ['%ZZ', '%ZZ'],
    ['plain', 'plain'],
  ])('decodes %j once', (text, decoded) => {
    expect(urlDecoded(text)).toBe(decoded);
  });
});
