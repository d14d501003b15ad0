import { describe, expect, it } from 'vitest';
import {
  ClfTexts,
  emptyRequest,
  hourOf,
  readClfRequest,
  referrerSite,
  requestTarget,
  type LineRequest,
} from '../../../src/logstats/request-fields.ts';

/**
 * What readClfRequest makes of one line, by its patterns alone, and from its bytes with a
 * cache of texts (read twice: the second from the cache); all three must agree.
 */
function read(line: string, texts = new ClfTexts()): Omit<LineRequest, 'hour'> {
  const bytes = Buffer.from(line);
  const results = [undefined, texts, texts].map((cache) => {
    const out = emptyRequest();
    readClfRequest(bytes, 0, bytes.length, out, cache);
    const { hour: _, ...rest } = out;
    return rest;
  });
  expect(results[1]).toEqual(results[0]);
  expect(results[2]).toEqual(results[0]);
  return results[0]!;
}

const CLF = '192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700]';

describe('readClfRequest', () => {
  it.each([
    [
      `${CLF} "GET /a?b=1 HTTP/1.1" 200 2326 "https://x.test/" "Mozilla/5.0 (X11)"`,
      {
        status: 200,
        target: '/a',
        sent: 2326,
        referrer: 'https://x.test/',
        agent: 'Mozilla/5.0 (X11)',
      },
    ],
    // Common: no referrer, no agent; `-` bytes are 0.
    [
      `${CLF} "GET / HTTP/1.0" 304 -`,
      { status: 304, target: '/', sent: 0, referrer: undefined, agent: undefined },
    ],
    // Quotes and spaces escaped as Apache writes them, inside the request and the agent.
    [
      `${CLF} "GET /a b\\"c?q=\\"x y\\" HTTP/1.1" 404 5 "-" "curl \\"quoted\\" \\\\ agent"`,
      { status: 404, target: '/a b"c', sent: 5, referrer: '-', agent: 'curl "quoted" \\ agent' },
    ],
    // A raw quote in the request (an old or careless server): read up to its status.
    [
      `${CLF} "GET /a"b HTTP/1.1" 400 10`,
      { status: 400, target: '/a"b', sent: 10, referrer: undefined, agent: undefined },
    ],
    // An empty agent is none: "-".
    [
      `${CLF} "GET / HTTP/1.1" 200 1 "" ""`,
      { status: 200, target: '/', sent: 1, referrer: '', agent: '-' },
    ],
    // No request line (a TLS handshake on the HTTP port), and extra fields after the agent.
    [
      `${CLF} "\\x16\\x03\\x01" 400 0 "-" "-"`,
      { status: 400, target: undefined, sent: 0, referrer: '-', agent: '-' },
    ],
    [
      `${CLF} "GET /p HTTP/1.1" 200 3 "-" "ua" "203.0.113.9" rt=0.001`,
      { status: 200, target: '/p', sent: 3, referrer: '-', agent: 'ua' },
    ],
    // Bytes past 15 digits are no count (they would not be exact).
    [
      `${CLF} "GET / HTTP/1.1" 200 1234567890123456 "-" "ua"`,
      { status: -1, target: undefined, sent: 0, referrer: undefined, agent: undefined },
    ],
    // Nothing that reads as a request: the slot stays empty.
    ['junk', { status: -1, target: undefined, sent: 0, referrer: undefined, agent: undefined }],
    [
      `${CLF} "GET / HTTP/1.1" 2000 1`,
      { status: -1, target: undefined, sent: 0, referrer: undefined, agent: undefined },
    ],
    // What the byte reader must hand to the patterns, or read as they do.
    [
      `${CLF} "GET /t HTTP/1.1" 200 7\t"-" "ua"`,
      { status: 200, target: '/t', sent: 7, referrer: undefined, agent: undefined },
    ],
    [
      `${CLF} "GET /nbsp HTTP/1.1" 200 7\u00a0"-" "ua"`,
      { status: 200, target: '/nbsp', sent: 7, referrer: undefined, agent: undefined },
    ],
    [
      `${CLF} "GET /x HTTP/1.1" 200 7x "-" "ua"`,
      { status: -1, target: undefined, sent: 0, referrer: undefined, agent: undefined },
    ],
    [
      `${CLF} "GET /lower http/1.1" 200 1 "-" "ua"`,
      { status: 200, target: '/lower', sent: 1, referrer: '-', agent: 'ua' },
    ],
    [
      `${CLF} "GET /a HTTPX" 200 1 "-" "ua"`,
      { status: 200, target: '/a HTTPX', sent: 1, referrer: '-', agent: 'ua' },
    ],
    [
      `${CLF} "GET  HTTP/1.1" 200 1 "-" "ua"`,
      { status: 200, target: undefined, sent: 1, referrer: '-', agent: 'ua' },
    ],
    [
      `${CLF} "GET ?only=query HTTP/1.1" 200 1 "-" "ua"`,
      { status: 200, target: '', sent: 1, referrer: '-', agent: 'ua' },
    ],
    [
      `${CLF} "GET /caf\u00e9/\u65e5\u672c HTTP/1.1" 200 1 "https://r\u00e9f.test/" "\u00fc"`,
      {
        status: 200,
        target: '/caf\u00e9/\u65e5\u672c',
        sent: 1,
        referrer: 'https://r\u00e9f.test/',
        agent: '\u00fc',
      },
    ],
    [
      `${CLF} "GET /a HTTP/1.1" 200 1 "-" "ends in a backslash\\`,
      { status: 200, target: '/a', sent: 1, referrer: undefined, agent: undefined },
    ],
    [
      `${CLF} "GET /a HTTP/1.1" 200 1 "-"`,
      { status: 200, target: '/a', sent: 1, referrer: undefined, agent: undefined },
    ],
    [
      `${CLF} "GET /a\\" 200 1 "-" "ua"`,
      { status: 200, target: '/a\\', sent: 1, referrer: '-', agent: 'ua' },
    ],
  ])('%s', (line, want) => {
    expect(read(line)).toEqual(want);
  });
});

describe('readClfRequest from bytes', () => {
  it('reads as the patterns do on generated awkward lines, with one cache for all', () => {
    const pieces = ['/', 'a', ' ', '"', '\\', '?', 'é', 'HTTP/1.1', '-', '\t', '1', 'x'];
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const field = (): string =>
      Array.from({ length: random(6) }, () => pieces[random(pieces.length)]).join('');
    const texts = new ClfTexts();
    for (let i = 0; i < 3000; i++) {
      const line = `${CLF} "GET ${field()} ${field()}" ${100 + random(500)} ${random(3) === 0 ? '-' : random(99999)}${field()} "${field()}" "${field()}"${field()}`;
      read(line, texts);
    }
  });
});

describe('requestTarget', () => {
  it.each([
    ['GET /a?b HTTP/1.1', '/a'],
    ['GET /a b c HTTP/2.0', '/a b c'],
    ['GET /', '/'],
    ['GET http://host/x?y HTTP/1.1', 'http://host/x'],
    ['OPTIONS * HTTP/1.1', '*'],
    ['-', undefined],
    ['GET  HTTP/1.1', undefined],
  ])('%j -> %j', (request, want) => {
    expect(requestTarget(request)).toBe(want);
  });
});

describe('referrerSite', () => {
  it.each([
    [undefined, 'direct'],
    ['', 'direct'],
    ['-', 'direct'],
    ['https://Example.COM/x?y', 'example.com'],
    ['http://user:pw@ref.org:8080/p', 'ref.org'],
    ['https://[2001:DB8::1]:443/', '[2001:db8::1]'],
    ['android-app://com.example/', 'com.example'],
    ['not a url', 'not a url'],
    ['file:///etc/passwd', 'file:///etc/passwd'],
  ])('%j -> %j', (referrer, want) => {
    expect(referrerSite(referrer)).toBe(want);
  });
});

describe('hourOf', () => {
  const at = (iso: string): number => Date.parse(`${iso}Z`) / 1000;
  it.each([
    [at('2026-12-01T00:30:00'), 120, false, 0],
    [at('2026-12-01T00:30:00'), 120, true, 22],
    [at('2026-12-01T23:59:59'), -300, true, 4],
    [at('1969-12-31T23:00:00'), 0, false, 23],
    [NaN, 0, false, -1],
  ])('%d at %d minutes (utc: %s) -> %d', (seconds, offset, utc, want) => {
    expect(hourOf(seconds, offset, utc)).toBe(want);
  });
});
