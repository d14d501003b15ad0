import { describe, expect, it } from 'vitest';
import {
  fieldAt,
  firstField,
  IP_FIELDS,
  looksLikeJson,
  parseJsonLine,
} from '../../../src/logstats/json-line.ts';

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
