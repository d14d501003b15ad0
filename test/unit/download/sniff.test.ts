import { describe, expect, it } from 'vitest';
import { sniff, SNIFF_BYTES } from '../../../src/download/sniff.ts';
import { contentCodings, retryAfter } from '../../../src/download/fetch.ts';
import { GIF, JPEG, PNG, WEBP } from '../../helpers/image-server.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('sniff', () => {
  it.each([
    ['png bytes', PNG, 'application/octet-stream', 'png', true],
    ['jpeg bytes', JPEG, undefined, 'jpg', true],
    ['gif bytes', GIF, 'text/plain', 'gif', true],
    ['webp bytes', WEBP, '', 'webp', true],
    ['png bytes labelled jpeg', PNG, 'image/jpeg', 'png', true],
    ['avif', bytes('\0\0\0\x1cftypavif'), undefined, 'avif', true],
    ['bmp', bytes('BM' + '\0'.repeat(20)), undefined, 'bmp', true],
    ['tiff', bytes('II*\0xxxx'), undefined, 'tif', true],
    ['svg', bytes('  <svg xmlns="http://www.w3.org/2000/svg">'), 'image/svg+xml', 'svg', true],
    ['html page', bytes('<!DOCTYPE html><html>'), 'image/png', 'html', false],
    ['html by type', bytes('hello'), 'text/html; charset=utf-8', 'html', false],
    ['json', bytes('{"a":1}'), 'application/json', 'json', false],
    // A TGA header: no magic, but binary. Sent as an image, it is believed.
    ['binary bytes, image type', bytes('\0\0\x02\0\0\0\0\0\0\0'), 'image/x-tga', 'tga', true],
    ['binary bytes, no type', bytes('\0\x01\x02\x03'), undefined, '', false],
    ['cursor', bytes('\0\0\x02\0\x01\0'), 'image/x-icon', 'cur', true],
    ['jpeg xl codestream', bytes('\xff\x0a\xfa\x7f'), undefined, 'jxl', true],
    ['jpeg xl container', bytes('\0\0\0\x0cJXL \r\n\x87\n'), undefined, 'jxl', true],
    ['jpeg 2000', bytes('\0\0\0\x0cjP  \r\n\x87\n'), undefined, 'jp2', true],
    ['netpbm: a text line, then pixels', bytes('P6\n1 1\n255\n\xff\xff\xff'), '', 'pnm', true],
    ['radiance hdr', bytes('#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n'), '', 'hdr', true],
    ['svg after a utf-8 bom', bytes('\xef\xbb\xbf<svg>'), 'image/svg+xml', 'svg', true],
    ['svg after a comment', bytes('<!-- made by hand --><svg>'), 'image/svg+xml', 'svg', true],
    // Plainly not images, whatever they were sent as.
    ['empty body', Buffer.alloc(0), 'image/gif', 'gif', false],
    ['empty body, no type', Buffer.alloc(0), undefined, '', false],
    [
      'html after a utf-8 bom',
      bytes('\xef\xbb\xbf<!DOCTYPE html><html>'),
      'image/png',
      'html',
      false,
    ],
    ['html in utf-16', Buffer.from('\ufeff<html>', 'utf16le'), 'image/png', 'txt', false],
    ['text sent as an image', bytes('Access denied\n'), 'image/png', 'txt', false],
    ['xml sent as an image', bytes('<?xml version="1.0"?><Error/>'), 'image/jpeg', 'txt', false],
    ['text in latin-1', bytes('caf\xe9 ferm\xe9'), 'image/webp', 'txt', false],
    ['text, no type', bytes('xxxx'), undefined, 'txt', false],
    ['gzip sent as an image', Buffer.from([0x1f, 0x8b, 0x08, 0x00]), 'image/png', 'gz', false],
    ['zip sent as an image', bytes('PK\x03\x04\x14\0'), 'image/jpeg', 'zip', false],
    ['zstd sent as an image', Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'image/png', 'zst', false],
    ['pdf sent as an image', bytes('%PDF-1.7\n%\xe2\xe3'), 'image/png', 'pdf', false],
    ['svg type, html bytes', bytes('<html><body>'), 'image/svg+xml', 'html', false],
    ['svg type, binary bytes', bytes('\0\x01\x02'), 'image/svg+xml', 'svg', false],
  ])('%s', (_, head, type, ext, image) => {
    expect(sniff(head, type)).toMatchObject({ ext, image });
  });

  it.each([
    [bytes('<html>'), 'text/html', 'text/html'],
    [bytes('\0\x01'), undefined, 'unknown content'],
    [Buffer.alloc(0), 'image/png', 'an empty body (sent as image/png)'],
    [bytes('\xef\xbb\xbf<html>'), 'image/png; charset=x', 'text/html (sent as image/png)'],
    [Buffer.from([0x1f, 0x8b]), 'image/png', 'gzip data (sent as image/png)'],
    [bytes('hello'), 'text/plain', 'text/plain'],
    [bytes('hello'), 'image/gif', 'text (sent as image/gif)'],
    [bytes('hello'), `image/${'x'.repeat(500)}`, `text (sent as image/${'x'.repeat(54)})`],
  ])('names what it found, and what it was sent as: %#', (head, type, said) => {
    expect(sniff(head, type).type).toBe(said);
  });

  it('looks at SNIFF_BYTES: a text prefix that long is text, a control byte in it is not', () => {
    const text = bytes('a'.repeat(SNIFF_BYTES));
    expect(sniff(text, 'image/png').image).toBe(false);
    const binary = Buffer.concat([bytes('a'.repeat(SNIFF_BYTES - 1)), Buffer.from([0])]);
    expect(sniff(binary, 'image/png').image).toBe(true);
  });

  it('looks no further than SNIFF_BYTES however much it is given', () => {
    const text = Buffer.alloc(2 ** 20, 'a');
    text[SNIFF_BYTES] = 0;
    expect(sniff(text, 'image/png')).toMatchObject({
      image: false,
      type: 'text (sent as image/png)',
    });
  });
});

describe('contentCodings', () => {
  it.each([
    [{}, []],
    [{ 'content-encoding': 'identity' }, []],
    [{ 'content-encoding': 'gzip' }, ['gzip']],
    [{ 'content-encoding': ' GZip ' }, ['gzip']],
    // Sent twice: every header counts, not the first.
    [{ 'content-encoding': ['identity', 'gzip'] }, ['gzip']],
    [{ 'content-encoding': 'identity, br' }, ['br']],
    [{ 'content-encoding': ['', 'identity,,deflate'] }, ['deflate']],
  ])('%j -> %j', (headers, codings) => {
    expect(contentCodings(headers)).toEqual(codings);
  });
});

describe('retryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['1', 1000],
    [' 30 ', 30_000],
    ['100000', 60_000],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j -> %s ms', (value, expected) => {
    expect(retryAfter(value, now)).toBe(expected);
  });
});
