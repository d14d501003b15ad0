import { describe, expect, it } from 'vitest';
import { detectLayout, isHttpUrl, notDecodable, toJob } from '../../../src/download/rows.ts';

const INVALID = 'invalid URL: whitespace or a control character inside';
import { LayoutError } from '../../../src/download/errors.ts';

const auto = { header: 'auto' as const };

describe('detectLayout', () => {
  it.each([
    [
      'mv.csv: no header, id,name,url',
      ['1', 'Hush', 'https://x.test/a'],
      undefined,
      auto,
      { hasHeader: false, url: 2, name: 1, id: 0 },
    ],
    [
      'name,url without header',
      ['cat', 'http://x.test/a'],
      undefined,
      auto,
      { hasHeader: false, url: 1, name: 0, id: undefined },
    ],
    [
      'url only',
      ['http://x.test/a'],
      undefined,
      auto,
      { hasHeader: false, url: 0, name: undefined, id: undefined },
    ],
    [
      'header url,title',
      ['URL', 'Title'],
      ['http://x.test/a', 'cat'],
      auto,
      { hasHeader: true, url: 0, name: 1, id: undefined },
    ],
    [
      'header with image_url',
      ['id', 'caption', 'image_url'],
      ['7', 'c', 'http://x.test/a'],
      auto,
      { hasHeader: true, url: 2, name: 1, id: 0 },
    ],
    [
      'header named filename',
      ['filename', 'x', 'link'],
      ['f', 'y', 'http://x.test/a'],
      auto,
      { hasHeader: true, url: 2, name: 0, id: undefined },
    ],
    [
      'URL column found in data',
      ['a', 'b', 'c'],
      ['1', 'pic', 'https://x.test/a'],
      auto,
      { hasHeader: true, url: 2, name: 1, id: 0 },
    ],
    [
      '--url-column by index',
      ['n', 'http://x.test/a', 'http://x.test/b'],
      undefined,
      { header: 'no' as const, urlColumn: '3' },
      { url: 2, name: 1 },
    ],
    [
      '--url-column by header',
      ['pic', 'thumb'],
      ['http://x.test/a', 'http://x.test/b'],
      { header: 'auto' as const, urlColumn: 'thumb', nameColumn: '1' },
      { url: 1, name: 0 },
    ],
    [
      '--csv-header yes',
      ['a', 'b'],
      ['n', 'http://x.test/a'],
      { header: 'yes' as const },
      { hasHeader: true, url: 1, name: 0 },
    ],
  ])('%s', (_, first, second, options, expected) => {
    expect(detectLayout(first, second, options)).toMatchObject(expected);
  });

  it.each([
    ['no URL anywhere', ['a', 'b'], ['c', 'd'], auto, /no http\(s\) URL/],
    [
      'unknown header',
      ['a', 'b'],
      ['c', 'http://x.test/'],
      { header: 'auto' as const, urlColumn: 'pic' },
      /"pic" is not a column; the header has: a, b/,
    ],
    [
      'index out of range',
      ['x', 'http://x.test/'],
      undefined,
      { header: 'no' as const, urlColumn: '5' },
      /out of range: the CSV has 2 columns/,
    ],
    [
      'header name without header',
      ['x', 'http://x.test/'],
      undefined,
      { header: 'no' as const, nameColumn: 'name' },
      /has no header/,
    ],
  ])('layout error: %s', (_, first, second, options, message) => {
    expect(() => detectLayout(first, second, options)).toThrow(LayoutError);
    expect(() => detectLayout(first, second, options)).toThrow(message);
  });
});

describe('isHttpUrl and toJob', () => {
  it.each([
    ['http://x.test/a.png', true],
    ['HTTPS://x.test/a', true],
    ['  https://x.test/a  ', true],
    ['ftp://x.test/a', false],
    ['javascript:alert(1)', false],
    ['//x.test/a', false],
    ['http://', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    expect(isHttpUrl(text)).toBe(expected);
  });

  const layout = { hasHeader: false, url: 2, name: 1, id: 0 };
  it.each([
    [['1', ' cat ', ' http://x.test/a '], { row: 4, url: 'http://x.test/a', name: 'cat', id: '1' }],
    [['1', 'cat', ''], { row: 4, error: 'no URL in this row' }],
    [['1', 'cat'], { row: 4, error: 'no URL in this row' }],
    [['1', 'cat', 'file:///etc/passwd'], { row: 4, error: 'not an http(s) URL' }],
    // WHATWG URL parsing would drop the newline and tab and fetch a URL no row holds.
    [['1', 'cat', 'http://x.test/a\nhttp://x.test/b'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a\rb'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a\tb'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a b'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a\u0000b'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a\u0085b'], { error: INVALID }],
    [['1', 'cat', 'http://x.test/a\u3000b'], { error: INVALID }],
    [
      ['1', 'caf\ufffd', 'http://x.test/a'],
      { url: 'http://x.test/a', error: notDecodable('utf-8') },
    ],
    [['\ufffd', 'cat', 'http://x.test/a'], { error: notDecodable('utf-8') }],
    [['1', 'cat', 'http://x.test/\ufffd'], { error: notDecodable('utf-8') }],
  ])('%j', (record, expected) => {
    expect(toJob(record, layout, 4)).toMatchObject(expected);
  });

  it('names the encoding and --encoding in the failure of a row it cannot decode', () => {
    expect(toJob(['1', '\ufffd', 'http://x.test/a'], layout, 4, 'gb18030')).toEqual({
      row: 4,
      url: 'http://x.test/a',
      error: expect.stringMatching(/not valid gb18030 text.*--encoding/) as unknown,
    });
  });
});
