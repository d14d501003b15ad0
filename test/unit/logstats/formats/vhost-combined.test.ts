import { describe, expect, it } from 'vitest';
import { combined } from '../../../../src/logstats/formats/combined.ts';
import { looksLikeVhost, vhostCombined } from '../../../../src/logstats/formats/vhost-combined.ts';
import { readLine, requestOf, rules } from './reader.ts';

const TIME = '[10/Oct/2000:23:55:36 -0700]';

describe('the vhost_combined format', () => {
  it.each([
    [`www.example.com:443 1.2.3.4 - - ${TIME} "GET / HTTP/1.1" 200 1`, '1.2.3.4'],
    [`h:80 2001:DB8::1 - frank ${TIME} "GET / HTTP/1.1" 200 1`, '2001:db8::1'],
    [`h:80 ::ffff:10.0.0.1 - - ${TIME} "GET / HTTP/1.1" 200 1\r`, '10.0.0.1'],
    [`10.0.0.1:80 203.0.113.9, 10.0.0.2 - - ${TIME} "GET /" 200 1`, '203.0.113.9'],
    [`h:80 - - - ${TIME} "GET / HTTP/1.1" 200 1`, 'malformed'],
    [`1.2.3.4 - - ${TIME} "GET / HTTP/1.1" 200 1`, 'malformed'],
    ['h:80', 'malformed'],
    ['h:80   ', 'malformed'],
    ['   ', 'blank'],
    ['', 'blank'],
  ])('reads the client of %j after the host', (line, client) => {
    expect(readLine(vhostCombined.reader(rules()), line).client).toBe(client);
  });

  it('reads time and request as combined does, with quotes and spaces in them', () => {
    const rest = `1.2.3.4 - - ${TIME} "GET /a b\\"c?q=1 HTTP/1.1" 404 - "http://Ref.example/x" "Mozilla/5.0 (X11; \\"Linux\\")"`;
    const asked = rules({ by: 'day', utc: true, panels: ['status', 'hours'] });
    const vhost = readLine(vhostCombined.reader(asked), `shop.example:443 ${rest}`).out;
    const plain = readLine(combined.reader(asked), rest).out;
    expect(vhost).toEqual(plain);
    expect(requestOf(vhost)).toEqual({
      status: 404,
      target: '/a b"c',
      sent: 0,
      referrer: 'http://Ref.example/x',
      agent: 'Mozilla/5.0 (X11; "Linux")',
      hour: 6,
    });
    expect(vhost.key).toBe('2000-10-11');
  });

  it('reads a line that came in pieces from the text kept of it', () => {
    const out = readLine(vhostCombined.reader(rules()), '').out;
    const kept = Buffer.from(`h:80 5.6.7.8 - - ${TIME} "GET / HTTP/1.1" 200 1`);
    const kind = vhostCombined
      .reader(rules())
      .readCarried({ kept, cut: true, client: Buffer.from('h:80 x') }, out);
    expect(kind).toBe(0x05060708);
  });

  it.each([
    ['www.example.com:443 1.2.3.4 - -', true],
    ['10.0.0.1:80 2001:db8::1 - -', true],
    ['h:8080 1.2.3.4', false], // nothing after the client
    ['h 1.2.3.4 - -', false], // no port
    ['h:80x 1.2.3.4 - -', false],
    ['h:123456 1.2.3.4 - -', false],
    ['a,b:80 1.2.3.4 - -', false],
    ['::1 2001:db8::1:1 frank', false], // an address first: a combined line's client
    ['2001:db8::1:80 1.2.3.4 - -', false],
    ['h:80  1.2.3.4 - -', false],
    ['h:80 - - -', false],
    ['1.2.3.4 - - [x]', false],
  ])('auto takes %j as vhost_combined: %s', (line, expected) => {
    const bytes = Buffer.from(line);
    expect(looksLikeVhost(bytes, 0, bytes.length)).toBe(expected);
  });
});
