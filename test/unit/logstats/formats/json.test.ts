import { describe, expect, it } from 'vitest';
import type { FinishedLine } from '../../../../src/logstats/carried-line.ts';
import { formatIPv4, MALFORMED } from '../../../../src/logstats/client-ip.ts';
import type { ReadRules } from '../../../../src/logstats/formats/format.ts';
import {
  fieldAt,
  firstField,
  IP_FIELDS,
  json,
  looksLikeJson,
  parseJsonLine,
} from '../../../../src/logstats/formats/json.ts';
import { UNKNOWN } from '../../../../src/logstats/timestamp.ts';
import { kindText, slot } from './reader.ts';

const rules = (given: Partial<ReadRules> = {}): ReadRules => ({
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
  ...given,
});

/** What the JSON reader makes of one line: its client as text, and its key with --by. */
function read(line: string, given: Partial<ReadRules> = {}): { client: string; key?: string } {
  const reader = json.reader(rules(given));
  const out = slot();
  const bytes = Buffer.from(line);
  const kind = reader.read(bytes, 0, bytes.length, out);
  const client = kindText(kind, out);
  return { client, ...(out.key === undefined ? {} : { key: out.key }) };
}

describe('JSON lines', () => {
  it.each([
    ['{"remote_addr":"1.2.3.4"}', true],
    ['  \t{"a":1}', true],
    ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1', false],
    ['', false],
    ['[1,2]', false],
  ])('%j looks like JSON: %s', (text, json) => {
    expect(looksLikeJson(Buffer.from(text), 0, text.length)).toBe(json);
  });

  it.each([
    ['{"a":1}', { a: 1 }],
    ['{"a":', undefined],
    ['[1]', undefined],
    ['null', undefined],
    ['"text"', undefined],
  ])('parses %j as %j', (text, doc) => {
    expect(parseJsonLine(text)).toEqual(doc);
  });

  const caddy = {
    ts: 1616407200.5,
    request: { remote_ip: '10.0.0.1', client_ip: '203.0.113.9', headers: { 'X-A': ['b'] } },
    'dotted.key': 'flat',
    dotted: { key: 'nested' },
  };

  it.each([
    ['request.remote_ip', '10.0.0.1'],
    ['request.client_ip', '203.0.113.9'],
    ['ts', 1616407200.5],
    ['dotted.key', 'flat'], // a key with a dot in it wins over the nested one
    ['request.missing', undefined],
    ['ts.deeper', undefined],
    ['constructor', undefined], // own fields only
    ['request.headers.X-A', ['b']],
  ])('finds %s', (path, value) => {
    expect(fieldAt(caddy, path)).toEqual(value);
  });

  it('takes the first common client field that has a value', () => {
    expect(firstField(caddy, IP_FIELDS)).toEqual({
      path: 'request.client_ip',
      value: '203.0.113.9',
    });
    expect(firstField({ remote_addr: '', ClientHost: '::1' }, IP_FIELDS)).toEqual({
      path: 'ClientHost',
      value: '::1',
    });
    expect(firstField({ remote_addr: null }, IP_FIELDS)).toBeUndefined();
  });
});

describe('the JSON format', () => {
  it.each([
    ['{"remote_addr":"1.2.3.4"}', '1.2.3.4'],
    ['  {"ClientHost":"2001:DB8::1"}', '2001:db8::1'],
    ['{"request":{"remote_ip":"10.0.0.1","client_ip":"203.0.113.9"}}', '203.0.113.9'],
    ['{"remote_addr":"203.0.113.9, 10.0.0.1"}', '203.0.113.9'], // an X-Forwarded-For list
    ['{"remote_addr":"::ffff:1.2.3.4"}', '1.2.3.4'],
    ['{"remote_addr":""}', 'malformed'],
    ['{"remote_addr":"  "}', 'malformed'],
    ['{"remote_addr":7}', 'malformed'],
    ['{"host":"1.2.3.4"}', 'malformed'],
    ['{"remote_addr":"1.2.3.4"', 'malformed'],
    ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1', 'malformed'],
    [' \t ', 'blank'],
    // What the classifier makes of a client that is almost a dotted quad.
    ['{"remote_addr":" 1.2.3.4 "}', '1.2.3.4'],
    ['{"remote_addr":"01.2.3.4"}', 'malformed'],
    ['{"remote_addr":"1.2.3.256"}', 'malformed'],
    ['{"remote_addr":"1.2.3"}', 'malformed'],
    ['{"remote_addr":"\uff11.2.3.4"}', 'malformed'], // a fullwidth digit
    [`{"remote_addr":"1.2.3.4,${' '.repeat(300)}"}`, '1.2.3.4'],
    [`{"remote_addr":"${'1'.repeat(300)}"}`, 'malformed'],
  ])('reads %j as %s', (line, client) => {
    expect(read(line).client).toBe(client);
  });

  it('decodes each line as UTF-8: a bad byte as U+FFFD, a byte order mark dropped', () => {
    const reader = json.reader(rules({ ipField: 'ip' }));
    const out = slot();
    const readBytes = (bytes: Buffer, start = 0, end = bytes.length): string =>
      kindText(reader.read(bytes, start, end, out), out);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(readBytes(Buffer.concat([bom, Buffer.from('{"ip":"1.2.3.4"}')]))).toBe('1.2.3.4');
    const bad = Buffer.from('{"ip":"1.2.3.4","ua":"?"}');
    bad[bad.indexOf('?')] = 0xff;
    expect(readBytes(bad)).toBe('1.2.3.4');
    const badClient = Buffer.from('{"ip":"1.2.3.4?"}');
    badClient[badClient.indexOf('?')] = 0xc3;
    expect(readBytes(badClient)).toBe('malformed');
    // Lines at offsets in one buffer, then in another, in turn.
    const two = Buffer.from('{"ip":"5.6.7.8"}\n{"ip":"9.9.9.9"}');
    const other = Buffer.from('xx{"ip":"::2"}');
    expect([
      readBytes(two, 0, 16),
      readBytes(other, 2),
      readBytes(two, 17),
      readBytes(bad),
    ]).toEqual(['5.6.7.8', '::2', '9.9.9.9', '1.2.3.4']);
  });

  it('reads the client from --ip-field only, when given', () => {
    const line = '{"remote_addr":"1.1.1.1","xff":{"first":"2.2.2.2"}}';
    expect(read(line, { ipField: 'xff.first' }).client).toBe('2.2.2.2');
    expect(read(line, { ipField: 'missing' }).client).toBe('malformed');
  });

  it('says which fields held the clients', () => {
    const reader = json.reader(rules());
    const out = slot();
    for (const line of [
      '{"remote_addr":"1.1.1.1"}',
      '{"ClientHost":"x"}',
      '{"remote_addr":"::1"}',
    ]) {
      reader.read(Buffer.from(line), 0, line.length, out);
    }
    expect([...reader.fields]).toEqual(['remote_addr', 'ClientHost']);
  });

  it.each([
    ['"2021-03-22T10:00:00+08:00"', '2021-03-22'],
    ['1616407200', '2021-03-22'],
    ['null', UNKNOWN],
    ['{"t":1}', UNKNOWN],
  ])('keys the time value %s as %s', (value, key) => {
    expect(read(`{"remote_addr":"1.1.1.1","time":${value}}`, { by: 'day' }).key).toBe(key);
  });

  it('keys a line by --time-field, and a line that is not JSON as unknown', () => {
    const line = '{"remote_addr":"1.1.1.1","time":"2021-03-22T10:00:00Z","at":"2020-01-02"}';
    expect(read(line, { by: 'day', timeField: 'at' }).key).toBe('2020-01-02');
    expect(read('{"remote_addr":', { by: 'hour' })).toEqual({ client: 'malformed', key: UNKNOWN });
    // Without --by no time is read.
    expect(read(line).key).toBeUndefined();
  });

  it('reads a line that came in pieces whole, and one longer than was kept as malformed', () => {
    const reader = json.reader(rules({ by: 'day' }));
    const out = slot();
    const kept = Buffer.from('{"remote_addr":"1.2.3.4","time":"2021-03-22T10:00:00Z"}');
    const line = (cut: boolean): FinishedLine => ({ kept, cut, client: Buffer.from('x') });
    expect(formatIPv4(reader.readCarried(line(false), out))).toBe('1.2.3.4');
    expect(out.key).toBe('2021-03-22');
    expect(reader.readCarried(line(true), out)).toBe(MALFORMED);
    expect(out.key).toBe(UNKNOWN);
  });
});

describe('the JSON reader: requests', () => {
  /** The request fields the reader finds in a line, with the panels on. */
  function request(line: string, utc = false): Record<string, unknown> {
    const reader = json.reader(rules({ panels: ['hours'], utc }));
    const out = slot();
    const bytes = Buffer.from(line);
    reader.read(bytes, 0, bytes.length, out);
    const { status, target, sent, referrer, agent, hour } = out;
    return { status, target, sent, referrer, agent, hour };
  }

  it.each([
    [
      'nginx',
      {
        remote_addr: '192.0.2.1',
        time_iso8601: '2026-12-01T23:30:00+02:00',
        request: 'GET /a b?x=1 HTTP/1.1',
        status: '404',
        body_bytes_sent: '120',
        http_referer: 'https://ref.test/',
        http_user_agent: 'curl/8 "q"',
      },
      {
        status: 404,
        target: '/a b',
        sent: 120,
        referrer: 'https://ref.test/',
        agent: 'curl/8 "q"',
        hour: 23,
      },
    ],
    [
      'nginx, $request_uri before $request',
      {
        remote_addr: '192.0.2.1',
        request_uri: '/u?x',
        request: 'GET /r HTTP/1.1',
        status: 200,
        body_bytes_sent: '-',
      },
      { status: 200, target: '/u', sent: 0, referrer: '', agent: '-', hour: -1 },
    ],
    [
      'Caddy',
      {
        ts: Date.parse('2026-12-01T05:10:00Z') / 1000 + 0.5,
        request: {
          remote_ip: '2001:db8::1',
          uri: '/c?d',
          headers: { 'User-Agent': ['Googlebot/2.1'], Referer: ['http://x.test/'] },
        },
        status: 301,
        size: 7,
      },
      {
        status: 301,
        target: '/c',
        sent: 7,
        referrer: 'http://x.test/',
        agent: 'Googlebot/2.1',
        hour: 5,
      },
    ],
    [
      'Traefik',
      {
        ClientHost: '192.0.2.9',
        time: '2026-12-01T10:00:00-05:00',
        RequestPath: '/t?u',
        DownstreamStatus: 502,
        DownstreamContentSize: 3,
        request_Referer: '-',
        'request_User-Agent': '',
      },
      { status: 502, target: '/t', sent: 3, referrer: '-', agent: '-', hour: 10 },
    ],
    [
      'odd values: a status out of range, bytes that are no count, a bare date',
      { remote_addr: '192.0.2.1', time: '2026-12-01', status: 1000, body_bytes_sent: -5, uri: '' },
      { status: -1, target: undefined, sent: 0, referrer: '', agent: '-', hour: -1 },
    ],
  ])('reads %s', (_, doc, want) => {
    expect(request(JSON.stringify(doc))).toEqual(want);
  });

  it('reads hours in UTC with --utc, and nothing from a line that is not JSON', () => {
    const line = JSON.stringify({ remote_addr: '192.0.2.1', time: '2026-12-01T01:00:00+02:00' });
    expect(request(line, true)['hour']).toBe(23);
    expect(request('{"remote_addr": "192.0.2.1"')).toEqual({
      status: -1,
      target: undefined,
      sent: 0,
      referrer: undefined,
      agent: undefined,
      hour: -1,
    });
  });
});
