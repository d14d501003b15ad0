import { describe, expect, it } from 'vitest';
import {
  emptyRequest,
  hourOf,
  readClfRequest,
  referrerSite,
  requestTarget,
  type LineRequest,
} from '../../../src/logstats/request-fields.ts';

/** What readClfRequest makes of one line. */
function read(line: string): Omit<LineRequest, 'hour'> {
  const out = emptyRequest();
  const bytes = Buffer.from(line);
  readClfRequest(bytes, 0, bytes.length, out);
  const { hour: _, ...rest } = out;
  return rest;
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
  ])('%s', (line, want) => {
    expect(read(line)).toEqual(want);
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
